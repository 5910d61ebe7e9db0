"""One row per comment, with the columns of ``comments.csv`` (discourse/report/writers.py), typed.

The columns are the CSV's, in its order: ``thread_id``, ``id``, ``author``, ``author_inferred``,
``parent_id``, ``parent_confidence``, ``parent_evidence``, ``created``, ``toxicity``, one ``tox_<label>``
per toxicity label, ``toxicity_model``, ``toxicity_evidence``, ``stance``, one ``stance_<label>`` per
stance label, ``stance_target_id``, ``stance_model``, ``stance_evidence``, ``text``. Label columns
are the union over the exported threads, in first-seen order (for one thread: exactly its CSV's).

Unlike the CSV, values keep their types: a missing value is None (the CSV's empty cell), numbers are
floats, ``author_inferred`` a bool, the three evidence columns lists of strings (the CSV joins them
with "; "), and text is verbatim (no formula-neutralising ``'``: that guards spreadsheets only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from discourse.exports.source import AnalysedThread

LIST_COLUMNS = ("parent_evidence", "toxicity_evidence", "stance_evidence")
BOOL_COLUMNS = ("author_inferred",)
STRING_COLUMNS = (
    "thread_id",
    "id",
    "author",
    "parent_id",
    "created",
    "toxicity_model",
    "stance",
    "stance_target_id",
    "stance_model",
    "text",
)


@dataclass(frozen=True)
class CommentTable:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def kind(column: str) -> str:
    """A column's type: ``str``, ``bool``, ``list`` (of str) or ``float``."""
    if column in STRING_COLUMNS:
        return "str"
    if column in BOOL_COLUMNS:
        return "bool"
    if column in LIST_COLUMNS:
        return "list"
    return "float"


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def labels(threads: Iterable[AnalysedThread]) -> tuple[list[str], list[str]]:
    """The toxicity and stance label names of ``threads``, each in first-seen order."""
    tox: dict[str, None] = {}
    stance: dict[str, None] = {}
    for t in threads:
        for c in t.comments:
            for label in _obj(_obj(c.get("toxicity")).get("labels")):
                tox.setdefault(str(label), None)
            for label in _obj(_obj(c.get("stance")).get("scores")):
                stance.setdefault(str(label), None)
    return list(tox), list(stance)


def columns(tox_labels: list[str], stance_labels: list[str]) -> tuple[str, ...]:
    return (
        "thread_id",
        "id",
        "author",
        "author_inferred",
        "parent_id",
        "parent_confidence",
        "parent_evidence",
        "created",
        "toxicity",
        *(f"tox_{x}" for x in tox_labels),
        "toxicity_model",
        "toxicity_evidence",
        "stance",
        *(f"stance_{x}" for x in stance_labels),
        "stance_target_id",
        "stance_model",
        "stance_evidence",
        "text",
    )


def thread_rows(t: AnalysedThread, tox_labels: list[str], stance_labels: list[str]) -> list[tuple[Any, ...]]:
    """One thread's rows, in document order, for :func:`columns` of the same labels."""
    thread_id = str(t.thread.get("id") or "")
    rows = []
    for c in t.comments:
        tox, st = _obj(c.get("toxicity")), _obj(c.get("stance"))
        tox_scores, st_scores = _obj(tox.get("labels")), _obj(st.get("scores"))
        rows.append(
            (
                thread_id,
                c["id"],
                _str(c.get("author")),
                bool(c.get("author_inferred")),
                _str(c.get("parent_id")),
                _float(c.get("parent_confidence")),
                _strs(c.get("parent_evidence")),
                _str(c.get("created")),
                _float(tox.get("score")),
                *(_float(tox_scores.get(x)) for x in tox_labels),
                _str(tox.get("model")),
                _strs(tox.get("evidence")),
                _str(st.get("label")),
                *(_float(st_scores.get(x)) for x in stance_labels),
                _str(st.get("target_id")),
                _str(st.get("model")),
                _strs(st.get("evidence")),
                c["text"],
            )
        )
    return rows


def comment_table(threads: Iterable[AnalysedThread]) -> CommentTable:
    """The comments of ``threads`` (iterated twice), in thread then document order."""
    tox_labels, stance_labels = labels(threads)
    rows = [row for t in threads for row in thread_rows(t, tox_labels, stance_labels)]
    return CommentTable(columns(tox_labels, stance_labels), tuple(rows))

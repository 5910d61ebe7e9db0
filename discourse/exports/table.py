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

    def kind(self, column: str) -> str:
        """``str``, ``bool``, ``list`` (of str) or ``float``."""
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


def _labels(threads: Iterable[AnalysedThread], layer: str, key: str) -> list[str]:
    seen: dict[str, None] = {}
    for t in threads:
        for c in t.comments:
            for label in _obj(_obj(c.get(layer)).get(key)):
                seen.setdefault(str(label), None)
    return list(seen)


def comment_table(threads: Iterable[AnalysedThread]) -> CommentTable:
    """The comments of ``threads``, in thread then document order."""
    threads = list(threads)
    tox_labels = _labels(threads, "toxicity", "labels")
    stance_labels = _labels(threads, "stance", "scores")
    columns = (
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
    rows = []
    for t in threads:
        thread_id = str(t.thread.get("id") or "")
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
    return CommentTable(columns, tuple(rows))

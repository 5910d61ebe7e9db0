"""The per-comment table of an analysis: the columns and typed rows that ``comments.csv`` writes
as text and the Parquet export writes as typed columns (one definition for both).

Rows are read from ``analysis.json``'s shape (a mapping per comment) defensively, so an export of a
hand-edited or damaged file gets None for a value of the wrong type rather than a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def labels_of(comments: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The toxicity and stance label names of ``comments``, each in first-seen order."""
    tox: dict[str, None] = {}
    stance: dict[str, None] = {}
    for c in comments:
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


def comment_rows(
    thread_id: str, comments: Iterable[Mapping[str, Any]], tox_labels: list[str], stance_labels: list[str]
) -> list[tuple[Any, ...]]:
    """One typed row per comment, in document order, for :func:`columns` of the same labels: a
    missing value is None, numbers floats, ``author_inferred`` a bool, evidence lists of strings."""
    return list(iter_comment_rows(thread_id, comments, tox_labels, stance_labels))


def iter_comment_rows(
    thread_id: str, comments: Iterable[Mapping[str, Any]], tox_labels: list[str], stance_labels: list[str]
) -> Iterator[tuple[Any, ...]]:
    """:func:`comment_rows` one at a time (a huge thread's table is never held whole)."""
    for c in comments:
        tox, st = _obj(c.get("toxicity")), _obj(c.get("stance"))
        tox_scores, st_scores = _obj(tox.get("labels")), _obj(st.get("scores"))
        yield (
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

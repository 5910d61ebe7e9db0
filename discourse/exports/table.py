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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from discourse.exports.source import AnalysedThread
from discourse.report.table import columns, comment_rows, labels_of

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


def labels(threads: Iterable[AnalysedThread]) -> tuple[list[str], list[str]]:
    """The toxicity and stance label names of ``threads``, each in first-seen order."""
    return labels_of(c for t in threads for c in t.comments)


def thread_rows(t: AnalysedThread, tox_labels: list[str], stance_labels: list[str]) -> list[tuple[Any, ...]]:
    """One thread's rows, in document order, for :func:`columns` of the same labels."""
    return comment_rows(str(t.thread.get("id") or ""), t.comments, tox_labels, stance_labels)


def comment_table(threads: Iterable[AnalysedThread]) -> CommentTable:
    """The comments of ``threads`` (iterated twice), in thread then document order."""
    tox_labels, stance_labels = labels(threads)
    rows = [row for t in threads for row in thread_rows(t, tox_labels, stance_labels)]
    return CommentTable(columns(tox_labels, stance_labels), tuple(rows))


__all__ = ["CommentTable", "columns", "comment_table", "kind", "labels", "thread_rows"]

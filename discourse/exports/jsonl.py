"""JSONL: one comment per line, as analysis.json has it, with its thread and its attention item.

Each line is one JSON object (UTF-8, not ASCII-escaped): ``thread_id``, ``thread_title`` and
``thread_folder`` (the thread folder's name, unique within an output folder), then every key of the
comment in analysis.json in its order (``id``, ``author``, ..., ``text``, ``toxicity``, ``stance``, and
any plug-in layer), then ``attention``: the comment's attention item (priority, codes, target,
reasons) or null when it is not listed, and ``flagged`` (priority at or above the thread's flag
threshold). Lines end with "\\n"; a line break inside a text is escaped by JSON, so every line is
one comment.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from discourse.exports.source import AnalysedThread, number


def comment_lines(threads: Iterable[AnalysedThread]) -> Iterator[str]:
    for t in threads:
        items = {str(a.get("comment_id")): a for a in t.list_of("attention")}
        flag = t.flag_threshold()
        for c in t.comments:
            item = items.get(c["id"])
            row: dict[str, Any] = {"thread_id": t.thread_id, "thread_title": t.title, "thread_folder": t.name}
            row.update(c)
            row["attention"] = dict(item) if item is not None else None
            row["flagged"] = item is not None and number(item.get("priority"), 0.0) >= flag
            yield json.dumps(row, ensure_ascii=False) + "\n"


def write_jsonl(threads: Iterable[AnalysedThread], path: Path) -> tuple[int, int]:
    """Write the lines to ``path``, one thread at a time; return (threads, comments)."""
    n_threads = n_comments = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        for t in threads:
            fh.writelines(comment_lines([t]))
            n_threads += 1
            n_comments += len(t.comments)
    return n_threads, n_comments

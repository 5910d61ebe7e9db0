"""Damaged analysis.json files (any JSON where a field should be) never crash an export or the
digest: each is read with what it has, or skipped and named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discourse.commands.digest_runs import thread_summary
from discourse.core.errors import DiscourseError
from discourse.exports.convokit import corpus_files
from discourse.exports.gexf import write_gexf
from discourse.exports.jsonl import comment_lines
from discourse.exports.source import read_analyses
from discourse.exports.table import comment_table

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
GOOD: dict[str, Any] = {
    "schema_version": "1.1",
    "thread": {"id": "t", "title": "T", "article": "", "source_format": "jsonl"},
    "comments": [
        {"id": "c1", "author": "a", "parent_id": None, "parent_confidence": 1.0, "parent_evidence": [], "text": "x",
         "toxicity": {"score": 0.9, "labels": {"toxic": 0.9}, "model": "m", "evidence": ["x"]},
         "stance": {"label": "agree", "scores": {"agree": 1.0}, "target_id": None, "model": "s", "evidence": []}},
        {"id": "c2", "author": None, "parent_id": "c1", "parent_confidence": 0.5, "parent_evidence": ["e"], "text": "y",
         "toxicity": None, "stance": None},
    ],
    "chains": [{"participants": ["a", "b"], "comment_ids": ["c1", "c2"], "outcome": "escalated", "escalation": 0.4}],
    "attention": [{"comment_id": "c1", "priority": 0.9, "codes": ["INSULT"], "target": None, "reasons": []}],
    "config": {"stages": {"attention.v1": {"flag_threshold": 0.5}}},
}  # fmt: skip
PATHS = [
    ("thread",), ("thread", "id"), ("thread", "title"), ("comments", 0, "author"), ("comments", 0, "toxicity"),
    ("comments", 0, "toxicity", "labels"), ("comments", 0, "toxicity", "score"), ("comments", 0, "stance"),
    ("comments", 0, "stance", "scores"), ("comments", 1, "parent_id"), ("comments", 1, "parent_evidence"),
    ("comments", 0, "parent_confidence"), ("comments", 0, "created"), ("chains",), ("chains", 0),
    ("chains", 0, "participants"), ("chains", 0, "comment_ids"), ("chains", 0, "escalation"), ("attention",),
    ("attention", 0), ("attention", 0, "priority"), ("attention", 0, "codes"), ("config",), ("comments", 0),
    ("comments",), ("schema_version",),
]  # fmt: skip


def _damaged(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(GOOD))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PATHS), value=_json)
def test_damaged_fields_never_crash(tmp_path: Path, path: tuple[Any, ...], value: Any) -> None:
    folder = tmp_path / "out" / "t-1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "analysis.json").write_text(json.dumps(_damaged(path, value)), encoding="utf-8")
    found = read_analyses(tmp_path / "out")
    threads = list(found)
    assert threads or found.skipped  # read with what it has, or skipped and named
    try:
        comment_table(threads)
        list(comment_lines(threads))
        corpus_files(threads)
        write_gexf(threads, tmp_path / "g.gexf")
        for t in threads:
            thread_summary(t)
    except DiscourseError:
        pass  # a one-line error is fine; a traceback is not

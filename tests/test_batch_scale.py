"""A batch over one big file costs the state file O(threads), not O(threads²): the threads
written of a file part-way are listed when the state is saved, not again after every thread
(a JSONL of 20,000 threads would otherwise build 200 million list items)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import discourse.batch as batch
from discourse.batch import STATE_FILE, run_batch
from discourse.core.config import load_config


def test_one_file_of_many_threads_lists_each_thread_a_bounded_number_of_times(
    tmp_path: Path, tiny_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 120
    rows = []
    for k in range(n):
        rows += [
            {"thread_id": f"th{k}", "id": "1", "parent_id": None, "author": "Ann", "text": f"The plan {k} is bad."},
            {"thread_id": f"th{k}", "id": "2", "parent_id": "1", "author": "Bob", "text": "Ann, I disagree."},
        ]
    src = tmp_path / "big.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    listed = {"entries": 0}
    real = batch._Run.record

    def counting(self: Any, f: Any) -> dict[str, Any]:
        rec = real(self, f)
        listed["entries"] += len(rec["threads"])
        return rec

    monkeypatch.setattr(batch._Run, "record", counting)
    monkeypatch.setattr(batch, "SAVE_EVERY_S", 1e9)  # no timed saves: the count does not depend on speed
    res = run_batch([src], tmp_path / "out", load_config(tiny_config), group_texts=16)  # many groups
    assert len(res.processed) == 1
    state = json.loads((tmp_path / "out" / STATE_FILE).read_text(encoding="utf-8"))
    assert [e["thread_id"] for e in state[str(src.resolve())]["threads"]] == [f"th{k}" for k in range(n)]
    assert listed["entries"] <= 2 * n  # each thread listed about once (at the end), not n²/2 times


def test_the_compact_state_writes_what_json_dumps_writes() -> None:
    """Finished files' records are kept as their JSON text; the state file is unchanged by it."""
    entry = {"folder": "t-1", "thread_id": "t", "title": "Zoë «1»", "source": "/x/ä.jsonl", "seconds": 0.5}
    data: dict[str, Any] = {
        "/b/done.jsonl": {"key": "k1", "status": "ok", "threads": [entry, {**entry, "thread_id": "u"}], "total": 2},
        "/a/half.jsonl": {"key": "k2", "status": "partial", "threads": [entry], "total": 3},
        "/c/bad.txt": {"key": None, "status": "failed", "error": "cannot read", "threads": []},
    }
    state = batch._State(json.loads(json.dumps(data)))
    assert set(state.frozen) == {"/b/done.jsonl", "/a/half.jsonl"} and set(state.live) == {"/c/bad.txt"}
    assert state.dumps() == json.dumps(data, indent=1, sort_keys=True)
    assert all(state.get(src) == rec for src, rec in data.items()) and state.get("/nope") is None

    state["/a/half.jsonl"] = data["/a/half.jsonl"] = {**data["/a/half.jsonl"], "status": "ok", "total": 1}
    state.freeze("/a/half.jsonl")
    state["/d/new.txt"] = data["/d/new.txt"] = {"key": "k3", "status": "partial", "threads": [], "total": 1}
    assert state.dumps() == json.dumps(data, indent=1, sort_keys=True)
    assert batch._State({}).dumps() == json.dumps({}, indent=1, sort_keys=True)


def test_a_flat_threads_parsed_form_is_let_go_once_the_reply_graph_replaces_it(
    tmp_path: Path, tiny_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flat thread becomes another Thread (the reply graph's); the parsed one (0.15 GB at
    100,000 comments) is held by nothing once that is done: not the batch, its job or the engine."""
    import gc
    import weakref
    from dataclasses import fields

    from discourse.core.thread import Thread
    from discourse.testing import DEBATE

    for k in range(2):
        (tmp_path / f"flat{k}.txt").write_text(DEBATE, encoding="utf-8")
    parsed: list[weakref.ref] = []
    real_load, real_write = batch.load_threads, batch._write

    class Watched(Thread):  # a Thread that can be watched (Thread itself has slots, no weak references)
        pass

    def load(path: Any) -> Any:
        threads = [Watched(**{f.name: getattr(t, f.name) for f in fields(t)}) for t in real_load(path)]
        parsed.extend(weakref.ref(t) for t in threads)
        return threads

    def write(result: Any, *args: Any) -> dict[str, Any]:
        gc.collect()
        assert result.analysis.thread.comments and result.analysis.thread is not parsed[-1]()
        assert parsed[-1]() is None  # the thread being written was parsed last
        return real_write(result, *args)

    monkeypatch.setattr(batch, "load_threads", load)
    monkeypatch.setattr(batch, "_write", write)
    res = run_batch(sorted(tmp_path.glob("*.txt")), tmp_path / "out", load_config(tiny_config))
    assert len(res.processed) == 2 and len(parsed) == 2
    assert json.loads((tmp_path / "out" / res.entries[0]["folder"] / "analysis.json").read_text("utf-8"))["comments"]


def test_the_models_go_before_the_last_group_is_written_not_before(
    tmp_path: Path, tiny_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's last group is written with the models let go (one huge thread is written with
    0.5 GB more free); every earlier group is written with them kept for the next."""
    from discourse.core.engine import Resources
    from discourse.testing import DEBATE

    for k in range(3):
        (tmp_path / f"flat{k}.txt").write_text(DEBATE, encoding="utf-8")
    events: list[str] = []
    real_release, real_write = Resources.release, batch._write

    def release(self: Resources) -> None:
        events.append("release")
        real_release(self)

    def write(*args: Any) -> dict[str, Any]:
        events.append("write")
        return real_write(*args)

    monkeypatch.setattr(Resources, "release", release)
    monkeypatch.setattr(batch, "_write", write)
    res = run_batch(sorted(tmp_path.glob("*.txt")), tmp_path / "out", load_config(tiny_config), group_texts=16)
    assert len(res.processed) == 3
    # a group per thread (the first groups are of 1, 2 and 4 texts); the last lets each stage's models go
    stages = len(load_config(tiny_config).pipeline)
    assert events == ["write", "write"] + ["release"] * stages + ["write"]

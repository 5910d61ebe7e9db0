"""A second night re-encodes only the comments it has not seen, and writes what a fresh run writes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from discourse.batch import Event, run_batch
from discourse.core.cache import CACHE_DIR, CACHE_FILE
from discourse.core.config import Config, load_config


@pytest.fixture()
def cfg(tiny_config: dict) -> Config:
    return load_config(tiny_config)


def thread(tid: str, n: int) -> list[dict[str, Any]]:
    people = ["Ann", "Bob", "Cy"]
    return [
        {
            "thread_id": tid,
            "title": f"Thread {tid}",
            "id": str(k),
            "parent_id": str(k - 1) if k else None,
            "author": people[k % 3],
            "text": f"Comment {k} of {tid}: I {'agree' if k % 2 else 'disagree'} with point {k}.",
        }
        for k in range(n)
    ]


def write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def cached_rows(out: Path, kind: str = "encode.v1") -> int:
    db = sqlite3.connect(out / CACHE_DIR / CACHE_FILE)
    return int(db.execute("SELECT count(*) FROM results WHERE kind = ?", (kind,)).fetchone()[0])


def analyses(out: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for f in sorted(out.glob("*/analysis.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        data.pop("timings_s", None)
        found[f.parent.name] = data
    return found


def test_second_night_encodes_only_new_comments_and_equals_a_fresh_run(tmp_path: Path, cfg: Config) -> None:
    src, out = tmp_path / "in" / "night.jsonl", tmp_path / "out"
    write(src, thread("a", 12) + thread("b", 8))
    run_batch([src], out, cfg)
    first = cached_rows(out)
    assert first == 12 + 8 + 2  # every comment and each thread's title, once
    assert cached_rows(out, "stance.v1") == 12 + 8  # every (reply, target) pair
    assert cached_rows(out, "toxicity.v1") == 12 + 8  # every comment's tox-block windows

    grown = thread("a", 14) + thread("b", 8)  # thread a gained two comments
    write(src, grown)
    events: list[Event] = []
    run_batch([src], out, cfg, on_event=events.append)
    assert cached_rows(out) == first + 2  # only the two new comments were encoded
    assert cached_rows(out, "stance.v1") == 12 + 8 + 2  # and only their pairs scored
    assert cached_rows(out, "toxicity.v1") == 12 + 8 + 2  # and only their toxicity

    fresh = tmp_path / "fresh"
    run_batch([src], fresh, cfg, cache=False)
    assert not (fresh / CACHE_DIR).exists()
    assert analyses(out) == analyses(fresh)


def rude_thread(tid: str, n: int) -> list[dict[str, Any]]:
    """A thread where every third comment is an insult, so occlusion explains some of them."""
    rows = thread(tid, n)
    for r in rows[1::3]:
        r["text"] = f"You are an idiot and I hate you, {r['author']} ({r['id']})."
    return rows


def test_a_second_night_runs_tox_block_only_on_new_comments(
    tmp_path: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discourse.stages.toxicity.toxblock import ToxBlockClassifier

    scored: list[str] = []
    explained: list[str] = []
    predict, explain = ToxBlockClassifier.predict_batch, ToxBlockClassifier.explain

    def counted_predict(model: ToxBlockClassifier, texts: list[str]) -> list[dict[str, float]]:
        scored.extend(texts)
        return predict(model, texts)

    def counted_explain(model: ToxBlockClassifier, texts: list[str], **kw: Any) -> list[tuple[str, ...]]:
        explained.extend(texts)
        return explain(model, texts, **kw)

    monkeypatch.setattr(ToxBlockClassifier, "predict_batch", counted_predict)
    monkeypatch.setattr(ToxBlockClassifier, "explain", counted_explain)

    src, out = tmp_path / "in" / "night.jsonl", tmp_path / "out"
    write(src, rude_thread("a", 12) + rude_thread("b", 8) + rude_thread("c", 5))
    run_batch([src], out, cfg)
    assert len(scored) == 12 + 8 + 5 and explained  # every comment once; the insults explained
    first_explained = len(explained)

    grown = rude_thread("a", 15) + rude_thread("b", 8) + rude_thread("c", 6)  # a gained 3, c gained 1
    write(src, grown)
    scored.clear()
    explained.clear()
    run_batch([src], out, cfg)
    seen = {(r["thread_id"], r["id"]) for r in rude_thread("a", 12) + rude_thread("b", 8) + rude_thread("c", 5)}
    new = sorted(r["text"] for r in grown if (r["thread_id"], r["id"]) not in seen)
    assert sorted(scored) == new and len(new) == 4  # the new comments only
    assert explained == [t for t in scored if "idiot" in t] and 0 < len(explained) < first_explained

    fresh = tmp_path / "fresh"
    run_batch([src], fresh, cfg, cache=False)
    assert analyses(out) == analyses(fresh)


def test_a_damaged_cache_is_a_warning_not_a_failure(tmp_path: Path, cfg: Config) -> None:
    src, out = tmp_path / "in" / "t.jsonl", tmp_path / "out"
    write(src, thread("a", 4))
    (out / CACHE_DIR).mkdir(parents=True)
    (out / CACHE_DIR / CACHE_FILE).write_bytes(b"garbage" * 1000)
    events: list[Event] = []
    res = run_batch([src], out, cfg, on_event=events.append)
    assert len(res.processed) == 1 and not res.failed
    assert any(e.kind == "warn" and "set aside" in e.message for e in events)
    assert cached_rows(out) == 5


def test_a_big_group_tells_each_stage_as_it_goes(tmp_path: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import discourse.engines.local as local

    monkeypatch.setattr(local, "STAGE_EVENTS_FROM", 10)  # a "big" group, for the test
    src = tmp_path / "in" / "t.jsonl"
    write(src, thread("big", 12) + thread("small", 3))
    events: list[Event] = []
    run_batch([src], tmp_path / "out", cfg, on_event=events.append)
    stages = [e for e in events if e.kind == "stage"]
    assert stages and all(e.data["comments"] == 15 for e in stages)
    assert [e.data["fraction"] for e in stages if e.data["stage"] == "encode.v1"][-1] == 1.0
    assert {e.data["stage"] for e in stages} == set(cfg.pipeline)

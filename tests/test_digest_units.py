"""The digest's comparison on hand-written output folders (no models): threads matched across
folders of different days, a thread gone, a failure recovered, the rise threshold, and damaged
files (an unreadable analysis.json, a corrupt snapshot) that are reported, never fatal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from discourse.batch import STATE_FILE, THREAD_MARKER
from discourse.cli import main
from discourse.commands.digest import SNAPSHOT, build_digest


def _thread(
    out: Path,
    folder: str,
    source: str,
    tid: str,
    tox: list[float],
    flagged: list[str] = (),  # type: ignore[assignment]
    chains: list[tuple[str, str, float, str]] = (),  # type: ignore[assignment]
) -> None:
    d = out / folder
    d.mkdir(parents=True)
    data: dict[str, Any] = {
        "schema_version": "1.1",
        "thread": {"id": tid, "title": f"Title {tid}", "source_format": "jsonl", "article": ""},
        "comments": [
            {"id": f"c{k}", "author": f"u{k % 2}", "text": f"text {k}", "toxicity": {"score": s}}
            for k, s in enumerate(tox)
        ],
        "chains": [
            {"participants": [a, b], "comment_ids": ["c1", "c2"], "outcome": outcome, "escalation": esc}
            for a, b, esc, outcome in chains
        ],
        "attention": [{"comment_id": c, "priority": 0.8, "codes": ["INSULT"]} for c in flagged],
        "config": {"stages": {"attention.v1": {"flag_threshold": 0.5}}},
    }
    (d / "analysis.json").write_text(json.dumps(data), encoding="utf-8")
    (d / THREAD_MARKER).write_text(json.dumps({"source": source, "thread_id": tid}), encoding="utf-8")


def _state(out: Path, failed: dict[str, str]) -> None:
    state = {src: {"status": "failed", "error": err, "threads": []} for src, err in failed.items()}
    (out / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")


def test_folders_of_two_days_match_threads_by_id_and_report_gone_and_recovered(tmp_path: Path) -> None:
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    _thread(day1, "a-1", "/data/day1/a.jsonl", "a", [0.1, 0.2, 0.3], chains=[("u0", "u1", 0.01, "unresolved")])
    _thread(day1, "b-1", "/data/day1/b.jsonl", "b", [0.1, 0.9], flagged=["c1"])
    _state(day1, {"/data/day1/c.jsonl": "bad JSON"})
    _thread(day2, "a-2", "/data/day2/a.jsonl", "a", [0.1, 0.2, 0.35, 0.96], flagged=["c3"],
            chains=[("u1", "u0", 0.3, "escalated")])  # fmt: skip
    _state(day2, {})
    d = build_digest(day2, since=day1)
    assert [(f.thread.thread_id, f.comment_id, f.why) for f in d.new_flags] == [("a", "c3", "newly flagged")]
    assert not d.new_threads and not d.new_chains  # "a" is the same thread, u0-u1 the same chain
    assert [(r.thread.thread_id, r.before, r.after) for r in d.toxicity_rose] == [("a", 0.3, 0.96)]
    assert [(r.thread.thread_id, r.detail) for r in d.escalation_rose] == [("a", "escalated chains 0 -> 1")]
    assert [(f.thread.thread_id, f.comment_id, f.why, f.href) for f in d.resolved_flags] == [
        ("b", "c1", "thread no longer in the folder", "")
    ]
    assert d.recovered == ("/data/day1/c.jsonl",) and not d.failed


def test_small_rises_wait_for_min_rise(tmp_path: Path) -> None:
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    _thread(day1, "a-1", "/a", "a", [0.10])
    _thread(day2, "a-1", "/a", "a", [0.15])
    assert not build_digest(day2, since=day1).toxicity_rose
    assert [r.after for r in build_digest(day2, since=day1, min_rise=0.05).toxicity_rose] == [0.15]


def test_damaged_files_are_reported_not_fatal(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _thread(out, "a-1", "/a", "a", [0.9], flagged=["c0"])
    (out / "broken").mkdir()
    (out / "broken" / "analysis.json").write_text('{"schema_version": "1.1", "comm', encoding="utf-8")
    (out / SNAPSHOT).write_text("{not json", encoding="utf-8")  # a damaged snapshot: as if none
    res = CliRunner().invoke(main, ["digest", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["since"] == "" and data["counts"]["new_flags"] == 1
    assert [s["path"] for s in data["skipped"]] == ["broken/analysis.json"]
    assert "skipped: broken/analysis.json" in res.stderr
    only = tmp_path / "only-broken"
    (only / "x").mkdir(parents=True)
    (only / "x" / "analysis.json").write_text("[]", encoding="utf-8")
    bad = CliRunner().invoke(main, ["digest", str(only)])
    assert bad.exit_code == 2 and "1 analysis.json could not be read: x/analysis.json" in bad.output
    exp = CliRunner().invoke(main, ["export", str(only), "--to", "jsonl"])
    assert exp.exit_code == 2 and "could not be read" in exp.output and not (only / "comments.jsonl").exists()


def _flat(out: Path, texts: list[str], flagged: list[int], edited_ids: bool = False) -> None:
    """A flat-text thread (ids are positions c1, c2, ...) with the comments at ``flagged`` flagged."""
    d = out / "flat-1"
    d.mkdir(parents=True)
    data = {
        "schema_version": "1.1",
        "thread": {"id": "flat", "title": "Flat", "structure_inferred": not edited_ids},
        "comments": [{"id": f"c{k + 1}", "author": "x", "text": t} for k, t in enumerate(texts)],
        "attention": [{"comment_id": f"c{k + 1}", "priority": 0.9, "codes": ["INSULT"]} for k in flagged],
    }
    (d / "analysis.json").write_text(json.dumps(data), encoding="utf-8")
    (d / THREAD_MARKER).write_text(json.dumps({"source": "/flat.txt", "thread_id": "flat"}), encoding="utf-8")


def test_flat_text_ids_that_shift_do_not_make_old_flags_look_new(tmp_path: Path) -> None:
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    _flat(day1, ["hello", "you idiot", "calm down", "get lost"], flagged=[1, 3])
    # a reply inserted near the top shifts every id below it; "get lost" is no longer flagged
    _flat(day2, ["hello", "a new reply", "you idiot", "calm down", "get lost", "you fool"], flagged=[2, 5])
    d = build_digest(day2, since=day1)
    assert [(f.comment_id, f.snippet) for f in d.new_flags] == [("c6", "you fool")]
    assert [(f.comment_id, f.snippet, f.why) for f in d.resolved_flags] == [("c5", "get lost", "no longer flagged")]


def test_an_edited_comment_of_a_structured_export_is_the_same_flag(tmp_path: Path) -> None:
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    _flat(day1, ["hello", "you idiot"], flagged=[1], edited_ids=True)
    _flat(day2, ["hello", "you idiot!!"], flagged=[1], edited_ids=True)
    d = build_digest(day2, since=day1)
    assert not d.new_flags and not d.resolved_flags


def test_a_thread_folder_is_not_an_output_folder(tmp_path: Path) -> None:
    _thread(tmp_path / "out", "a-1", "/a", "a", [0.1])
    res = CliRunner().invoke(main, ["digest", str(tmp_path / "out" / "a-1")])
    assert res.exit_code == 2 and "is one thread's folder" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "out" / "a-1" / SNAPSHOT).exists()

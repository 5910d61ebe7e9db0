"""Every thread gets its own output folder, named the same on every run whatever else is in the
batch, and a folder that holds something else is never overwritten (issue 7, case 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from discourse.batch import run_batch
from discourse.core.config import Config, load_config

THREAD_MARKER = ".discourse-thread.json"


@pytest.fixture()
def cfg(tiny_config: dict) -> Config:
    return load_config(tiny_config)


def rows(tid: str, topic: str) -> list[dict[str, Any]]:
    said = [
        ("1", None, "Ann", f"The {topic} is a waste."),
        ("2", "1", "Bob", f"Ann, I disagree, the {topic} is good."),
        ("3", "2", "Ann", "Bob thank you, but I still disagree."),
    ]
    return [
        {"thread_id": tid, "title": f"Vote on the {topic}", "id": i, "parent_id": p, "author": a, "text": text}
        for i, p, a, text in said
    ]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def outputs(out: Path) -> dict[str, tuple[str, str]]:
    """folder name -> (thread id, title) as written in its analysis.json."""
    found = {}
    for f in sorted(out.glob("*/analysis.json")):
        t = json.loads(f.read_text(encoding="utf-8"))["thread"]
        found[f.parent.name] = (t["id"], t["title"])
    return found


def test_same_stem_in_two_folders_never_shares_a_folder(tmp_path: Path, cfg: Config) -> None:
    w1 = write_jsonl(tmp_path / "week1" / "comments.jsonl", rows("comments", "stadium"))
    w2 = write_jsonl(tmp_path / "week2" / "comments.jsonl", rows("comments", "bridge"))
    out = tmp_path / "out"
    run_batch([w1], out, cfg)
    run_batch([w2], out, cfg)  # a later run with the other file of the same stem
    titles = sorted(title for _, title in outputs(out).values())
    assert titles == ["Vote on the bridge", "Vote on the stadium"]

    both = run_batch([w1, w2], out, cfg)
    assert both.processed == [] and len(both.skipped) == 2
    by_source = {e["source"]: e for e in both.entries}
    for path, topic in ((w1, "stadium"), (w2, "bridge")):
        folder = out / by_source[str(path)]["folder"]
        data = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
        assert data["thread"]["title"] == f"Vote on the {topic}"
        marker = json.loads((folder / THREAD_MARKER).read_text(encoding="utf-8"))
        assert marker["source"] == str(path.resolve()) and marker["thread_id"] == "comments"


def test_thread_ids_that_slug_alike_get_one_folder_each(tmp_path: Path, cfg: Config) -> None:
    long = "https://example.org/forum/" + "a-very-long-discussion-title-" * 4
    ids = ["x", "x!", "x?", long + "one", long + "two"]
    src = write_jsonl(tmp_path / "many.jsonl", [r for k, tid in enumerate(ids) for r in rows(tid, f"topic{k}")])
    out = tmp_path / "out"
    res = run_batch([src], out, cfg)
    assert not res.failed
    assert sorted(tid for tid, _ in outputs(out).values()) == sorted(ids)
    again = run_batch([src], out, cfg)
    assert len(again.skipped) == 1
    assert sorted(tid for tid, _ in outputs(out).values()) == sorted(ids)


def test_folder_names_do_not_depend_on_the_rest_of_the_batch(tmp_path: Path, cfg: Config) -> None:
    w1 = write_jsonl(tmp_path / "week1" / "comments.jsonl", rows("comments", "stadium"))
    w2 = write_jsonl(tmp_path / "week2" / "comments.jsonl", rows("comments", "bridge"))
    together = run_batch([w1, w2], tmp_path / "a", cfg)
    alone = run_batch([w2], tmp_path / "b", cfg)
    forced = run_batch([w2, w1], tmp_path / "a", cfg, force=True)

    def folder_of(entries: list[dict[str, Any]], path: Path) -> str:
        [e] = [e for e in entries if e["source"] == str(path)]
        return str(e["folder"])

    name = folder_of(together.entries, w2)
    assert name == folder_of(alone.entries, w2) == folder_of(forced.entries, w2)
    assert name.startswith("comments-")  # readable, then a short hash of source and thread id
    assert folder_of(together.entries, w1) != name


def test_a_folder_holding_another_thread_is_never_overwritten(tmp_path: Path, cfg: Config) -> None:
    src = write_jsonl(tmp_path / "t.jsonl", rows("t", "stadium"))
    out = tmp_path / "out"
    [entry] = run_batch([src], out, cfg).entries
    taken = out / entry["folder"]
    for f in taken.iterdir():  # someone's own files now sit where the thread's folder was
        f.unlink()
    (taken / "notes.txt").write_text("mine", encoding="utf-8")

    write_jsonl(src, rows("t", "bridge"))  # changed, so it is analysed again
    [again] = run_batch([src], out, cfg).entries
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    assert again["folder"] != entry["folder"]
    data = json.loads((out / again["folder"] / "analysis.json").read_text(encoding="utf-8"))
    assert data["thread"]["title"] == "Vote on the bridge"

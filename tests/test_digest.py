"""discourse digest: two nights into one output folder (tiny models). Night 2 adds a toxic reply
that escalates an exchange, removes a flagged comment, starts a new argument chain and brings a
file that cannot be read; the digest lists exactly those changes and nothing about the thread that
did not change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from discourse.batch import run_batch
from discourse.cli import main
from discourse.commands.digest import SNAPSHOT, build_digest, write_digest
from discourse.core.config import load_config

INSULT = "You are an idiot and I hate you."

PARK_1 = [
    ("a1", None, "Ann Lee", "I think the park plan is a waste of public money."),
    ("a2", "a1", "Bob Ray", "Ann, I disagree. The park plan brings jobs."),
    ("a3", "a2", "Ann Lee", "Bob thank you, but I still disagree."),
]
PARK_2 = PARK_1 + [("a4", "a3", "Bob Ray", INSULT)]  # the exchange escalates
BRIDGE_1 = [
    ("b1", None, "Carl Moe", "The bridge vote is next week."),
    ("b2", "b1", "Eve <script>alert(1)</script>", INSULT),  # flagged; a moderator removes it by night 2
    ("b3", "b1", "Dora Fay", "Thank you for the bridge data."),
]
BRIDGE_2 = [
    BRIDGE_1[0],
    BRIDGE_1[2],
    ("b4", "b3", "Carl Moe", "Dora, why do you think the bridge is good?"),  # Carl and Dora: a new chain
    ("b5", "b4", "Dora Fay", "Carl, the data says the bridge is good."),
]
LIBRARY = [
    ("l1", None, "Gus Tan", "The library will open on Sundays."),
    ("l2", "l1", "Hal Roe", "Thank you, good news for the town."),
]


def _write(path: Path, thread_id: str, title: str, rows: list[tuple[str, str | None, str, str]]) -> None:
    lines = [
        json.dumps({"thread_id": thread_id, "title": title, "id": i, "parent_id": p, "author": a, "text": t})
        for i, p, a, t in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory, tiny_config: dict) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("nights")
    src, out = root / "in", root / "out"
    src.mkdir()
    cfg = load_config(tiny_config)
    _write(src / "park.jsonl", "park", "The park plan", PARK_1)
    _write(src / "bridge.jsonl", "bridge", "The bridge vote", BRIDGE_1)
    _write(src / "library.jsonl", "library", "Library hours", LIBRARY)
    run_batch([src], out, cfg)
    first = build_digest(out)
    write_digest(first, out)
    night1 = root / "night1"
    shutil.copytree(out, night1)  # a copy of the night-1 folder, for --since
    _write(src / "park.jsonl", "park", "The park plan", PARK_2)
    _write(src / "bridge.jsonl", "bridge", "The bridge vote", BRIDGE_2)
    (src / "broken.json").write_text('{"comments": [', encoding="utf-8")
    run_batch([src], out, cfg)
    second = build_digest(out)
    write_digest(second, out)
    return {"out": out, "night1": night1, "first": first, "second": second, "src": src}


def _flags(entries: Any) -> set[tuple[str, str]]:
    return {(e.thread.thread_id, e.comment_id) for e in entries}


def test_the_first_digest_has_nothing_to_compare_with_and_lists_everything_as_new(nights: dict) -> None:
    d = nights["first"]
    assert d.first and d.since == ""
    assert {t.thread_id for t in d.new_threads} == {"park", "bridge", "library"}
    assert _flags(d.new_flags) == {("bridge", "b2")}
    assert [(c.thread.thread_id, c.participants) for c in d.new_chains] == [("park", ("Ann Lee", "Bob Ray"))]
    assert not d.resolved_flags and not d.toxicity_rose and not d.escalation_rose and not d.failed


def test_night_two_lists_exactly_what_changed(nights: dict) -> None:
    d = nights["second"]
    assert d.since == "previous run" and not d.new_threads and d.threads == 3
    # the insult (a4) and the exchange it escalates (a2, a3: ESCALATION) are newly flagged
    assert _flags(d.new_flags) == {("park", "a4"), ("park", "a2"), ("park", "a3")}
    assert d.new_flags[0].comment_id == "a4" and "INSULT" in d.new_flags[0].codes
    assert d.new_flags[0].href == f"{d.new_flags[0].thread.folder}/report.html#c-a4"
    assert [(f.thread.thread_id, f.comment_id, f.why) for f in d.resolved_flags] == [
        ("bridge", "b2", "comment no longer in the thread")
    ]
    assert [r.thread.thread_id for r in d.toxicity_rose] == ["park"]
    assert d.toxicity_rose[0].before < 0.5 < 0.9 < d.toxicity_rose[0].after
    assert [r.thread.thread_id for r in d.escalation_rose] == ["park"]
    assert d.escalation_rose[0].after > d.escalation_rose[0].before
    assert [(c.thread.thread_id, c.participants) for c in d.new_chains] == [("bridge", ("Carl Moe", "Dora Fay"))]
    assert [(Path(f.source).name, f.new) for f in d.failed] == [("broken.json", True)]
    assert not d.recovered
    listed = json.dumps(d.to_json())
    assert "library" not in listed  # the unchanged thread is in no list


def test_digesting_the_same_run_again_gives_the_same_digest(nights: dict) -> None:
    again = build_digest(nights["out"])
    assert again.to_json() == nights["second"].to_json()
    kept = json.loads((nights["out"] / SNAPSHOT).read_text())
    assert len(kept["runs"]) == 2  # the night before and this one, no more


def test_since_a_copy_of_last_nights_folder_gives_the_same_lists(nights: dict) -> None:
    d = build_digest(nights["out"], since=nights["night1"])
    assert d.since == f"folder {nights['night1']}"
    auto, given = nights["second"].to_json(), d.to_json()
    for key in ("new_flags", "resolved_flags", "toxicity_rose", "escalation_rose", "new_chains", "new_threads"):
        assert given[key] == auto[key], key


def test_digest_files_are_written_escaped_and_linked(nights: dict) -> None:
    out = nights["out"]
    data = json.loads((out / "digest.json").read_text(encoding="utf-8"))
    assert data["counts"] == {
        "new_threads": 0,
        "new_flags": 3,
        "resolved_flags": 1,
        "toxicity_rose": 1,
        "escalation_rose": 1,
        "new_chains": 1,
        "failed": 1,
        "recovered": 0,
    }
    html = (out / "digest.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html
    assert "Eve &lt;script&gt;alert(1)&lt;/script&gt;" in html  # the resolved flag's author, escaped
    assert 'href="' + nights["second"].new_flags[0].href + '"' in html
    assert "broken.json" in html


def test_cli_digest_prints_one_summary_line_and_fails_in_one_line_on_a_folder_without_analysis(
    nights: dict, tmp_path: Path
) -> None:
    res = CliRunner().invoke(main, ["digest", str(nights["out"])])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("3 new flag(s), 1 resolved, 1 thread(s) more toxic, 1 escalating, 1 new chain(s)")
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(main, ["digest", str(empty)])
    assert bad.exit_code == 2
    assert bad.output.startswith("error: no analysed threads in") and bad.output.count("\n") == 1
    same = CliRunner().invoke(main, ["digest", str(nights["out"]), "--since", str(nights["out"])])
    assert same.exit_code == 2 and "is the folder being digested" in same.output


def test_a_digest_waits_for_a_run_still_writing_the_folder(nights: dict) -> None:
    import fcntl
    import os
    import threading

    from discourse.batch import LOCK_FILE

    out = nights["out"]
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running `discourse analyze` holds it
    told: list[str] = []
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(build_digest(out, on_wait=told.append)))
    try:
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive() and not result  # waiting, not reading half a night
        assert len(told) == 1 and "waiting for it to finish" in told[0]
    finally:
        os.close(fd)  # the run ends
    worker.join(timeout=30)
    assert result and result[0].to_json() == nights["second"].to_json()


def test_the_index_links_the_digest_once_there_is_one_and_keeps_every_row(
    tmp_path: Path, nights: dict, tiny_config: dict
) -> None:
    """index.html did not link digest.html; now the digest command rewrites the index with the
    link (and the failed input's row), and a batch re-run keeps it."""
    index = (nights["out"] / "index.html").read_text(encoding="utf-8")
    assert 'href="./digest.html"' in index
    assert "broken.json" in index and index.count("report.html") == 3  # every thread and the failure
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    _write(src / "library.jsonl", "library", "Library hours", LIBRARY)
    run_batch([src], out, load_config(tiny_config))
    assert 'href="./digest.html"' not in (out / "index.html").read_text(encoding="utf-8")  # no digest yet
    write_digest(build_digest(out), out)
    assert 'href="./digest.html"' in (out / "index.html").read_text(encoding="utf-8")
    _write(src / "library.jsonl", "library", "Library hours", [*LIBRARY, ("l3", "l2", "Ida", "Agreed.")])
    run_batch([src], out, load_config(tiny_config))
    assert 'href="./digest.html"' in (out / "index.html").read_text(encoding="utf-8")
    lone = tmp_path / "lone"
    lone.mkdir()
    write_digest(build_digest(out), lone)  # a folder no batch wrote gets no index
    assert not (lone / "index.html").exists()

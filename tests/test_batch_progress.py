"""Long runs (issue 7, case 8): files are parsed when their turn comes, each thread is written as soon
as its group is analysed (the first group is small, so the first report comes early), a resumed
run redoes only the threads of a file not yet written, and progress is shown: a live line on a
terminal, one JSON line per event with ``--json``, nothing with ``-q``."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import discourse.batch as batch
import discourse.cli as cli
from discourse.batch import STATE_FILE, run_batch
from discourse.core.config import Config, load_config
from discourse.core.engine import Pipeline

THREAD = """Vote on the {topic}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

Ann, I disagree. The {topic} plan brings jobs.

Ann Lee

Bob thank you, but I still disagree.
"""


@pytest.fixture()
def cfg(tiny_config: dict) -> Config:
    return load_config(tiny_config)


@pytest.fixture()
def conf(tmp_path: Path, tiny_config: dict) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    return path


def flat_files(root: Path, n: int) -> Path:
    d = root / "threads"
    d.mkdir()
    for k in range(n):
        (d / f"t{k}.txt").write_text(THREAD.format(topic=f"topic {k}"), encoding="utf-8")
    return d


def many_threads(path: Path, n: int) -> Path:
    rows = []
    for k in range(n):
        said = [("1", None, "Ann", f"The plan {k} is a waste."), ("2", "1", "Bob", "Ann, I disagree.")]
        rows += [{"thread_id": f"th{k}", "id": i, "parent_id": p, "author": a, "text": x} for i, p, a, x in said]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def analysed_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records the id of every thread the pipeline analyses."""
    seen: list[str] = []
    real = Pipeline.run_docs

    def run_docs(self: Pipeline, docs: Any, last: bool = False) -> None:
        seen.extend(d.thread.id for d in docs)
        real(self, docs, last)

    monkeypatch.setattr(Pipeline, "run_docs", run_docs)
    return seen


def test_files_are_parsed_in_turn_and_the_first_threads_written_early(
    tmp_path: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = flat_files(tmp_path, 8), tmp_path / "out"
    written_when_parsed: list[int] = []
    real = batch.load_threads

    def load(path: Any, *args: Any, **kwargs: Any) -> Any:
        written_when_parsed.append(len(list(out.glob("*/analysis.json"))))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(batch, "load_threads", load)
    res = run_batch([src], out, cfg, group_texts=64)  # all 8 files (32 texts) fit in one full group
    assert len(res.processed) == 8
    assert written_when_parsed[0] == 0 and written_when_parsed[-1] > 0


def test_an_interrupted_file_resumes_at_its_first_unwritten_thread(
    tmp_path: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = many_threads(tmp_path / "six.jsonl", 6), tmp_path / "out"
    real = batch.atomic_folder
    calls = {"n": 0}

    def stop_at_fourth(path: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(path)

    monkeypatch.setattr(batch, "atomic_folder", stop_at_fourth)
    with pytest.raises(KeyboardInterrupt):
        run_batch([src], out, cfg, group_texts=1)  # one thread per group
    state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    entry = state[str(src.resolve())]
    assert entry["status"] == "partial" and [e["thread_id"] for e in entry["threads"]] == ["th0", "th1", "th2"]

    monkeypatch.setattr(batch, "atomic_folder", real)
    seen = analysed_threads(monkeypatch)
    res = run_batch([src], out, cfg)
    assert seen == ["th3", "th4", "th5"] and len(res.processed) == 1
    state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    assert state[str(src.resolve())]["status"] == "ok"
    assert [e["thread_id"] for e in state[str(src.resolve())]["threads"]] == [f"th{k}" for k in range(6)]


def _killed_after_three_threads(config: dict[str, Any], src: str, out: str) -> None:
    """A process that dies like kill -9 (no cleanup, no finally) right after its third thread."""
    written = []

    def on_event(e: batch.Event) -> None:
        if e.kind == "thread":
            written.append(e)
            if len(written) == 3:
                os._exit(9)

    run_batch([src], out, load_config(config), on_event=on_event, group_texts=1)


def test_a_killed_run_keeps_every_thread_it_wrote(
    tmp_path: Path, tiny_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = many_threads(tmp_path / "six.jsonl", 6), tmp_path / "out"
    proc = mp.get_context("spawn").Process(target=_killed_after_three_threads, args=(tiny_config, str(src), str(out)))
    proc.start()
    proc.join()
    assert proc.exitcode == 9
    assert len(list(out.glob("*/analysis.json"))) == 3

    seen = analysed_threads(monkeypatch)
    res = run_batch([src], out, load_config(tiny_config))
    assert seen == ["th3", "th4", "th5"] and len(res.processed) == 1
    assert len(list(out.glob("*/analysis.json"))) == 6


def test_json_progress_is_one_object_per_line(tmp_path: Path, conf: Path) -> None:
    src = flat_files(tmp_path, 3)
    (src / "junk.txt").write_bytes(b"\x00\x01" * 100)
    args = ["analyze", str(src), "--out", str(tmp_path / "out"), "--config", str(conf), "--json"]
    r = CliRunner().invoke(cli.main, args)
    assert r.exit_code == 0, r.output
    events = [json.loads(line) for line in r.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "summary" and kinds.count("thread") == 3 and "fail" in kinds
    last = [e for e in events if e["event"] == "thread"][-1]
    assert last["threads_done"] == 3 and last["comments_done"] == 9
    assert last["files_done"] == last["files_total"] == 4  # the unreadable file counts as done
    assert last["comments_per_s"] > 0 and last["eta_s"] == 0
    summary = events[-1]
    assert summary["analysed"] == 3 and summary["failed"] == 1 and summary["index"].endswith("index.html")


def test_a_terminal_gets_a_live_progress_line(tmp_path: Path, conf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "stderr_is_terminal", lambda: True)
    src = flat_files(tmp_path, 2)
    r = CliRunner().invoke(cli.main, ["analyze", str(src), "--out", str(tmp_path / "out"), "--config", str(conf)])
    assert r.exit_code == 0, r.output
    live = [part for part in r.stderr.split("\r") if "comments/s" in part]
    assert live and "2/2 files" in live[-1] and "2 threads" in live[-1] and "6 comments" in live[-1]
    assert "ETA" in live[-1]
    assert "2 analysed, 0 unchanged, 0 failed" in r.stdout


def test_quiet_prints_only_the_summary(tmp_path: Path, conf: Path) -> None:
    src = flat_files(tmp_path, 2)
    r = CliRunner().invoke(cli.main, ["analyze", str(src), "--out", str(tmp_path / "out"), "--config", str(conf), "-q"])
    assert r.exit_code == 0 and r.stderr == ""
    assert r.stdout.count("\n") == 1 and "2 analysed" in r.stdout

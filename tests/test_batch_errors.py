"""Output problems (issue 7, case 4): a read-only folder, a full disk, ``--out`` under a file and a bad
config value are one-line errors, before any work where possible, and never leave a half-written
thread folder: a thread's files are built in a hidden folder and renamed into place whole."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

import discourse.batch as batch
from discourse.cli import main

THREAD = """Vote on the {topic}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

Ann, I disagree. The {topic} plan brings jobs.
"""
FILES = ("analysis.json", "report.html", "graph.graphml", "comments.csv", ".discourse-thread.json")


@pytest.fixture()
def src(tmp_path: Path) -> Path:
    d = tmp_path / "threads"
    d.mkdir()
    for k, topic in enumerate(["stadium", "bridge", "library"]):
        (d / f"t{k}.txt").write_text(THREAD.format(topic=topic), encoding="utf-8")
    return d


@pytest.fixture()
def conf(tmp_path: Path, tiny_config: dict) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    return path


@pytest.fixture()
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every input file parsed: an error found before any work parses nothing."""
    seen: list[Path] = []
    real = batch.load_threads

    def recording(path: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(batch, "load_threads", recording)
    return seen


def analyze(*args: str) -> Result:
    return CliRunner().invoke(main, ["analyze", *args])


def one_error_line(r: Result) -> str:
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    return lines[0]


def assert_only_whole_thread_folders(out: Path) -> list[Path]:
    """Every folder in ``out`` is a complete thread folder; nothing temporary is left behind."""
    assert not [p.name for p in out.iterdir() if p.name.startswith(".discourse-tmp") or ".discourse-old" in p.name]
    folders = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == sorted(FILES), folder
    return folders


def _deny_writes_under(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only folder as root sees it too (root ignores mode bits): creating anything in it fails."""

    def guard(real: Callable[..., Any], where: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            target = where(*args, **kwargs)
            if target is not None and Path(target).resolve().is_relative_to(out.resolve()):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(tempfile, "mkstemp", guard(tempfile.mkstemp, lambda *a, **k: k.get("dir")))
    monkeypatch.setattr(tempfile, "mkdtemp", guard(tempfile.mkdtemp, lambda *a, **k: k.get("dir")))
    monkeypatch.setattr(os, "open", guard(os.open, lambda path, flags, *a, **k: path if flags & os.O_CREAT else None))


def test_read_only_out_folder_is_one_line_before_any_work(
    tmp_path: Path, src: Path, conf: Path, parsed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    if os.geteuid() == 0:
        _deny_writes_under(out, monkeypatch)
    try:
        r = analyze(str(src), "--out", str(out), "--config", str(conf))
    finally:
        out.chmod(0o755)
    line = one_error_line(r)
    assert r.exit_code == 6 and str(out) in line and "Permission denied" in line
    assert parsed == [] and list(out.iterdir()) == []


def test_out_under_a_file_is_one_line_before_any_work(
    tmp_path: Path, src: Path, conf: Path, parsed: list[Path]
) -> None:
    blocker = tmp_path / "results.txt"
    blocker.write_text("keep me", encoding="utf-8")
    r = analyze(str(src), "--out", str(blocker / "out"), "--config", str(conf))
    line = one_error_line(r)
    assert r.exit_code == 6 and str(blocker) in line and "not a folder" in line
    assert parsed == [] and blocker.read_text(encoding="utf-8") == "keep me"
    r = analyze(str(src), "--out", str(blocker), "--config", str(conf))  # --out itself a file
    assert r.exit_code == 6 and "not a folder" in one_error_line(r)


def test_bad_config_value_is_one_line_before_any_work(
    tmp_path: Path, src: Path, tiny_config: dict, parsed: list[Path]
) -> None:
    conf = tmp_path / "bad.yaml"
    stages = {**tiny_config["stages"], "attention.v1": {"flag_threshold": "banana"}}
    conf.write_text(yaml.safe_dump({**tiny_config, "stages": stages}), encoding="utf-8")
    out = tmp_path / "out"
    r = analyze(str(src), "--out", str(out), "--config", str(conf))
    line = one_error_line(r)
    assert r.exit_code == 3 and "flag_threshold" in line and "banana" in line
    assert parsed == [] and not out.exists()


def test_full_disk_stops_in_one_line_and_leaves_no_half_written_folder(
    tmp_path: Path, src: Path, conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:  # the disk fills up part-way through the second thread
        calls["n"] += 1
        if calls["n"] > 14:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(fd)

    monkeypatch.setattr("discourse.report.atomic.os.fsync", fsync)
    out = tmp_path / "out"
    r = analyze(str(src), "--out", str(out), "--config", str(conf), "-q")
    line = one_error_line(r)
    assert r.exit_code == 6 and "No space left on device" in line
    assert len(assert_only_whole_thread_folders(out)) < 3

    monkeypatch.setattr("discourse.report.atomic.os.fsync", real)  # space freed: the rerun finishes the rest
    r = analyze(str(src), "--out", str(out), "--config", str(conf), "-q")
    assert r.exit_code == 0, r.output
    assert len(assert_only_whole_thread_folders(out)) == 3


def test_a_failed_rewrite_leaves_the_old_folder_whole(
    tmp_path: Path, src: Path, conf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import discourse.report.writers as writers

    out = tmp_path / "out"
    assert analyze(str(src), "--out", str(out), "--config", str(conf), "-q").exit_code == 0
    [folder] = [p for p in out.iterdir() if p.name.startswith("t1-")]
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    (src / "t1.txt").write_text(THREAD.format(topic="park"), encoding="utf-8")  # changed: rewritten

    def broken(analysis: Any, fh: Any, max_comments: int = 0, max_chains: int = 0) -> None:
        fh.write("<!doctype html>")  # the page is written as it is rendered: half of it is out
        raise KeyboardInterrupt  # the user stops the run while the report is being written

    monkeypatch.setattr(writers, "write_report", broken)
    r = analyze(str(src), "--out", str(out), "--config", str(conf), "-q")
    assert r.exit_code == 130
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert_only_whole_thread_folders(out)

    monkeypatch.undo()
    r = analyze(str(src), "--out", str(out), "--config", str(conf), "-q")
    assert "1 analysed, 2 unchanged, 0 failed" in r.output  # the next run redoes it
    data = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
    assert data["thread"]["title"] == "Vote on the park"

"""Several runs into one output folder (issue 7, case 2): no run loses another's records, a later
run waits for the one writing (and says so), and the index lists everything in the folder."""

from __future__ import annotations

import fcntl
import json
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any

from discourse.batch import LOCK_FILE, STATE_FILE, run_batch
from discourse.core.config import Config, load_config

THREAD = """Vote on the {topic}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

Ann, I disagree. The {topic} plan brings jobs.
"""


def threads_folder(root: Path, name: str, n: int) -> Path:
    d = root / name
    d.mkdir(parents=True)
    for k in range(n):
        (d / f"{name}{k}.txt").write_text(THREAD.format(topic=f"{name} {k}"), encoding="utf-8")
    return d


def index_links(out: Path) -> int:
    return (out / "index.html").read_text(encoding="utf-8").count("/report.html")


def _run(config: dict[str, Any], src: str, out: str, barrier: Any, events: Any) -> None:
    """A separate process: wait for the others, then run a batch; report its events."""
    cfg = load_config(config)
    if barrier is not None:
        barrier.wait()
    res = run_batch([src], out, cfg, on_event=lambda e: events.put((e.kind, e.message)) if events else None)
    if events is not None:
        events.put(("result", len(res.processed)))


def test_concurrent_processes_keep_every_record(tmp_path: Path, tiny_config: dict) -> None:
    ctx = mp.get_context("spawn")
    out = tmp_path / "out"
    sources = [threads_folder(tmp_path, name, 10) for name in ("north", "south")]
    barrier = ctx.Barrier(len(sources))
    procs = [ctx.Process(target=_run, args=(tiny_config, str(s), str(out), barrier, None)) for s in sources]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    assert len(state) == 20 and all(s["status"] == "ok" for s in state.values())
    assert len(list(out.glob("*/analysis.json"))) == 20
    assert index_links(out) == 20


def test_a_run_over_one_file_keeps_the_whole_index(tmp_path: Path, tiny_config: dict) -> None:
    cfg: Config = load_config(tiny_config)
    out = tmp_path / "out"
    run_batch([threads_folder(tmp_path, "first", 3)], out, cfg)
    extra = threads_folder(tmp_path, "later", 1) / "later0.txt"
    res = run_batch([extra], out, cfg)
    assert len(res.processed) == 1
    assert index_links(out) == 4  # the earlier reports stay linked


def test_a_second_run_waits_for_the_first_and_says_so(tmp_path: Path, tiny_config: dict) -> None:
    ctx = mp.get_context("spawn")
    out = tmp_path / "out"
    out.mkdir()
    src = threads_folder(tmp_path, "t", 2)
    held = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # another run is writing
    events = ctx.Queue()
    proc = ctx.Process(target=_run, args=(tiny_config, str(src), str(out), None, events))
    proc.start()
    seen = []
    try:
        kind, message = events.get(timeout=120)
        assert kind == "wait" and "\n" not in message
        assert "another discourse run" in message and str(out) in message
        assert not list(out.glob("*/analysis.json"))  # it waits; it writes nothing meanwhile
    finally:
        os.close(held)  # the first run ends
        while not seen or seen[-1][0] != "result":
            seen.append(events.get(timeout=300))
        proc.join()
    assert proc.exitcode == 0 and seen[-1] == ("result", 2)
    assert len(list(out.glob("*/analysis.json"))) == 2

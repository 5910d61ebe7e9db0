"""``--engine dask`` (issue 11): groups of threads run on a dask.distributed cluster of two worker
processes, and the output folder is the one a local run writes, byte for byte (timings aside);
a worker killed mid-group loses nothing and doubles nothing; a crashed run resumes."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from discourse.batch import LOCK_FILE, STATE_FILE, THREAD_MARKER, Event, run_batch
from discourse.cli import main
from discourse.core.cache import CACHE_DIR
from discourse.core.config import load_config
from discourse.core.stage import STAGES
from discourse.engines import ClusterError, dask_engine
from discourse.engines.dask_engine import DaskEngine

distributed = pytest.importorskip("distributed")

GROUP_TEXTS = 24  # groups of 1, 3, 6, 12 then 24 texts: many groups for two workers
FLAT = """Vote on the {topic}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

Ann, I disagree. The {topic} plan brings jobs.

Ann Lee

Bob, why? Give an example.
"""
WORDS = "the town vote stadium money jobs public private think agree disagree idiot hate good bad why".split()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes of one thread each, as `discourse analyze --engine dask` starts by default."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSONL of 14 threads of 1-4 comments, and three flat files: 17 threads in 4 input files."""
    src = tmp_path_factory.mktemp("corpus")
    rows = []
    for k in range(14):
        for j in range(1 + k % 4):
            words = [WORDS[(k * 7 + j * 3 + i) % len(WORDS)] for i in range(6 + (k + j) % 5)]
            rows.append(
                {
                    "thread_id": f"t{k}",
                    "title": f"Thread {k}",
                    "id": f"t{k}c{j}",
                    "parent_id": f"t{k}c{j - 1}" if j else "",
                    "author": ["ann", "bob", "cy"][(k + j) % 3],
                    "text": " ".join(words),
                }
            )
    (src / "many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    for topic in ("stadium", "bike lanes", "parking"):
        (src / f"{topic.replace(' ', '_')}.txt").write_text(FLAT.format(topic=topic), encoding="utf-8")
    return src


THREADS = 17

RUN_SPECIFIC = [
    (re.compile(rb'"timings_s": \{[^}]*\}'), b'"timings_s": {...}'),  # analysis.json: seconds per stage
    (re.compile(rb'"seconds": [-0-9.e]+'), b'"seconds": ...'),  # index entries (marker, state): the same
]


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file of an output folder, by path, with only the run-specific numbers masked (the
    lock file holds the pid of the run that wrote last). The local engine's result cache
    (``.discourse-cache``) is not output: it is left out."""
    files: dict[str, bytes] = {}
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name != LOCK_FILE and CACHE_DIR not in p.relative_to(out).parts:
            data = p.read_bytes()
            for pattern, mask in RUN_SPECIFIC:
                data = pattern.sub(mask, data)
            files[p.relative_to(out).as_posix()] = data
    return files


@pytest.fixture(scope="module")
def local_run(corpus: Path, tiny_config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("local") / "out"
    res = run_batch([corpus], out, load_config(tiny_config), group_texts=GROUP_TEXTS)
    assert len(res.processed) == 4
    snap = snapshot(out)
    # the masks hide numbers, not files: each thread has its timings and its seconds
    assert sum(b'"timings_s": {...}' in v for k, v in snap.items() if k.endswith("/analysis.json")) == THREADS
    assert sum(b'"seconds": ...' in v for k, v in snap.items() if k.endswith(THREAD_MARKER)) == THREADS
    return snap


def thread_events(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.data["file"], e.data["thread_id"]) for e in events if e.kind == "thread"]


def test_a_dask_run_writes_what_a_local_run_writes(
    cluster: Any, corpus: Path, tiny_config: dict, local_run: dict[str, bytes], tmp_path: Path
) -> None:
    events: list[Event] = []
    out, cfg = tmp_path / "out", load_config(tiny_config)
    with distributed.Client(cluster.scheduler_address) as client:
        built_before = client.run(lambda: dask_engine.pipelines_built)
    res = run_batch(
        [corpus],
        out,
        cfg,
        group_texts=GROUP_TEXTS,
        engine=DaskEngine(cluster.scheduler_address),
        on_event=events.append,
    )
    assert len(res.processed) == 4 and not res.failed
    got = snapshot(out)
    assert sorted(got) == sorted(local_run)
    for name in local_run:
        assert got[name] == local_run[name], f"{name} differs from the local run"

    # progress as groups complete: one line per thread, counts rising to the total, a rate and an ETA
    assert len(thread_events(events)) == len(set(thread_events(events))) == THREADS
    progress = [e.data for e in events if e.kind == "thread"]
    assert [p["threads_done"] for p in progress] == list(range(1, THREADS + 1))
    assert progress[-1]["eta_s"] == 0.0 and all("comments_per_s" in p for p in progress)
    assert [e.data["workers"] for e in events if e.kind == "cluster"] == [2]
    groups = [e for e in events if e.kind == "group"]
    assert len(groups) > 2

    # both workers took groups, and each built its pipeline (loaded its models) at most once for all
    # of them (none if an earlier test left it this config's pipeline)
    with distributed.Client(cluster.scheduler_address) as client:
        built = client.run(lambda: dask_engine.pipelines_built)
        holds = client.run(lambda: dask_engine._cached[0] if dask_engine._cached else None)
    assert all(built[w] - built_before.get(w, 0) <= 1 for w in built)
    assert list(holds.values()) == [cfg.hash(), cfg.hash()]


def test_a_crashed_dask_run_resumes(
    cluster: Any, corpus: Path, tiny_config: dict, local_run: dict[str, bytes], tmp_path: Path
) -> None:
    out, cfg = tmp_path / "out", load_config(tiny_config)
    engine = DaskEngine(cluster.scheduler_address)
    first: list[Event] = []

    def crash_after_five(event: Event) -> None:
        first.append(event)
        if len(thread_events(first)) == 5:
            raise KeyboardInterrupt  # the client machine goes down mid-run

    with pytest.raises(KeyboardInterrupt):
        run_batch([corpus], out, cfg, group_texts=GROUP_TEXTS, engine=engine, on_event=crash_after_five)
    assert len(list(out.glob("*/analysis.json"))) == 5
    state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    assert sum(len(s["threads"]) for s in state.values()) == 5  # the state kept what was written
    # what was written before the crash is what an uninterrupted run writes
    written = {k: v for k, v in snapshot(out).items() if "/" in k}
    assert written and all(local_run[k] == v for k, v in written.items())

    # resumed by dask and, from a copy of the same folder, by the local engine: the same groups of
    # the threads left, so the same bytes (a thread's last digits depend on the group it ran in)
    shutil.copytree(out, tmp_path / "resumed_locally")
    run_batch([corpus], tmp_path / "resumed_locally", cfg, group_texts=GROUP_TEXTS)
    second: list[Event] = []
    run_batch([corpus], out, cfg, group_texts=GROUP_TEXTS, engine=engine, on_event=second.append)
    assert not set(thread_events(first)) & set(thread_events(second))  # nothing analysed twice
    assert len(thread_events(second)) == THREADS - 5
    got, expected = snapshot(out), snapshot(tmp_path / "resumed_locally")
    assert sorted(got) == sorted(expected) == sorted(local_run)
    assert [k for k in expected if got[k] != expected[k]] == []


def test_a_dask_run_waits_for_the_run_holding_the_folder(
    cluster: Any, corpus: Path, tiny_config: dict, tmp_path: Path
) -> None:
    import fcntl

    out = tmp_path / "out"
    out.mkdir()
    held = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(held, fcntl.LOCK_EX)  # another run is writing into the folder
    events: list[Event] = []
    engine = DaskEngine(cluster.scheduler_address)
    runner = threading.Thread(
        target=run_batch,
        args=([corpus], out, load_config(tiny_config)),
        kwargs={"engine": engine, "on_event": events.append},
    )
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not events:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)
        assert [e.kind for e in events] == ["wait"]  # it waits, and sends nothing to the cluster meanwhile
        assert not list(out.glob("*/analysis.json"))
    finally:
        os.close(held)  # the other run ends
        runner.join(timeout=240)
    assert not runner.is_alive() and len(thread_events(events)) == THREADS


HOLD_STAGE = '''
"""A stage that holds the first group it sees (on whichever worker) until the test kills it."""
import os
import time
from dataclasses import dataclass

from discourse.core.stage import STAGES, stage

STAGES.unregister("hold.v1")  # dask's upload_file may import this module again (reload)


@dataclass(frozen=True)
class HoldConfig:
    folder: str = ""


@stage("hold.v1", config=HoldConfig, requires=("text",))
class HoldStage:
    def __init__(self, config, resources):
        self.folder = config.folder

    def __call__(self, docs):
        try:
            fd = os.open(os.path.join(self.folder, "victim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return  # someone was held already: run on
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until killed
            time.sleep(0.1)
'''


@pytest.fixture
def hold_stage(tmp_path: Path, cluster: Any) -> Iterator[tuple[str, Path]]:
    """The hold stage, registered here and on every worker, restarted ones too (upload_file)."""
    name = f"hold_stage_{os.getpid()}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(HOLD_STAGE), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    with distributed.Client(cluster.scheduler_address) as client:
        client.upload_file(str(path))
    folder = tmp_path / "hold"
    folder.mkdir()
    try:
        yield name, folder
    finally:
        STAGES.unregister("hold.v1")
        sys.modules.pop(name, None)


def test_a_worker_killed_mid_group_loses_nothing_and_writes_nothing_twice(
    cluster: Any, corpus: Path, tiny_config: dict, hold_stage: tuple[str, Path], tmp_path: Path
) -> None:
    _, folder = hold_stage
    pipeline = [*load_config(tiny_config).pipeline, "hold.v1"]
    cfg = load_config(
        {**tiny_config, "pipeline": pipeline, "stages": {**tiny_config["stages"], "hold.v1": {"folder": str(folder)}}}
    )

    (folder / "victim").write_text("none")  # the local reference run is not held
    run_batch([corpus], tmp_path / "local", cfg, group_texts=GROUP_TEXTS)
    (folder / "victim").unlink()
    expected = snapshot(tmp_path / "local")

    with distributed.Client(cluster.scheduler_address) as client:
        workers_before = set(client.run(os.getpid).values())
    out = tmp_path / "out"
    events: list[Event] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            run_batch(
                [corpus],
                out,
                cfg,
                group_texts=GROUP_TEXTS,
                engine=DaskEngine(cluster.scheduler_address),
                on_event=events.append,
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            failure.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    deadline = time.monotonic() + 120
    while not (folder / "victim").exists() or not (folder / "victim").read_text():
        assert time.monotonic() < deadline and runner.is_alive(), "no group was ever held"
        time.sleep(0.05)
    victim = int((folder / "victim").read_text())
    assert victim in workers_before
    os.kill(victim, signal.SIGKILL)  # a worker dies mid-group
    runner.join(timeout=240)
    assert not runner.is_alive() and not failure, failure

    with distributed.Client(cluster.scheduler_address) as client:
        assert victim not in set(client.run(os.getpid).values())  # it died (its nanny started another)
    # every thread once, told once, written whole, the same bytes as the local run
    assert len(thread_events(events)) == len(set(thread_events(events))) == THREADS
    got = snapshot(out)
    assert sorted(got) == sorted(expected) and all(got[k] == expected[k] for k in expected)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".discourse-tmp")]
    state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    assert all(s["status"] == "ok" and len(s["threads"]) == s["total"] for s in state.values())
    assert sum(s["total"] for s in state.values()) == THREADS


def test_the_cli_runs_on_a_cluster_and_prints_progress_lines(
    cluster: Any, corpus: Path, tiny_config: dict, tmp_path: Path
) -> None:
    import yaml

    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    out = tmp_path / "out"
    args = ["analyze", str(corpus), "--out", str(out), "--config", str(conf), "--json"]
    res = CliRunner().invoke(main, [*args, "--engine", "dask", "--scheduler", cluster.scheduler_address])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.output.splitlines()]
    assert sum(line["event"] == "thread" for line in lines) == THREADS
    assert lines[-1]["event"] == "summary" and lines[-1]["analysed"] == 4
    assert len(list(out.glob("*/report.html"))) == THREADS


def test_scheduler_without_the_dask_engine_is_a_usage_error(corpus: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["analyze", str(corpus), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"])
    assert res.exit_code == 2 and "--scheduler needs --engine dask" in res.output


def test_an_unreachable_scheduler_is_one_line(corpus: Path, tiny_config: dict, tmp_path: Path) -> None:
    engine = DaskEngine("tcp://127.0.0.1:9", connect_timeout=2)
    with pytest.raises(ClusterError, match=r"cannot reach the dask scheduler at tcp://127\.0\.0\.1:9") as err:
        run_batch([corpus], tmp_path / "out", load_config(tiny_config), engine=engine)
    assert "\n" not in str(err.value)
    assert not list((tmp_path / "out").glob("*/analysis.json"))


def test_without_a_scheduler_a_local_cluster_runs_the_batch_and_stops(
    corpus: Path, tiny_config: dict, local_run: dict[str, bytes], tmp_path: Path
) -> None:
    import psutil

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    events: list[Event] = []
    out = tmp_path / "out"
    run_batch(
        [corpus],
        out,
        load_config(tiny_config),
        group_texts=GROUP_TEXTS,
        engine=DaskEngine(n_workers=1),
        on_event=events.append,
    )
    assert [e.data["workers"] for e in events if e.kind == "cluster"] == [1]
    got = snapshot(out)
    assert sorted(got) == sorted(local_run) and [k for k in local_run if got[k] != local_run[k]] == []
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before and p.is_running()]
    assert [p for p in left if p.status() != psutil.STATUS_ZOMBIE] == []  # the cluster went with the run

"""One measurement each, meant to run in a fresh process (see :mod:`discourse.bench.runner`), so
peak RSS is that measurement's own. Model loading is timed apart (a warm-up) everywhere but in the
start-up measurement, which is about exactly that."""

from __future__ import annotations

import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from discourse.bench.clock import ModelClock

Row = dict[str, Any]
WARM_THREAD = "Warm up\n\nArticle.\n\n\nAnn Lee\n\nHello there.\n\nBob Ray\n\nHi Ann, I disagree.\n"


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). ``ru_maxrss`` is not used where VmHWM exists:
    Linux carries it across fork + exec, so a fresh child could report its parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def thread_files(path: Path) -> list[Path]:
    """A thread file, or every thread file of a folder in name order."""
    return sorted(path.glob("*.txt")) if path.is_dir() else [path]


def warm_up(pipe: Any) -> float:
    """Seconds to load every model of ``pipe`` (one tiny thread through it and the report)."""
    from discourse.api import analyze_thread, load_threads
    from discourse.report.html import render_report

    t0 = time.perf_counter()
    render_report(analyze_thread(load_threads(WARM_THREAD)[0], pipe))
    return time.perf_counter() - t0


def measure_pipeline(path: Path, cfg: Any) -> Row:
    """Every thread of ``path`` through the pipeline (in the groups the batch runner uses) and the
    batch's writers (analysis.json, comments.csv, report.html, graph.graphml, streamed into a
    scratch folder beside ``path`` as ``discourse analyze`` writes them; until 2026-11-30 they were
    rendered whole in memory, which at 100,000 comments in one thread set the peak: 3.05 GB):
    parse, stages and writing timed apart, and each stage's model time
    (:class:`~discourse.bench.clock.ModelClock`)."""
    from discourse.api import load_threads
    from discourse.core.engine import Pipeline
    from discourse.report.writers import write_outputs

    pipe = Pipeline(cfg)
    row: Row = {"load_s": warm_up(pipe)}
    clock = ModelClock(lambda: pipe.resources._stage[0] or "other")
    stages: dict[str, float] = defaultdict(float)
    n = threads = 0
    parse = render = 0.0
    t0 = time.perf_counter()
    with clock.installed():
        found: list[Any] = []
        for f in thread_files(path):
            t1 = time.perf_counter()
            found += load_threads(f.read_text(encoding="utf-8"))
            parse += time.perf_counter() - t1
        scratch = path.parent / f".{path.name}.out"
        for a in pipe.analyze(found):
            t1 = time.perf_counter()
            write_outputs(a, scratch, cfg.output)
            render += time.perf_counter() - t1
            n += len(a.thread.comments)
            threads += 1
            for k, v in a.timings.items():
                if k != "total":
                    stages[k] += v
    row["seconds"] = time.perf_counter() - t0
    shutil.rmtree(path.parent / f".{path.name}.out", ignore_errors=True)
    row.update(comments=n, threads=threads, parse_s=parse, render_s=render)
    row["stages"] = {k: {"seconds": v, "model_s": clock.seconds.get(k, 0.0)} for k, v in stages.items()}
    row["model_calls"] = dict(clock.calls)
    return row


def encoder_config(cfg: Any) -> dict[str, Any]:
    """The encoder's Hugging Face config.json (for its FLOPs per token)."""
    from discourse.stages.encode.encoder import resolve_encoder_path

    data: dict[str, Any] = json.loads((resolve_encoder_path(cfg.stage("encode.v1").model) / "config.json").read_text())
    return data


def measure_encode(path: Path, cfg: Any) -> Row:
    """The same comments merely embedded by the configured encoder (length-sorted batches)."""
    from discourse.api import load_threads
    from discourse.bench.machine import encoder_shape
    from discourse.core.engine import Resources
    from discourse.stages.encode import shared_encoder

    texts = [
        c.text for f in thread_files(path) for t in load_threads(f.read_text(encoding="utf-8")) for c in t.comments
    ]
    enc = shared_encoder(cfg.stage("encode.v1"), Resources())
    t0 = time.perf_counter()
    enc.encode(["warm up"])
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    e = enc.encode(texts)
    seconds = time.perf_counter() - t0
    tokens = float(e.n_tokens.mean())
    shape = encoder_shape(encoder_config(cfg))
    flops = sum(shape.flops(float(t)) for t in e.n_tokens) / len(texts)
    return {"load_s": load, "seconds": seconds, "comments": len(texts), "mean_tokens": tokens, "flops": flops}


def cached_rows(out: Path) -> dict[str, int]:
    """Rows per kind in a batch folder's result cache."""
    from discourse.core.cache import CACHE_DIR, CACHE_FILE

    db_path = out / CACHE_DIR / CACHE_FILE
    if not db_path.exists():
        return {}
    db = sqlite3.connect(db_path)
    try:
        return {str(k): int(n) for k, n in db.execute("SELECT kind, count(*) FROM results GROUP BY kind")}
    finally:
        db.close()


def measure_night(folder: Path, out: Path, cfg: Any) -> Row:
    """A nightly job: every thread file of ``folder`` through the batch runner the CLI uses, into
    ``out`` (whose result cache a previous night may have filled)."""
    from discourse.batch import run_batch

    warm = out.parent / f"{out.name}-warm"
    shutil.rmtree(warm, ignore_errors=True)
    (warm / "in").mkdir(parents=True)
    (warm / "in" / "w.txt").write_text(WARM_THREAD, encoding="utf-8")
    t0 = time.perf_counter()
    run_batch([warm / "in"], warm / "out", cfg, force=True, cache=False)
    load = time.perf_counter() - t0
    before = cached_rows(out)
    t0 = time.perf_counter()
    res = run_batch([folder], out, cfg)
    seconds = time.perf_counter() - t0
    after = cached_rows(out)
    return {
        "load_s": load,
        "seconds": seconds,
        "threads": len(res.processed),
        "failed": len(res.failed),
        "computed": {k: after.get(k, 0) - before.get(k, 0) for k in after},
    }


def measure_gemm() -> Row:
    """Matrix-multiply GFLOP/s in bf16 and fp32 on one thread and on every core."""
    from discourse.bench.machine import gemm_gflops, machine

    cores = machine("").cores
    return {
        "gflops": {f"{d}/{t}": gemm_gflops(d, t) for d in ("bf16", "fp32") for t in sorted({1, min(2, cores), cores})}
    }


def measure_toxblock_threads(seconds: float = 2.0) -> Row:
    """tox-block's forward (one batch of its fixed shape) in rows/s on one thread and on two: its
    100-step loop of small ops is why it runs single-threaded."""
    import torch

    from discourse.stages.toxicity.toxblock import ToxBlockClassifier

    model = ToxBlockClassifier()
    net = model._load()
    texts = [
        f"comment {k}: " + "you are wrong about the budget and the vote " * (1 + k % 9) for k in range(model.batch_size)
    ]
    ids = model.encode(texts)
    before = torch.get_num_threads()
    out: dict[str, float] = {}
    try:
        with torch.inference_mode():
            for threads in (1, 2):
                torch.set_num_threads(threads)
                net(ids)
                done, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < seconds:
                    net(ids)
                    done += 1
                out[str(threads)] = done * len(texts) / (time.perf_counter() - t0)
    finally:
        torch.set_num_threads(before)
    return {"rows_per_s": out, "rows": len(texts)}


def time_to_first_comment(thread: Path, work: Path) -> Row:
    """``discourse analyze THREAD`` in a fresh process: seconds until its first thread is written
    (the ``thread`` event) and until it exits."""
    out = work / "startup-out"
    shutil.rmtree(out, ignore_errors=True)
    cli = Path(sys.executable).with_name("discourse")
    cmd = [str(cli), "analyze", str(thread), "--out", str(out), "--json"]
    t0 = time.perf_counter()
    first: float | None = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if first is None and line.startswith("{") and json.loads(line).get("event") == "thread":
                first = time.perf_counter() - t0
        code = proc.wait()
    total = time.perf_counter() - t0
    return {"first_comment_s": first, "seconds": total, "exit": code}


def child(spec: dict[str, Any]) -> Row:
    """One measurement from its spec (what :mod:`discourse.bench.runner` sends)."""
    from discourse.core.config import load_config

    kind = spec["kind"]
    if kind == "gemm":
        row = measure_gemm()
    elif kind == "toxblock-threads":
        row = measure_toxblock_threads()
    else:
        cfg = load_config(spec.get("config") or {})
        if kind == "pipeline":
            row = measure_pipeline(Path(spec["path"]), cfg)
        elif kind == "encode":
            row = measure_encode(Path(spec["path"]), cfg)
        elif kind == "night":
            row = measure_night(Path(spec["path"]), Path(spec["out"]), cfg)
        else:
            raise ValueError(f"unknown measurement {kind!r}")
    row["peak_rss_mb"] = peak_rss_mb()
    return row

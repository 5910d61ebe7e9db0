"""Peak memory of ``discourse analyze`` as the corpus grows: does a batch stream its input?

    python scripts/bench_stream.py [--sizes 10000 100000] [--layout jsonl folder] [--work DIR]
                                   [--out DIR] [--config tiny.yaml] [--engine local|dask]

For each size, synthetic threads of about 5 comments (a root comment and replies of ~25 words
from a small vocabulary, a few authors) are written once into ``--work`` (default
``/tmp/discourse-bench-stream``), either as ONE JSONL file holding every thread (``jsonl``) or as
a folder of JSONL files of 50 threads each (``folder``). Then ``discourse analyze SRC --out OUT
-q`` runs in a fresh process under ``/usr/bin/time -v``; its "Maximum resident set size" is the
peak RSS of that run. Prints one row per run and a JSON line with every number. ``--out`` on a
memory filesystem (``/dev/shm/...``) takes the disk's fsync latency out of the time, not out of
the RSS (a tmpfs file is not in the process's resident set).

Not a test: timings depend on the machine and whatever else it runs; run it under ``nice``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

WORDS = (
    "the a town council vote stadium money jobs public private park road bus tax budget school "
    "people think agree disagree because maybe never always should would could data study year "
    "plan cost debt visitors traffic noise children housing rent water bike lanes safety police "
    "you I we they it this that not really very just still again also only but and or so if when"
).split()
AUTHORS = [f"user{k}" for k in range(40)]
THREADS_PER_FILE = 50


def thread_rows(k: int, rng: random.Random, size: int = 5) -> list[dict[str, Any]]:
    """One synthetic thread: ``size`` comments in a small reply tree (the first answers the article)."""
    rows = []
    for j in range(size):
        parent = "" if j == 0 else f"t{k}c{rng.randrange(j)}"
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))).capitalize() + "."
        rows.append(
            {
                "thread_id": f"t{k}",
                "title": f"Thread {k}",
                "id": f"t{k}c{j}",
                "parent_id": parent,
                "author": rng.choice(AUTHORS),
                "text": text,
            }
        )
    return rows


def make_corpus(work: Path, comments: int, layout: str) -> Path:
    """Write (once) ``comments`` comments in threads of ~5 as one JSONL file or a folder of files."""
    src = work / f"{layout}-{comments}"
    done = src / ".complete" if layout == "folder" else src.with_suffix(".done")
    if done.exists():
        return src / "threads.jsonl" if layout == "jsonl" else src
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    rng = random.Random(comments)
    n_threads = max(1, comments // 5)
    lines: list[str] = []
    file_no = 0
    for k in range(n_threads):
        lines.extend(json.dumps(r) for r in thread_rows(k, rng))
        if layout == "folder" and (k + 1) % THREADS_PER_FILE == 0:
            (src / f"part{file_no:05d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            lines, file_no = [], file_no + 1
    if lines:
        name = "threads.jsonl" if layout == "jsonl" else f"part{file_no:05d}.jsonl"
        (src / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    done.touch()
    return src / "threads.jsonl" if layout == "jsonl" else src


def measure(src: Path, out: Path, config: str | None, engine: str) -> dict[str, Any]:
    """Run ``discourse analyze`` under /usr/bin/time -v into a fresh ``out``; return its numbers."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "discourse.cli", "analyze", str(src), "--out", str(out), "-q"]
    if config:
        cmd += ["--config", config]
    if engine != "local":
        cmd += ["--engine", engine]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"discourse analyze failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    written = sum(1 for _ in out.glob("*/analysis.json"))
    return {"peak_rss_mb": int(rss.group(1)) / 1024 if rss else None, "seconds": seconds, "threads_written": written}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="comments per corpus")
    ap.add_argument("--layout", nargs="+", choices=["jsonl", "folder"], default=["jsonl", "folder"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/discourse-bench-stream"))
    ap.add_argument("--out", type=Path, help="the output folder (default: WORK/out), emptied before each run")
    ap.add_argument("--config", help="a discourse config (e.g. tiny models, to measure the batch alone)")
    ap.add_argument("--engine", default="local", choices=["local", "dask"])
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for layout in args.layout:
        for n in args.sizes:
            src = make_corpus(args.work, n, layout)
            r = {
                "layout": layout,
                "comments": n,
                "engine": args.engine,
                **measure(src, args.out or args.work / "out", args.config, args.engine),
            }
            rows.append(r)
            print(
                f"{layout:<6} {n:>8,} comments  peak RSS {r['peak_rss_mb']:8.1f} MB  {r['seconds']:8.1f} s"
                f"  {n / r['seconds']:7.1f} comments/s  {r['threads_written']:,} threads written",
                flush=True,
            )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

"""The one-command benchmark of issue 12: builds the inputs, runs every measurement in a fresh
process, prints each row as it comes and writes reports/benchmark.md and .json (the full run).

    python scripts/benchmark.py                      # the full run: 1,000 / 10,000 / 100,000 comments
    python scripts/benchmark.py --pair-sizes all     # ... with the pair pass at 100,000 too (2 h more)
    python scripts/benchmark.py --sizes 1000 --night 50,20   # a quick check (prints, writes nothing)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from discourse.bench.inputs import real_comments, write_one_thread, write_threads

REPO = Path(__file__).resolve().parents[2]
FULL_SIZES = (1_000, 10_000, 100_000)
PER_THREAD = 5  # "threads of 5"
VARIANTS: dict[str, dict[str, Any]] = {
    "pair": {},  # the default pipeline: stance by the pair model (reply + target)
    "no pair": {"stages": {"stance.v1": {"model": {"name": "stance-minilm-v1"}}}},  # the head over the shared vectors
}
NIGHT = (1_000, 20)  # threads, comments each on the first night; each gains 5% (one comment)
REFERENCE = Path("threads") / "idlib_patrol_thread.txt"
Row = dict[str, Any]


def with_dtype(config: dict[str, Any], dtype: str) -> dict[str, Any]:
    stages = {**config.get("stages", {}), "encode.v1": {"dtype": dtype}}
    return {**config, "stages": stages}


def run_child(spec: dict[str, Any]) -> Row:
    """One measurement (:func:`discourse.bench.measure.child`) in a fresh Python process."""
    cmd = [sys.executable, "-m", "discourse.bench", "--child", json.dumps(spec)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    if res.returncode != 0:
        raise SystemExit(f"{spec['kind']} measurement failed:\n{res.stderr[-3000:]}")
    row: Row = json.loads(res.stdout.strip().splitlines()[-1])
    return row


def say(text: str) -> None:
    print(text, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Issue 12's benchmark: throughput, memory, model share, night, start-up.")
    ap.add_argument("--sizes", default=",".join(map(str, FULL_SIZES)), help="comments per row, comma-separated")
    ap.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"pipelines to run, comma-separated ({', '.join(VARIANTS)})"
    )
    ap.add_argument(
        "--pair-sizes",
        default="1000,10000",
        help="sizes at which the pair variant runs too ('all': every size; at 100,000 it adds about two hours)",
    )
    ap.add_argument(
        "--night",
        default=f"{NIGHT[0]},{NIGHT[1]}",
        help="THREADS,COMMENTS of the first night (each thread then gains 5%%); 0 skips the second night",
    )
    ap.add_argument("--dtype", default="auto", help="encoder dtype: auto | fp32 | bf16")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=REPO / ".cache" / "bench", help="where inputs and outputs go")
    ap.add_argument("--reports", type=Path, default=REPO / "reports", help="where benchmark.md/.json go")
    ap.add_argument("--write", action="store_true", help="write the reports even when the run is not the full one")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def ints(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", ",").split(",") if x]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        from discourse.bench.measure import child

        print(json.dumps(child(json.loads(args.child))))
        return 0
    from discourse.bench.machine import machine
    from discourse.bench.measure import time_to_first_comment
    from discourse.bench.report import report

    sizes, night = ints(args.sizes), ints(args.night)
    pair_sizes = set(sizes) if args.pair_sizes == "all" else set(ints(args.pair_sizes))
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or len(night) not in (1, 2) or (night[0] and len(night) != 2):
        raise SystemExit(f"bad --variants {unknown} or --night {args.night!r} (THREADS,COMMENTS or 0)")
    if not (args.shared / "labeled").is_dir():
        raise SystemExit(f"needs the shared data (real comments): {args.shared} not found; pass --shared")
    full = tuple(sizes) == FULL_SIZES and variants == list(VARIANTS) and night and tuple(night) == NIGHT
    full = full and pair_sizes >= {1_000, 10_000}
    started = time.time()
    result: dict[str, Any] = {
        "command": "python scripts/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine().to_json(),
        "loadavg_start": list(os.getloadavg()),
        "dtype": args.dtype,
        "pair_sizes": sorted(pair_sizes & set(sizes)) if "pair" in variants else [],
        "rows": [],
    }
    pool = real_comments(args.shared)
    result["pool"] = len(pool)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    say(f"{result['machine']['cpu']} ({', '.join(result['machine']['flags'])}); load {result['loadavg_start']}")

    result["gemm"] = run_child({"kind": "gemm"})["gflops"]
    say("GEMM GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in result["gemm"].items()))
    result["toxblock_threads"] = run_child({"kind": "toxblock-threads"})["rows_per_s"]
    say(
        "tox-block forward rows/s by threads: "
        + ", ".join(f"{k}: {v:.0f}" for k, v in result["toxblock_threads"].items())
    )
    ref = args.shared / REFERENCE
    if ref.exists():
        result["startup"] = time_to_first_comment(ref, work)
        say(f"start-up: first comment of the reference thread after {result['startup']['first_comment_s']:.1f} s")

    for n in sizes:
        one = write_one_thread(pool, n, work / f"one_{n}.txt")
        fives = work / f"fives_{n}"
        shutil.rmtree(fives, ignore_errors=True)
        write_threads(pool, n, PER_THREAD, fives)
        enc = run_child({"kind": "encode", "path": str(one), "config": with_dtype({}, args.dtype)})
        enc.update(kind="encode", size=n)
        result["rows"].append(enc)
        speed = enc["comments"] / enc["seconds"]
        say(f"{n:>7,} bare encode   {speed:7.1f} comments/s  peak {enc['peak_rss_mb']:.0f} MB")
        for shape, path in (("one thread", one), (f"threads of {PER_THREAD}", fives)):
            for variant in variants:
                if variant == "pair" and n not in pair_sizes:
                    continue
                cfg = with_dtype(VARIANTS[variant], args.dtype)
                row = run_child({"kind": "pipeline", "path": str(path), "config": cfg})
                row.update(kind="pipeline", size=n, shape=shape, variant=variant)
                result["rows"].append(row)
                say(
                    f"{n:>7,} {shape:<13} {variant:<8} {row['comments'] / row['seconds']:7.1f} comments/s"
                    f"  {row['seconds']:8.1f} s  peak {row['peak_rss_mb']:.0f} MB"
                )
    if night[0]:
        result["night"] = run_nights(pool, night[0], night[1], work, args.dtype)
    result["loadavg_end"] = list(os.getloadavg())
    result["wall_s"] = time.time() - started
    text = report(result)
    print(text)
    (work / "benchmark.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")  # every run's figures
    if args.no_write or not (full or args.write):
        say("reports not written (" + ("--no-write" if args.no_write else "not the full run; --write to force") + ")")
        return 0
    from discourse.report.atomic import atomic_write_text

    atomic_write_text(args.reports / "benchmark.md", text)
    atomic_write_text(args.reports / "benchmark.json", json.dumps(result, indent=2) + "\n")
    say(f"wrote {args.reports / 'benchmark.md'} and benchmark.json")
    return 0


def run_nights(pool: Sequence[str], threads: int, per_thread: int, work: Path, dtype: str) -> Row:
    """Two nights of the batch runner over ``threads`` threads, each in a fresh process: the first
    on threads of ``per_thread`` comments, the second after each gained 5% (at least one)."""
    grown = per_thread + max(1, round(per_thread * 0.05))
    folder, out = work / "night-in", work / "night-out"
    for f in (folder, out):
        shutil.rmtree(f, ignore_errors=True)
    cfg = with_dtype({}, dtype)
    nights = []
    for shown in (per_thread, grown):
        write_threads(pool, threads * grown, grown, folder, shown=shown)
        r = run_child({"kind": "night", "path": str(folder), "out": str(out), "config": cfg})
        nights.append(r)
        say(
            f"night of {threads:,} threads x {shown}: {r['seconds']:.1f} s, computed {r['computed']},"
            f" peak {r['peak_rss_mb']:.0f} MB"
        )
    return {
        "threads": threads,
        "first_comments": per_thread,
        "grown_comments": grown,
        "first": nights[0],
        "second": nights[1],
    }

"""Time and peak memory of `discourse export` (each format) and `discourse digest` on output
folders of growing size. Prints a table; nothing is asserted.

The folders are built without models: every thread is a copy of one analysis.json of the given
size (40 comments by default) written by `discourse analyze` with the tiny test models, renamed per
thread, so only the readers and writers are measured.

    python scripts/bench_exports.py [--threads 250 2500] [--comments 40] [--work DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from discourse import testing
from discourse.batch import run_batch
from discourse.core.config import load_config

MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
if done.returncode:
    sys.exit(done.stderr)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def template(work: Path, comments: int) -> dict:
    """One analysed thread of ``comments`` comments (tiny models)."""
    src = work / "template.jsonl"
    rows = [
        {"thread_id": "t", "title": "Template", "id": f"c{i}", "parent_id": f"c{i // 2}" if i else None,
         "author": f"user{i % 7}", "text": f"comment {i}: the park plan is a waste of public money, I think. " * 3}
        for i in range(comments)
    ]  # fmt: skip
    rows[-1]["text"] = "You are an idiot and I hate you."
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cfg = load_config(testing.tiny_config(work / "models"))
    run_batch([src], work / "template-out", cfg)
    return json.loads(next((work / "template-out").glob("*/analysis.json")).read_text(encoding="utf-8"))


def build(folder: Path, data: dict, threads: int) -> None:
    folder.mkdir(parents=True)
    for k in range(threads):
        d = copy.deepcopy(data)
        d["thread"]["id"] = f"thread-{k}"
        thread = folder / f"thread-{k:06d}"
        thread.mkdir()
        (thread / "analysis.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")


def measure(cmd: list[str]) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True)
    seconds, kb = out.stdout.split()
    return float(seconds), int(kb) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[250, 2500])
    ap.add_argument("--comments", type=int, default=40)
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-exports-"))
    work.mkdir(parents=True, exist_ok=True)
    data = template(work, args.comments)
    exe = str(Path(sys.executable).with_name("discourse"))
    print("| threads | comments | command | seconds | peak RSS MB |\n|---|---|---|---|---|")
    for n in args.threads:
        folder = work / f"out-{n}"
        build(folder, data, n)
        for fmt in ("jsonl", "parquet", "convokit", "gexf"):
            s, mb = measure([exe, "export", str(folder), "--to", fmt, "--out", str(work / f"x-{n}.{fmt}")])
            print(f"| {n:,} | {n * args.comments:,} | export --to {fmt} | {s:.1f} | {mb:.0f} |", flush=True)
        s, mb = measure([exe, "digest", str(folder)])
        print(f"| {n:,} | {n * args.comments:,} | digest | {s:.1f} | {mb:.0f} |", flush=True)
    print(f"(work folder: {work}; {time.strftime('%Y-%m-%d')})")


if __name__ == "__main__":
    main()

"""What the stance cross-encoder costs the whole pipeline, beside the shipped head, on the same input.

    nice -n 19 .venv/bin/python -m discourse.train.stance_pair_bench [--sizes 1000] [--pair stance-pair-minilm-v1]

The threads are :mod:`discourse.bench`'s (real Reddit comments of ~100 MiniLM tokens in a random reply
tree, scraped flat text). Each measurement runs in a fresh process after a warm-up (model loading
excluded) and prints comments/s for the whole pipeline and the seconds of ``stance.v1``, for:
the head (``stance-minilm-v1``), the cross-encoder without and with the deciding-sentence pass.
Numbers on a shared machine move with its load: compare rows of one run only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from discourse.train import REPO, SHARED_DATA

MODES = ("head", "pair", "pair+sentence")


def _spec(model: str) -> dict[str, str]:
    return {"path": model} if Path(model).is_dir() else {"name": model}


def child(mode: str, n: int, pair: str) -> dict[str, Any]:
    from discourse.bench import build_thread, measure_pipeline, real_comments
    from discourse.core.config import load_config

    stance: dict[str, Any] = {"model": {"name": "stance-minilm-v1"}}
    if mode != "head":
        stance = {"model": _spec(pair), "sentence_evidence": mode == "pair+sentence"}
    cfg = load_config({"stages": {"stance.v1": stance}})
    row = measure_pipeline(build_thread(real_comments(SHARED_DATA), n), cfg)
    return {"mode": mode, **row, "comments_per_s": row["comments"] / row["seconds"]}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--pair", default="stance-pair-minilm-v1", help="registered name or folder of the pair model")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]), args.pair)))
        return 0
    print("| comments | stance model | comments/s | seconds | stance.v1 s |\n|---|---|---|---|---|")
    for n in args.sizes:
        for mode in args.modes:
            cmd = [sys.executable, "-m", "discourse.train.stance_pair_bench", "--pair", args.pair]
            cmd += ["--child", mode, str(n)]
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            stance_s = r["stages_s"].get("stance.v1", float("nan"))
            print(f"| {n:,} | {mode} | {r['comments_per_s']:.1f} | {r['seconds']:.1f} | {stance_s:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

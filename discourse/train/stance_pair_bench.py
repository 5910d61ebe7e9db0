"""What the stance cross-encoder costs the whole pipeline, beside the shipped head, on the same input.

    nice -n 19 .venv/bin/python -m discourse.train.stance_pair_bench [--sizes 1000] [--pair stance-pair-minilm-v1]

The threads are :mod:`discourse.bench`'s (real Reddit comments of ~100 MiniLM tokens in a random reply
tree, scraped flat text). Each measurement runs in a fresh process after a warm-up (model loading
excluded) and prints comments/s for the whole pipeline and the seconds of ``stance.v1``, for:
the head (``stance-minilm-v1``), the cross-encoder without and with the deciding-sentence pass.
Numbers on a shared machine move with its load: compare rows of one run only.

``--pass-only`` times the bare pair pass instead, side by side in one process: every model in
``--pair`` (several allowed) over the same real reply/parent pairs (the held-out pairs of
:func:`discourse.train.stance_pair_eval.held_out_rows`, first ``--pairs`` of each source), in
alternating rounds (min of ``--rounds``), as ms per pair (= per comment: one pair pass per reply).
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
    import tempfile

    from discourse.bench.inputs import build_thread, real_comments
    from discourse.bench.measure import measure_pipeline
    from discourse.core.config import load_config

    stance: dict[str, Any] = {"model": {"name": "stance-minilm-v1"}}
    if mode != "head":
        stance = {"model": _spec(pair), "sentence_evidence": mode == "pair+sentence"}
    cfg = load_config({"stages": {"stance.v1": stance}})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "thread.txt"
        path.write_text(build_thread(real_comments(SHARED_DATA), n), encoding="utf-8")
        row = measure_pipeline(path, cfg)
    return {"mode": mode, **row, "comments_per_s": row["comments"] / row["seconds"]}


def pass_cost(
    models: Sequence[str], pairs: Sequence[tuple[str, str]], rounds: int = 3, backend: str = "auto"
) -> dict[str, dict[str, Any]]:
    """Seconds of each model's pair pass over ``pairs`` (target, reply), models alternating, best of
    ``rounds``; tokenising is included (as in the stage)."""
    import os
    import time

    from discourse.train.stance_pair_eval import classifier

    clfs = {m: classifier(m, backend) for m in models}
    for clf in clfs.values():
        clf.predict_pairs(list(pairs[:32]))  # load + warm up
    best = {m: float("inf") for m in models}
    for _ in range(rounds):
        for m, clf in clfs.items():
            t0 = time.perf_counter()
            clf.predict_pairs(list(pairs))
            best[m] = min(best[m], time.perf_counter() - t0)
    load = round(os.getloadavg()[0], 2)
    return {
        m: {
            "pairs": len(pairs),
            "seconds": round(best[m], 3),
            "ms_per_pair": round(1000 * best[m] / len(pairs), 2),
            "load_average_1min": load,
        }
        for m in models
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--pair", default="stance-pair-minilm-v1", help="registered name or folder of the pair model")
    ap.add_argument("--pass-only", nargs="+", metavar="MODEL", help="time the bare pair pass of these models")
    ap.add_argument("--pairs", type=int, default=200, help="--pass-only: held-out pairs per source")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--backend", default="auto", choices=["auto", "torch", "openvino"], help="--pass-only backend")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.pass_only:
        import torch

        from discourse.train.stance_data import DEFAULT_ROOT
        from discourse.train.stance_pair_eval import held_out_rows

        if args.threads:
            torch.set_num_threads(args.threads)
        rows = [r for rs in held_out_rows(DEFAULT_ROOT).values() for r in rs[: args.pairs]]
        pairs = [(r.target_text, r.reply_text) for r in rows]
        cost = pass_cost(args.pass_only, pairs, args.rounds, args.backend)
        print(f"| pair model | pairs | seconds (best of {args.rounds}) | ms/pair | torch threads | load |")
        print("|---|---|---|---|---|---|")
        for m, c in cost.items():
            print(
                f"| {m} | {c['pairs']} | {c['seconds']} | {c['ms_per_pair']} | {torch.get_num_threads()} | "
                f"{c['load_average_1min']} |"
            )
        return 0
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
            stance_s = r["stages"].get("stance.v1", {}).get("seconds", float("nan"))
            print(f"| {n:,} | {mode} | {r['comments_per_s']:.1f} | {r['seconds']:.1f} | {stance_s:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The stance pair pass on torch bf16 autocast, torch fp32 and OpenVINO bf16, side by side.

Pairs are (parent, reply) of real Reddit comments (the benchmark's pool, 60-95 words each), the
shipped pair model, rounds alternating the backends in one process. Prints pairs/s (wall) and per
CPU-second, the largest probability difference and the label agreement against torch fp32.

    python scripts/bench_pair_backends.py --n 300 --rounds 3
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

from discourse.bench.inputs import real_comments
from discourse.stages.stance.pair_model import StancePairClassifier


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args()
    pool = real_comments(args.shared)
    pairs = [(pool[i], pool[i + 1]) for i in range(min(args.n, len(pool) - 1))]
    models = {
        "torch fp32": StancePairClassifier(backend="torch"),
        "torch bf16 autocast": StancePairClassifier(backend="torch"),
        "OpenVINO bf16": StancePairClassifier(backend="openvino"),
    }
    for name, m in models.items():
        t = time.perf_counter()
        m._load()
        if name == "torch fp32":
            m._bf16 = False
        m.predict_pairs(pairs[:8])  # warm
        print(f"{name}: {m.backend_version}, loaded in {time.perf_counter() - t:.1f}s", flush=True)
    best: dict[str, tuple[float, float]] = {}
    out: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for name, m in models.items():
            w, c = time.perf_counter(), cpu_seconds()
            out[name] = m.predict_pairs(pairs)
            w, c = time.perf_counter() - w, cpu_seconds() - c
            rate = (len(pairs) / w, len(pairs) / c)
            best[name] = max(best.get(name, (0.0, 0.0)), rate)
    ref = out["torch fp32"]
    print(f"{len(pairs)} pairs, best of {args.rounds} alternating rounds")
    print("| backend | pairs/s | per CPU-s | max prob diff vs fp32 | same label as fp32 |")
    print("|---|---:|---:|---:|---:|")
    for name, (wall, cpu) in best.items():
        diff = float(np.abs(out[name] - ref).max())
        same = float((out[name].argmax(1) == ref.argmax(1)).mean())
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {diff:.4f} | {same:.3f} |")


if __name__ == "__main__":
    main()

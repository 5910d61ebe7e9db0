"""Torch encode of 400 real comments on 2 threads, best of 3: run once with OMP_WAIT_POLICY=ACTIVE and once
with PASSIVE (fresh processes) to compare OpenMP wait policies.

    OMP_WAIT_POLICY=ACTIVE python scripts/bench_omp_policy.py
    OMP_WAIT_POLICY=PASSIVE python scripts/bench_omp_policy.py
"""

import os
import time
from pathlib import Path

import discourse  # noqa: F401  (sets the default policy when none is given)
from discourse.bench.inputs import real_comments
from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder

texts = real_comments(Path(__file__).resolve().parents[2] / "shared" / "data")[:400]
enc = SentenceEncoder(DEFAULT_ENCODER, backend="torch")
enc.encode(texts[:16])
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    enc.encode(texts)
    best = min(best, time.perf_counter() - t)
print(os.environ.get("OMP_WAIT_POLICY"), f"{len(texts) / best:.1f} comments/s")

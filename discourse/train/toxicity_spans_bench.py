"""What the layer-3 token probe costs the shared encoder pass: seconds and bytes, with and without.

    OMP_NUM_THREADS=1 nice -n 19 python -m discourse.train.toxicity_spans_bench [N_COMMENTS]

Real comments of the benchmark's pool (``../shared/data``); the two encoders alternate, three
rounds each, and the fastest round of each is printed (the machine is shared).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def run(n: int = 2000, rounds: int = 3) -> dict[str, float]:
    from discourse.bench import real_comments
    from discourse.core.models import ModelSpec
    from discourse.stages.encode import load_token_probe
    from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder
    from discourse.train import SHARED_DATA

    texts = real_comments(SHARED_DATA)[:n]
    loaded = load_token_probe(ModelSpec(name="tox-spans-v1"), DEFAULT_ENCODER)
    assert loaded is not None
    plain, probed = SentenceEncoder(), SentenceEncoder(token_probe=loaded[0])
    for enc in (plain, probed):
        enc.encode(["warm up"])
    best = {"plain": float("inf"), "probe": float("inf")}
    tokens = 0
    for _ in range(rounds):
        for name, enc in (("plain", plain), ("probe", probed)):
            t0 = time.perf_counter()
            out = enc.encode(texts)
            best[name] = min(best[name], time.perf_counter() - t0)
            if out.tokens is not None:
                tokens = sum(len(out.tokens.spans(i)) for i in range(len(texts)))
    return {
        "comments": len(texts),
        "tokens": tokens,
        "seconds_without_probe": best["plain"],
        "seconds_with_probe": best["probe"],
        "overhead": best["probe"] / best["plain"] - 1.0,
        "bytes_per_token": float(np.dtype(np.int32).itemsize * 2 + np.dtype(np.float16).itemsize),
    }


def main(argv: list[str]) -> None:
    import torch

    torch.set_num_threads(1)
    print(json.dumps(run(int(argv[0]) if argv else 2000), indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])

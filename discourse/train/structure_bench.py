"""Time and peak memory of reply-structure inference as a thread grows (is it linear?).

    python -m discourse.train.structure_bench [--sizes 1000 10000] [--beam 8]

Builds synthetic flat threads (random preorder trees, random 384-d unit vectors standing in for
the MiniLM pass, one author line in five missing) and runs
:func:`~discourse.stages.reply_graph.links.infer_structure` with the shipped learned scorer,
printing seconds, microseconds per comment and the peak traced memory (a second, traced run) per size.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Sequence

import numpy as np

from discourse.core.thread import Comment, Thread
from discourse.stages.reply_graph import load_reply_weights

WORDS = "the town vote stadium money jobs public private think parking debt bike lanes data why you".split()


def synthetic_thread(n: int, seed: int = 0) -> tuple[Thread, np.ndarray]:
    rng = random.Random(seed)
    authors = [f"User{k}" for k in range(max(2, n // 5))]
    comments = []
    for k in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))).capitalize() + "."
        if rng.random() < 0.2:
            text = f"{rng.choice(authors)}: {text}"
        author = None if rng.random() < 0.2 else rng.choice(authors)
        comments.append(Comment(id=f"c{k}", text=text, author=author))
    v = np.random.default_rng(seed).normal(size=(n + 1, 384)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return Thread(id="bench", title="Bench", comments=tuple(comments), structure_known=False), v


def run(sizes: Sequence[int], beam: int, model: str, memory: bool = True) -> list[dict[str, float]]:
    from discourse.stages.reply_graph.links import infer_structure

    scorer, _ = load_reply_weights(model)
    out = []
    for n in sizes:
        thread, v = synthetic_thread(n)
        t0 = time.perf_counter()
        infer_structure(thread, v[1:], None, scorer, beam=beam, title_vector=v[0])
        secs = time.perf_counter() - t0
        peak = float("nan")
        if memory:  # traced separately: tracemalloc slows Python several times over
            tracemalloc.start()
            infer_structure(thread, v[1:], None, scorer, beam=beam, title_vector=v[0])
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        row = {
            "comments": n,
            "seconds": round(secs, 2),
            "us_per_comment": round(secs / n * 1e6),
            "peak_mb": round(peak / 2**20, 1),
        }
        print(row, flush=True)
        out.append(row)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--model", default="reply-links-v2")
    ap.add_argument("--no-memory", action="store_true", help="time only (tracing memory is slow)")
    ap.add_argument("--save", action="store_true", help="add the numbers to reports/reply_graph.json/.md")
    args = ap.parse_args(argv)
    rows = run(args.sizes, args.beam, args.model, memory=not args.no_memory)
    if args.save:
        import json

        from discourse.report.atomic import atomic_write_text
        from discourse.train import REPO
        from discourse.train.structure_train import report_markdown

        path = REPO / "reports" / "reply_graph.json"
        results = json.loads(path.read_text(encoding="utf-8"))
        results["bench"] = rows
        atomic_write_text(path, json.dumps(results, indent=2, default=float) + "\n")
        atomic_write_text(path.with_suffix(".md"), report_markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

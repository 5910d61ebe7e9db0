"""Encoder backends side by side: torch fp32, torch bf16 autocast, OpenVINO bf16 and f32.

    python scripts/bench_backends.py [--n 1000] [--rounds 3] [--threads 2] [--pipeline 1000] [--write]

On ``--n`` real comments of natural length (DEBAGREEMENT dev and subreddit-agreement, from
../shared/data; fixed shuffle), every backend runs the product's encoder pass (with the
tox-spans-v1 layer-3 probe, as ``encode.v1`` does). In ONE process, rounds alternate the
backends (so a change of load on a shared machine hits them alike): comments/s (wall), comments per
CPU-second (the process's user+system time, all threads), cosine of the text vectors to torch fp32
(min / mean) and the largest probe-score difference. Load time and first-call latency are taken
once per backend; OpenVINO's one-off conversion is timed into an empty cache folder. Peak RSS is
each backend's own: a fresh child process per backend encodes the same texts. ``--pipeline N``
also runs ``analyze`` on one thread of N real comments per backend (fresh child each). The load
average is printed beside every figure: others share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DISCOURSE_SHARED_DATA") or REPO.parent / "shared" / "data")
VARIANTS = {  # name -> (backend, dtype)
    "torch fp32": ("torch", "fp32"),
    "torch bf16 autocast": ("torch", "bf16"),
    "OpenVINO bf16": ("openvino", "bf16"),
    "OpenVINO f32": ("openvino", "fp32"),
}
Row = dict[str, Any]


def real_comments(n: int, shared: Path = SHARED, seed: int = 0) -> list[str]:
    """``n`` distinct real Reddit comments of natural length (short ones included), fixed order."""
    from discourse.bench.inputs import labelled_texts

    texts = labelled_texts(shared, rumoureval=False)
    uniq = [t for t in dict.fromkeys(" ".join(t.split()) for t in texts) if t and "[deleted]" not in t]
    random.Random(seed).shuffle(uniq)
    return uniq[:n]


def encoder(name: str, threads: int) -> Any:
    """The product's encoder (default model, tox-spans-v1 probe) on backend ``name``."""
    from discourse.core.models import ModelSpec
    from discourse.stages.encode import TOKEN_PROBE, load_token_probe
    from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder

    backend, dtype = VARIANTS[name]
    probe = load_token_probe(ModelSpec(name=TOKEN_PROBE), DEFAULT_ENCODER)
    return SentenceEncoder(dtype=dtype, backend=backend, threads=threads, token_probe=probe[0] if probe else None)


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb() -> float:
    """This process's peak resident size (VmHWM: unlike ru_maxrss it is not inherited from the
    parent across fork + exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load1() -> float:
    return os.getloadavg()[0]


def timed_load(name: str, threads: int) -> tuple[Any, Row]:
    enc = encoder(name, threads)
    t0 = time.perf_counter()
    enc._load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    enc.encode(["Thanks, that is a fair point about the vote."])
    return enc, {"load_s": load_s, "first_call_s": time.perf_counter() - t0, "version": enc.backend_version}


def conversion_seconds(threads: int) -> float:
    """OpenVINO's one-off conversion + save + compile, into an empty cache folder."""
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("DISCOURSE_CACHE_DIR")
        os.environ["DISCOURSE_CACHE_DIR"] = tmp
        try:
            enc = encoder("OpenVINO bf16", threads)
            t0 = time.perf_counter()
            enc._load()
            return time.perf_counter() - t0
        finally:
            if old is None:
                del os.environ["DISCOURSE_CACHE_DIR"]
            else:
                os.environ["DISCOURSE_CACHE_DIR"] = old


def probe_diff(a: Any, b: Any, i: int) -> float:
    """Largest difference of text ``i``'s token-probe scores between two passes."""
    x, y = (np.asarray(e.tokens.vectors(i), np.float32) for e in (a, b))
    return float(np.abs(x - y).max(initial=0))


def side_by_side(texts: Sequence[str], rounds: int, threads: int) -> tuple[dict[str, Row], Row]:
    """Every backend in this process, rounds alternating; the speed of each backend's best round."""
    info: Row = {"convert_s": conversion_seconds(threads)}
    encs: dict[str, Any] = {}
    rows: dict[str, Row] = {}
    for name in VARIANTS:
        encs[name], rows[name] = timed_load(name, threads)
        rows[name]["runs"] = []
    outs: dict[str, Any] = {}
    for r in range(rounds):
        for name in VARIANTS if r % 2 == 0 else reversed(list(VARIANTS)):
            la = load1()
            c0, t0 = cpu_seconds(), time.perf_counter()
            outs[name] = encs[name].encode(texts)
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
            rows[name]["runs"].append({"wall": wall, "cpu": cpu, "load": la})
            print(f"  round {r + 1} {name}: {len(texts) / wall:.1f}/s, {len(texts) / cpu:.1f}/CPU-s, load {la:.2f}")
    ref = outs["torch fp32"]
    info["mean_tokens"] = float(ref.n_tokens.mean())
    info["max_tokens"] = int(ref.n_tokens.max())
    for name, row in rows.items():
        out = outs[name]
        cos = (out.vectors * ref.vectors).sum(axis=1)
        row["cos_min"], row["cos_mean"] = float(cos.min()), float(cos.mean())
        row["probe_max_diff"] = max(probe_diff(out, ref, i) for i in range(len(texts)))
        best = min(row["runs"], key=lambda x: x["wall"])
        row["per_s"] = len(texts) / best["wall"]
        row["per_cpu_s"] = max(len(texts) / x["cpu"] for x in row["runs"])
        row["load_avg"] = [round(x["load"], 2) for x in row["runs"]]
    return rows, info


def child_rss(name: str, n: int, threads: int) -> Row:
    """In this (fresh) process: load ``name``, encode the texts once; peak RSS."""
    texts = real_comments(n)
    enc = encoder(name, threads)
    t0 = time.perf_counter()
    enc.encode(texts)
    return {"seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def reply_tree(texts: Sequence[str], seed: int = 0) -> Any:
    """One thread of ``texts``: a random reply tree (30% answer the article), authors from a pool."""
    from discourse.core.thread import Comment, Thread

    rng = random.Random(seed)
    authors = [f"user{k}" for k in range(40)]
    comments = [
        Comment(
            id=f"c{k}",
            text=t,
            author=rng.choice(authors),
            parent_id=None if k == 0 or rng.random() < 0.3 else f"c{rng.randrange(k)}",
        )
        for k, t in enumerate(texts)
    ]
    return Thread(id="bench", title="A thread of real comments", comments=tuple(comments), article=texts[0])


def child_pipeline(name: str, n: int, threads: int) -> Row:
    """In this (fresh) process: ``analyze`` one thread of ``n`` real comments with backend ``name``."""
    from discourse.api import analyze_thread
    from discourse.core.config import load_config
    from discourse.core.engine import Pipeline

    backend, dtype = VARIANTS[name]
    cfg = load_config({"stages": {"encode.v1": {"backend": backend, "dtype": dtype}}})
    pipe = Pipeline(cfg)
    t0 = time.perf_counter()
    analyze_thread(reply_tree(["Warm up.", "Hello there.", "Hi, I disagree."]), pipe)
    load_s = time.perf_counter() - t0
    thread = reply_tree(real_comments(n, seed=1))
    c0, t0 = cpu_seconds(), time.perf_counter()
    a = analyze_thread(thread, pipe)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {
        "load_s": load_s,
        "seconds": wall,
        "cpu_s": cpu,
        "comments": len(a.thread.comments),
        "encode_s": a.timings.get("encode.v1"),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_child(kind: str, name: str, n: int, threads: int) -> Row:
    cmd = [sys.executable, __file__, "--child", kind, name, "--n", str(n), "--threads", str(threads)]
    la = load1()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    if res.returncode != 0:
        sys.exit(f"{kind} child for {name} failed:\n{res.stderr[-2000:]}")
    row: Row = json.loads(res.stdout.strip().splitlines()[-1])
    row["load"] = la
    return row


def table(rows: dict[str, Row], info: Row, rss: dict[str, Row], pipe: dict[str, Row], args: argparse.Namespace) -> str:
    base = rows["torch bf16 autocast"]
    lines = [
        f"{args.n} real comments (mean {info['mean_tokens']:.0f} tokens, max {info['max_tokens']}), "
        f"{args.threads} thread(s), best of {args.rounds} alternating rounds in one process; "
        f"OpenVINO conversion (once per model and version, then cached): {info['convert_s']:.1f} s.",
        "",
        "| backend | comments/s | per CPU-s | vs torch bf16 (per CPU-s) | cosine to fp32 min / mean | probe max diff "
        "| load s | first call s | peak RSS MB | load average per round |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in rows.items():
        lines.append(
            f"| {name} (`{r['version']}`) | {r['per_s']:.1f} | {r['per_cpu_s']:.1f} | "
            f"{r['per_cpu_s'] / base['per_cpu_s']:.2f}x | {r['cos_min']:.5f} / {r['cos_mean']:.6f} | "
            f"{r['probe_max_diff']:.4f} | {r['load_s']:.1f} | {r['first_call_s']:.2f} | "
            f"{rss[name]['peak_rss_mb']:.0f} | {', '.join(map(str, r['load_avg']))} |"
        )
    if pipe:
        pbase = pipe["torch bf16 autocast"]
        lines += [
            "",
            f"Whole pipeline (`analyze`, one thread of {args.pipeline} real comments, fresh process each):",
            "",
            "| backend | comments/s | per CPU-s | vs torch bf16 (per CPU-s) | encode s | load s | peak RSS MB "
            "| load average |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, r in pipe.items():
            lines.append(
                f"| {name} | {r['comments'] / r['seconds']:.1f} | {r['comments'] / r['cpu_s']:.1f} | "
                f"{(r['comments'] / r['cpu_s']) / (pbase['comments'] / pbase['cpu_s']):.2f}x | "
                f"{r['encode_s']:.1f} | {r['load_s']:.1f} | {r['peak_rss_mb']:.0f} | {r['load']:.2f} |"
            )
    lines += ["", f"Reproduce: `{' '.join(['python scripts/bench_backends.py', *sys.argv[1:]])}`"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="real comments to encode")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--pipeline", type=int, default=0, help="also analyze one thread of this many comments")
    ap.add_argument("--write", type=Path, default=None, help="write the table to this markdown file")
    ap.add_argument("--child", nargs=2, metavar=("KIND", "BACKEND"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.child:
        kind, name = args.child
        row = child_rss(name, args.n, args.threads) if kind == "rss" else child_pipeline(name, args.n, args.threads)
        print(json.dumps(row))
        return 0
    if not SHARED.is_dir():
        sys.exit(f"needs the real comments in {SHARED}")
    texts = real_comments(args.n)
    print(f"load average at start: {os.getloadavg()}")
    rows, info = side_by_side(texts, args.rounds, args.threads)
    rss = {name: run_child("rss", name, args.n, args.threads) for name in VARIANTS}
    pipe = {}
    if args.pipeline:
        pipe = {name: run_child("pipeline", name, args.pipeline, args.threads) for name in VARIANTS}
    out = table(rows, info, rss, pipe, args)
    print(out)
    print(f"load average at end: {os.getloadavg()}")
    if args.write:
        args.write.write_text(out + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

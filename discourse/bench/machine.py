"""What the machine can do: its CPU, its measured matrix-multiply peak, and the encoder's FLOPs per
comment, whose ratio is the fastest an encoder-bound pipeline could run here."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

GEMM_SHAPES = ((2048, 2048, 2048), (4096, 384, 1536), (4096, 1536, 384))
"""(M, K, N) of the products timed: a square one and the encoder's feed-forward shapes."""


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    flags: tuple[str, ...]  # the ones that matter here: avx512f, avx512_bf16, amx_bf16, amx_tile...
    python: str
    torch: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


WANTED_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8", "amx_tile")


def machine(cpuinfo: str | None = None) -> Machine:
    """This machine's facts (``cpuinfo``: the text of /proc/cpuinfo, read when not given)."""
    import torch

    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    name = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "")
    flags_line = next((ln.split(":", 1)[1] for ln in cpuinfo.splitlines() if ln.startswith("flags")), "")
    have = set(flags_line.split())
    return Machine(
        cpu=name or platform.processor() or platform.machine(),
        cores=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
        flags=tuple(f for f in WANTED_FLAGS if f in have),
        python=platform.python_version(),
        torch=str(torch.__version__),
    )


def gemm_gflops(dtype: str, threads: int, seconds: float = 1.0) -> float:
    """The best GFLOP/s of torch matrix products in ``dtype`` (bf16 | fp32) on ``threads`` threads
    over :data:`GEMM_SHAPES`, each timed for about ``seconds`` after a warm-up."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        best = 0.0
        kind = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
        for m, k, n in GEMM_SHAPES:
            a, b = torch.randn(m, k).to(kind), torch.randn(k, n).to(kind)
            with torch.inference_mode():
                torch.matmul(a, b)
                done, t0 = 0, time.perf_counter()
                while time.perf_counter() - t0 < seconds:
                    torch.matmul(a, b)
                    done += 1
                spent = time.perf_counter() - t0
            best = max(best, 2.0 * m * k * n * done / spent / 1e9)
        return best
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int

    def flops(self, tokens: float) -> float:
        """FLOPs of one text of ``tokens`` tokens through the encoder's layers (multiply-add = 2):
        per token and layer, Q/K/V and output projections 8 h^2, feed-forward 4 h i, attention
        scores and their weighted sum 4 T h. MiniLM-L6 at 95 tokens: about 2.1 GFLOP."""
        h, i = self.hidden, self.intermediate
        return self.layers * tokens * (8 * h * h + 4 * h * i + 4 * tokens * h)


def encoder_shape(config: dict[str, Any]) -> EncoderShape:
    """From a Hugging Face ``config.json`` (BERT names)."""
    return EncoderShape(int(config["num_hidden_layers"]), int(config["hidden_size"]), int(config["intermediate_size"]))

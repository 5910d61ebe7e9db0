"""The benchmark of issue 12 (``python scripts/benchmark.py``; needs ../shared/data for real comments).

:mod:`.inputs` builds threads of real comments, :mod:`.measure` takes one measurement (run in a
fresh process each), :mod:`.clock` splits a stage's time into model and non-model time,
:mod:`.machine` measures the matrix-multiply peak and the encoder's FLOPs per comment,
:mod:`.runner` runs them all and :mod:`.report` writes reports/benchmark.md.
"""

from __future__ import annotations

from discourse.bench.inputs import build_thread, real_comments
from discourse.bench.runner import main

__all__ = ["build_thread", "main", "real_comments"]

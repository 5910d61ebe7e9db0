"""Model time vs the rest: how long the neural forward passes take inside each stage.

"Model time" is the time inside an outermost torch module call (the encoder, tox-block, the
stance pair model) or an OpenVINO inference request; everything else a stage does (tokenising,
windows, features, decoding, bookkeeping) is its non-model time. Which stage is running is asked
of a callable (the pipeline's current stage).
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class ModelClock:
    """Seconds of model time per stage while :meth:`installed`."""

    def __init__(self, where: Callable[[], str]) -> None:
        self.where = where
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._depth = 0

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            if clock._depth:  # a module inside a timed module: already counted
                return call(*args, **kwargs)
            clock._depth += 1
            t0 = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                clock._depth -= 1
                stage = clock.where()
                clock.seconds[stage] += time.perf_counter() - t0
                clock.calls[stage] += 1

        return timed

    @contextmanager
    def installed(self) -> Iterator[ModelClock]:
        """Time every outermost torch module call and OpenVINO inference until the block ends."""
        patched: list[tuple[Any, str, Any]] = []
        import torch

        patched.append((torch.nn.Module, "__call__", torch.nn.Module.__call__))
        ov = sys.modules.get("openvino")
        for cls_name, meth in (("InferRequest", "infer"), ("CompiledModel", "__call__")):
            cls = getattr(ov, cls_name, None) if ov is not None else None
            if cls is not None and hasattr(cls, meth):
                patched.append((cls, meth, getattr(cls, meth)))
        try:
            for cls, meth, orig in patched:
                setattr(cls, meth, self._timed(orig))
            yield self
        finally:
            for cls, meth, orig in reversed(patched):
                setattr(cls, meth, orig)

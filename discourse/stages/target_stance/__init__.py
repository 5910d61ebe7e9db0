"""``target_stance.v1``: each comment's stance toward the named targets of the config
(``targets: [Putin, Erdogan]``): favor / against / none for every comment that names one, with the
sentence that says so.

For each (target, sentence that names it) the cross-encoder ``target-stance-v1`` (the stance pair
model's encoder fine-tuned on pro/con arguments toward motions, :mod:`discourse.train.target_stance`)
reads ``[CLS] claim [SEP] sentence``, the claim being the target in the form it was trained on
("We should support Putin"; the ``claim`` setting). A comment that names a target in several
sentences takes the sentence that leans furthest to a side. Every pair of every thread of the group
goes through one batched, length-sorted pass; results are kept in the run's result cache. Without
targets (the default) the stage loads nothing and every comment's list is empty.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from discourse.core.cache import cached_map, content_key
from discourse.core.config import Config
from discourse.core.engine import Doc, Resources
from discourse.core.errors import ConfigError, ModelError
from discourse.core.layers import register_layer
from discourse.core.models import ModelSource, ModelSpec, load_model, register_model_kind
from discourse.core.stage import stage
from discourse.stages.stance import build_pair_model
from discourse.stages.target_stance.mentions import Mention, MentionFinder
from discourse.stages.target_stance.result import TargetStance, TargetStances

register_layer(
    "target_stance",
    "comment",
    TargetStances,
    doc="favor / against / none toward each configured target the comment names, with the sentence",
)

DEFAULT_MODEL = "target-stance-v1"
LABELS = ("favor", "against", "none")
CACHE_KIND = "target_stance.v1"
STAGE = "target_stance.v1"


register_model_kind("target_stance_pair", build_pair_model, inputs="text_pair", task="target_stance")


@dataclass(frozen=True)
class TargetStanceConfig:
    targets: tuple[str, ...] = ()  # names or short claims to read each comment's stance toward
    # what the model reads as the claim for a target: it was trained on "We should ..." motions, so a
    # name is put in that form; list claims as targets and set "{target}" to use them as they are
    claim: str = "We should support {target}"
    model: ModelSpec = ModelSpec(name=DEFAULT_MODEL)  # or {hf_model: <folder>, labels: [favor, against, none]}

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for t in self.targets:
            if not t.strip() or not any(ch.isalnum() for ch in t):
                raise ValueError(f"targets: {t!r} names nothing")
            if t.strip().casefold() in seen:
                raise ValueError(f"targets: {t!r} is listed twice")
            seen.add(t.strip().casefold())
        if "{target}" not in self.claim:
            raise ValueError(f"claim: {self.claim!r} must hold {{target}}, where the target's name goes")

    def claim_for(self, target: str) -> str:
        return self.claim.replace("{target}", target)


def with_targets(config: Config, targets: Sequence[str]) -> Config:
    """``config`` with ``targets`` as target_stance.v1's targets (``discourse analyze --target``)."""
    if not targets:
        return config
    if STAGE not in config.pipeline:
        raise ConfigError(f"--target needs {STAGE} in the pipeline; the config's pipeline is {list(config.pipeline)}")
    try:
        stage_config = replace(config.stage(STAGE), targets=tuple(t.strip() for t in targets))
    except ValueError as exc:
        raise ConfigError(f"--target: {exc}") from None
    return replace(config, stages={**config.stages, STAGE: stage_config})


def _load(spec: ModelSpec) -> Any:
    if spec.hf_model:
        model = build_pair_model(ModelSource(spec, None, None, {}))
    else:
        model = load_model(spec, task="target_stance").model
    model.record()  # loads it: the labels come from its files
    if tuple(model.labels) != LABELS:
        raise ModelError(f"target_stance.v1 needs a model with labels {list(LABELS)}, not {list(model.labels)}")
    return model


@stage(STAGE, config=TargetStanceConfig, requires=(), assigns=("target_stance",))
class TargetStanceStage:
    """Stance toward the configured targets, for every thread in the group at once."""

    def __init__(self, config: TargetStanceConfig, resources: Resources) -> None:
        self.config = config
        self.resources = resources

    def __call__(self, docs: Sequence[Doc]) -> None:
        finder = MentionFinder([t.strip() for t in self.config.targets]) if self.config.targets else None
        found = [(d, c.id, finder.mentions(c.text) if finder else []) for d in docs for c in d.thread.comments]
        mentions = [m for _, _, ms in found for m in ms]
        if not mentions:
            for d, cid, _ in found:
                d.annotations.set(cid, "target_stance", TargetStances())
            return
        spec = self.config.model
        model = self.resources.get(f"target_stance:{spec}", lambda: _load(spec))
        proba = self._proba(model, [(self.config.claim_for(m.target), m.sentence) for m in mentions])
        record = model.record()
        for d in {id(d): d for d, _, _ in found}.values():
            d.use_model(record)
        k = 0
        for d, cid, ms in found:
            rows = proba[k : k + len(ms)]
            k += len(ms)
            d.annotations.set(cid, "target_stance", TargetStances(tuple(_decide(ms, rows, model.name))))

    def _proba(self, model: Any, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Probabilities of favor / against / none for every (claim, sentence), each distinct pair
        once and from the result cache where a run already scored it with the same model and runtime."""
        from discourse import __version__

        record = model.record()
        identity = json.dumps([sorted(record.files.items()), record.version, record.runtime, __version__])
        uniq = list(dict.fromkeys(pairs))
        keys = [content_key(CACHE_KIND, identity, t, s) for t, s in uniq]
        rows = cached_map(
            self.resources.results,
            CACHE_KIND,
            keys,
            lambda idx: list(model.predict_pairs([uniq[i] for i in idx])),
            dump=lambda r: json.dumps([float(x) for x in r]).encode("utf-8"),
            load=lambda b: np.asarray(json.loads(b), dtype=np.float64),
        )
        at = {p: i for i, p in enumerate(uniq)}
        return np.asarray([rows[at[p]] for p in pairs], dtype=np.float64)


def _decide(mentions: Sequence[Mention], rows: np.ndarray, model: str) -> list[TargetStance]:
    """Per target (config order): the sentence that leans furthest to favor or against, and its label."""
    out: list[TargetStance] = []
    by_target: dict[str, list[int]] = {}
    for i, m in enumerate(mentions):
        by_target.setdefault(m.target, []).append(i)
    for target, idx in by_target.items():
        best = max(idx, key=lambda i: (max(rows[i][0], rows[i][1]), -i))
        row, m = rows[best], mentions[best]
        scores = dict(zip(LABELS, map(float, row), strict=True))
        out.append(TargetStance(target, LABELS[int(np.argmax(row))], scores, m.sentence, m.start, m.end, model))
    return out

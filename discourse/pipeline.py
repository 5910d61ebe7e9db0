"""Stages registered under versioned names, declaring what they need and assign.

The pipeline checks the order before running anything, and checks after each
stage that it assigned what it declared (cf. spaCy's factories and error E005).
Models live in ``Resources``: loaded lazily, once, and shared by every thread of
a batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from discourse.analysis import AttentionItem, Chain
from discourse.annotations import Annotations
from discourse.errors import ConfigError, PipelineError
from discourse.model import Thread
from discourse.models.encoder import Encoded, SentenceEncoder
from discourse.models.registry import ModelRecord


@dataclass
class Doc:
    """Working state of one thread as it moves through the stages.

    ``encoded`` holds the shared encoder pass: index 0 is the article (or the
    title when there is no article), index k+1 is comment k in thread order.
    """

    thread: Thread
    annotations: Annotations = field(default_factory=Annotations)
    encoded: Encoded | None = None
    chains: tuple[Chain, ...] = ()
    attention: tuple[AttentionItem, ...] = ()
    models: dict[str, ModelRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    provided: set[str] = field(default_factory=lambda: {"thread", "text"})

    def vector_row(self, comment_index: int) -> int:
        return comment_index + 1


class Resources:
    """Lazily built, shared models (one encoder, one toxicity model, …) for a run."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._cache: dict[str, Any] = {}

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def encoder(self) -> SentenceEncoder:
        enc = dict(self.config.get("encoder", {}))
        return self.get("encoder", lambda: SentenceEncoder(**enc))  # type: ignore[no-any-return]


StageFn = Callable[[Doc], None]
Factory = Callable[[Mapping[str, Any], Resources], StageFn]


@dataclass(frozen=True)
class StageSpec:
    name: str
    factory: Factory
    requires: tuple[str, ...]
    assigns: tuple[str, ...]
    check: Callable[[Doc], str | None] | None = None


STAGES: dict[str, StageSpec] = {}


def stage(
    name: str,
    requires: tuple[str, ...] = (),
    assigns: tuple[str, ...] = (),
    check: Callable[[Doc], str | None] | None = None,
) -> Callable[[Factory], Factory]:
    """Register a stage factory under a versioned name such as ``toxicity.v1``."""

    def deco(factory: Factory) -> Factory:
        if name in STAGES:
            raise PipelineError(f"stage {name!r} registered twice")
        STAGES[name] = StageSpec(name, factory, requires, assigns, check)
        return factory

    return deco


def check_order(names: list[str]) -> list[StageSpec]:
    """Return the stage specs, or raise if a stage is unknown or runs before what it needs."""
    import discourse.stages.builtin  # noqa: F401  (registers the built-in stages)

    have = {"thread", "text"}
    specs: list[StageSpec] = []
    for n in names:
        if n not in STAGES:
            raise ConfigError(f"unknown stage {n!r}; known: {', '.join(sorted(STAGES))}")
        spec = STAGES[n]
        missing = [r for r in spec.requires if r not in have]
        if missing:
            raise PipelineError(f"stage {n} requires {', '.join(missing)}, which no earlier stage assigns")
        have.update(spec.assigns)
        specs.append(spec)
    return specs


class Pipeline:
    """Build once from a resolved config; call on many threads."""

    def __init__(self, config: Mapping[str, Any], resources: Resources | None = None) -> None:
        self.config = config
        self.resources = resources or Resources(config)
        self.specs = check_order(list(config["pipeline"]))
        stage_cfg = config.get("stages", {}) or {}
        self._fns = [(s, s.factory(stage_cfg.get(s.name, {}) or {}, self.resources)) for s in self.specs]

    def run_many(self, threads: list[Thread], max_texts: int = 20_000) -> Iterator[Doc]:
        """Run many threads, encoding them together: one length-sorted encoder pass over the
        texts of up to ``max_texts`` texts' worth of threads at a time, so small threads batch as
        well as big ones. Yields each thread's Doc in order as it completes."""
        from discourse.stages.builtin import encoder_texts

        if not any(s.name == "encode.v1" for s in self.specs):
            for t in threads:
                yield self.run(t)
            return
        start = 0
        while start < len(threads):
            group: list[Thread] = []
            n = 0
            while start + len(group) < len(threads) and (not group or n < max_texts):
                t = threads[start + len(group)]
                group.append(t)
                n += len(t.comments) + 1
            t0 = time.perf_counter()
            texts = [x for t in group for x in encoder_texts(t)]
            encoded = self.resources.encoder().encode(texts)
            per_text = (time.perf_counter() - t0) / max(1, len(texts))
            at = 0
            for t in group:
                k = len(t.comments) + 1
                doc = Doc(thread=t, encoded=encoded.rows(at, at + k))
                doc.timings["encode.v1"] = per_text * k  # its share of the shared pass
                at += k
                yield self.run(t, doc)
            start += len(group)

    def run(self, thread: Thread, doc: Doc | None = None) -> Doc:
        doc = doc or Doc(thread=thread)
        for spec, fn in self._fns:
            t0 = time.perf_counter()
            fn(doc)
            doc.timings[spec.name] = doc.timings.get(spec.name, 0.0) + time.perf_counter() - t0
            if spec.check is not None:
                problem = spec.check(doc)
                if problem:
                    raise PipelineError(f"stage {spec.name} did not assign what it declares: {problem}")
            doc.provided.update(spec.assigns)
        return doc

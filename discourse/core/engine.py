"""The engine: runs the configured stages, in order, over groups of threads.

It knows no concrete stage or model. It checks before running that every stage's ``requires``
is assigned by an earlier one, and after each stage that the stage assigned what it declares
(cf. spaCy's error E005). Each stage is called once per group with every thread's ``Doc``, so
a model stage batches across all threads of a group (a nightly job is thousands of small
threads). Models live in ``Resources``: built lazily, once, and shared by every group.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from discourse.core.analysis import Analysis
from discourse.core.cache import ResultCache
from discourse.core.config import Config, load_config
from discourse.core.errors import PipelineError
from discourse.core.heap import release_heap
from discourse.core.layers import GIVEN, LAYERS, Annotations, layer_spec
from discourse.core.modelfiles import ModelRecord
from discourse.core.stage import STAGES, Stage, StageSpec
from discourse.core.thread import Thread

ProgressFn = Callable[[str, float, int], None]
"""``progress(stage, fraction done, comments in the group)``: how far a group has got."""

GROUP_TEXTS = 20_000
"""Threads are run in groups of about this many texts (comments plus the article)."""


@dataclass
class Doc:
    """Working state of one thread as it moves through the stages."""

    thread: Thread
    annotations: Annotations = field(default_factory=Annotations)
    models: dict[str, ModelRecord] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def use_model(self, record: ModelRecord) -> None:
        self.models[record.name] = record

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


class Resources:
    """Lazily built, shared objects (models, fitted weights) for a run, by key; and the run's
    result cache, if it has one (stages with costly per-comment outputs read and fill it)."""

    def __init__(self, cache: ResultCache | None = None, progress: ProgressFn | None = None) -> None:
        self._cache: dict[str, Any] = {}
        self.results = cache
        self.progress = progress
        self._stage = ("", 0)

    def report(self, fraction: float) -> None:
        """A stage says how far it has got with the current group (0..1); the engine says 0 and 1
        for every stage, long stages say more in between (the encoder, slice by slice)."""
        if self.progress is not None:
            self.progress(self._stage[0], min(max(fraction, 0.0), 1.0), self._stage[1])

    def get(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def release(self) -> None:
        """Let go of every shared object built so far (the models: 0.5 GB or more) and give the
        memory back to the OS; anything asked for afterwards is built again."""
        self._cache.clear()
        release_heap()


def check_order(names: Sequence[str]) -> list[StageSpec]:
    """Return the stage specs, or raise if a stage is unknown, runs before what it needs, or
    assigns a layer nobody registered."""
    have = set(GIVEN)
    specs: list[StageSpec] = []
    for n in names:
        spec = STAGES.get(n)
        missing = [r for r in spec.requires if r not in have]
        if missing:
            raise PipelineError(f"stage {n} requires {', '.join(missing)}, which no earlier stage assigns")
        for a in spec.assigns:
            if a not in LAYERS:
                raise PipelineError(f"stage {n} assigns unregistered layer {a!r}; register_layer() it first")
        have.update(spec.assigns)
        specs.append(spec)
    return specs


def _check_assigned(spec: StageSpec, docs: Sequence[Doc]) -> None:
    for name in spec.assigns:
        layer = layer_spec(name)
        for doc in docs:
            if layer.level == "thread":
                if not doc.annotations.has_value(name):
                    raise PipelineError(f"stage {spec.name} did not assign {name} for thread {doc.thread.id}")
                continue
            missing = [c.id for c in doc.thread.comments if doc.annotations.get(c.id, name) is None]
            if missing:
                raise PipelineError(f"stage {spec.name} did not assign {name} for {', '.join(missing[:5])}")


class Pipeline:
    """Build once from a config; call on many threads."""

    def __init__(self, config: Config | Mapping[str, Any] | None = None, resources: Resources | None = None) -> None:
        self.config = load_config(config) if not isinstance(config, Config) else config
        self.resources = resources or Resources()
        self.specs = check_order(self.config.pipeline)
        self._stages: list[tuple[StageSpec, Stage]] = [
            (s, s.factory(self.config.stage(s.name), self.resources)) for s in self.specs
        ]
        self.layer_order = tuple(dict.fromkeys(a for s in self.specs for a in s.assigns))

    def run_docs(self, docs: Sequence[Doc], last: bool = False) -> None:
        """Run every stage over ``docs`` (one group); each stage sees all of them at once.
        ``last``: no group comes after this one, so each stage's models are let go once it has
        run (:meth:`Resources.release`; a later stage asking for one builds it again): the pair
        pass of one huge thread then runs without the encoder's memory."""
        weights = [len(d.thread.comments) + 1 for d in docs]
        total = max(1, sum(weights))
        comments = sum(weights) - len(docs)
        for spec, fn in self._stages:
            t0 = time.perf_counter()
            self.resources._stage = (spec.name, comments)
            self.resources.report(0.0)
            fn(docs)
            if last:
                self.resources.release()
            else:
                release_heap()  # what the stage freed goes back to the OS before the next one runs
            self.resources.report(1.0)
            spent = time.perf_counter() - t0
            for d, w in zip(docs, weights, strict=True):  # each thread's share of the group's time
                d.timings[spec.name] = d.timings.get(spec.name, 0.0) + spent * w / total
            _check_assigned(spec, docs)

    def run(self, thread: Thread) -> Doc:
        doc = Doc(thread=thread)
        self.run_docs([doc])
        return doc

    def run_many(self, threads: Iterable[Thread], max_texts: int = GROUP_TEXTS, last: bool = False) -> Iterator[Doc]:
        """Run threads in groups of up to ``max_texts`` texts; yields each Doc, in order.
        ``last``: no threads come after these, so the last group runs with each stage's models let
        go once the stage is done (see :meth:`run_docs`), and its Docs are written with that memory
        free. Then the next group is pulled before a group is run, to know which group is last."""
        pending = groups(threads, max_texts)
        group = next(pending, None)
        while group is not None:
            docs = [Doc(thread=t) for t in group]
            group.clear()  # a stage may replace a Doc's thread (the reply graph does): the parsed one goes then
            group = next(pending, None) if last else None
            self.run_docs(docs, last=last and group is None)
            docs.reverse()
            while docs:  # handed over one by one: a Doc the caller is done with is not kept here
                yield docs.pop()
            if not last:
                group = next(pending, None)

    def analysis(self, doc: Doc) -> Analysis:
        """The result of one thread (built once; writers and the report read only this)."""
        timings = dict(doc.timings)
        timings["total"] = sum(doc.timings.values())
        return Analysis(
            thread=doc.thread,
            annotations=doc.annotations.drop_private(),
            layer_order=self.layer_order,
            models=tuple(doc.models.values()),
            config=self.config,
            warnings=tuple(doc.warnings),
            timings=timings,
        )

    def analyze(
        self, threads: Iterable[Thread], max_texts: int = GROUP_TEXTS, last: bool = False
    ) -> Iterator[Analysis]:
        """Each thread's analysis, in order, made one at a time (see :meth:`run_many`)."""
        for doc in self.run_many(threads, max_texts, last):
            analysis = self.analysis(doc)
            del doc  # its working state (the encoder's outputs) goes while the caller writes the analysis
            yield analysis


def groups(threads: Iterable[Thread], max_texts: int) -> Iterator[list[Thread]]:
    """Consecutive threads in groups of about ``max_texts`` texts (a big thread is a group alone)."""
    group: list[Thread] = []
    n = 0
    for t in threads:
        group.append(t)
        n += len(t.comments) + 1
        del t  # the group holds it; the caller may empty the group (see run_many)
        if n >= max_texts:
            yield group
            group, n = [], 0
    if group:
        yield group

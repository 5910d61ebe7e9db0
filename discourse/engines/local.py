"""The local engine: every group runs in this process, one after the other."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from discourse.core.cache import ResultCache
from discourse.core.config import Config
from discourse.core.engine import Pipeline, ProgressFn, Resources
from discourse.engines.base import Analysed, Job, Results, Say, ThreadResult, drain

STAGE_EVENTS_FROM = 1_000
"""Groups of at least this many comments tell each stage's progress (a "stage" event)."""


class LocalEngine:
    """Run each job as it is pulled; the pipeline (and so the models) is built on the first.

    ``results``: the output folder whose result cache (:class:`~discourse.core.cache.ResultCache`)
    the model stages read and fill, so a thread that gained comments re-encodes only those."""

    def __init__(self, results: Path | None = None) -> None:
        self.results = results

    def run(self, config: Config, jobs: Iterator[Job], say: Say) -> Results:
        pipeline: Pipeline | None = None
        cache = ResultCache.open(self.results) if self.results is not None else None
        for w in cache.warnings if cache is not None else ():
            say("warn", w, {})
        for job in jobs:
            pipeline = pipeline or Pipeline(config, Resources(cache, stage_progress(say)))
            analyses = pipeline.analyze(drain(job.threads), job.max_texts, job.last)  # made one at a time
            results: Iterator[ThreadResult] = (Analysed(a, config.output) for a in analyses)
            yield job, results


def stage_progress(say: Say) -> ProgressFn:
    """Stage progress of big groups as "stage" events (a huge thread is one long group)."""

    def progress(stage: str, fraction: float, comments: int) -> None:
        if comments >= STAGE_EVENTS_FROM:
            say(
                "stage",
                f"{comments:,} comments: {stage} {fraction:.0%}",
                {"stage": stage, "fraction": round(fraction, 3), "comments": comments},
            )

    return progress

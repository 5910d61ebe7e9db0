"""The local engine: every group runs in this process, one after the other."""

from __future__ import annotations

from collections.abc import Iterator

from discourse.core.config import Config
from discourse.core.engine import Pipeline
from discourse.engines.base import Analysed, Job, Results, Say, ThreadResult


class LocalEngine:
    """Run each job as it is pulled; the pipeline (and so the models) is built on the first."""

    def run(self, config: Config, jobs: Iterator[Job], say: Say) -> Results:
        pipeline: Pipeline | None = None
        for job in jobs:
            pipeline = pipeline or Pipeline(config)
            analyses = pipeline.analyze(job.threads, max_texts=job.max_texts)  # made one at a time
            results: Iterator[ThreadResult] = (Analysed(a, config.output) for a in analyses)
            yield job, results

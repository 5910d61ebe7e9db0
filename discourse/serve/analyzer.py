"""The models behind the server: two pipelines sharing one set of loaded models.

``comments`` runs only what Perspective's endpoint needs (``toxicity.v1``, after ``encode.v1`` when
the toxicity model reads the shared encoder vectors); ``threads`` runs the whole configured
pipeline. Both are built once per process over one :class:`Resources`, so a model both use loads
once. Only the batcher's worker thread calls them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from discourse.core.config import Config, load_config, read_user_config
from discourse.core.engine import Pipeline, Resources
from discourse.core.modelfiles import ModelRecord
from discourse.core.models import MODEL_KINDS, model_source
from discourse.core.thread import Comment, Thread
from discourse.stages.toxicity.result import ToxicityResult

TOXICITY = "toxicity.v1"
ENCODE = "encode.v1"


@dataclass(frozen=True)
class CommentJob:
    """One comments:analyze request: the comment first, then its sentences when spans were asked."""

    texts: tuple[str, ...]


def comments_config(source: str | Path | Mapping[str, Any] | None) -> Config:
    """The user's config with its pipeline cut to what scoring single comments needs."""
    user = dict(read_user_config(source)) if source is not None else {}
    cfg = load_config({**user, "pipeline": [ENCODE, TOXICITY]})
    src, kind = model_source(cfg.stage(TOXICITY).model)
    if MODEL_KINDS.get(kind).inputs != "encoded_text":  # tox-block or a HF model read the text alone
        cfg = load_config({**user, "pipeline": [TOXICITY]})
    return cfg


class Analyzer:
    def __init__(self, config: str | Path | Mapping[str, Any] | None = None) -> None:
        self.resources = Resources()
        self.threads = Pipeline(load_config(config), self.resources)
        self.comments = Pipeline(comments_config(config), self.resources)
        self.models: dict[str, ModelRecord] = {}

    def warm_up(self) -> None:
        """Load every model now (not on the first request) and learn their records for /v1/models."""
        self.score([CommentJob(("Warming up the models.",))])
        warm = Thread(
            id="warm-up",
            title="warm-up",
            comments=(
                Comment("a", "I think the plan is a good one."),
                Comment("b", "I disagree, it costs far too much.", parent_id="a"),
            ),
            structure_known=True,
        )
        self.analyze_threads([warm])

    def score(self, jobs: Sequence[CommentJob]) -> list[list[ToxicityResult]]:
        """Every text of every job in one pipeline pass; per job, one result per text."""
        threads = [
            Thread(
                id=f"request-{i}",
                title="",
                comments=tuple(Comment(f"t{k}", text) for k, text in enumerate(job.texts)),
                structure_known=True,
            )
            for i, job in enumerate(jobs)
        ]
        out = []
        for job, analysis in zip(jobs, self.comments.analyze(threads), strict=True):
            self._remember(analysis.models)
            out.append([analysis.get(f"t{k}", "toxicity") for k in range(len(job.texts))])
        return out

    def analyze_threads(self, threads: Sequence[Thread]) -> list[dict[str, Any]]:
        out = []
        for analysis in self.threads.analyze(threads):
            self._remember(analysis.models)
            out.append(analysis.to_json())
        return out

    def _remember(self, records: Sequence[ModelRecord]) -> None:
        for r in records:
            self.models.setdefault(r.name, r)

"""The linear reply-link scorer's features and weights (``reply-links-v1``, model kind ``reply_links``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from discourse.core.errors import ConfigError, ModelError

LINK_FEATURES: tuple[str, ...] = (
    "root",  # the candidate is the article
    "previous",  # the candidate is the comment just before (depth 0 on the path)
    "path_depth",  # steps up the path from the previous comment (0 for it, and for the root)
    "new_participant",  # root only: the author's first comment, and it addresses no one
    "reply_cue",  # root only: opens like a reply ("Again, I disagree", "Thank you", "you ...")
    "addressed",  # the comment addresses the candidate's author by name
    "addresses_other",  # it addresses a known participant who is not the candidate's author
    "same_author",  # the candidate has the comment's own author
    "turn_taking",  # the candidate was answering the comment's author (A -> B -> A)
    "similarity",  # MiniLM cosine to the candidate (to the article for the root)
    "root_unscored",  # root only: there is no article text to compare with (similarity left 0)
    "most_similar",  # the candidate is the most similar one
    "quote",  # the comment repeats six or more consecutive words of the candidate
)


@dataclass(frozen=True, slots=True)
class ReplyWeights:
    """One weight per entry of ``LINK_FEATURES``: a candidate's score is their dot product
    with its features, and a softmax over the candidates gives the link probabilities.

    The defaults are a hand-set prior used only when no fitted model is given; the
    pipeline loads the weights fitted by ``discourse.train.reply_links`` (shipped as
    ``models/reply-links-v1``)."""

    root: float = 0.0
    previous: float = 1.0
    path_depth: float = -0.5
    new_participant: float = 1.5
    reply_cue: float = -1.5
    addressed: float = 4.0
    addresses_other: float = -1.5
    same_author: float = -2.5
    turn_taking: float = 1.5
    similarity: float = 5.0
    root_unscored: float = 1.5
    most_similar: float = 0.0
    quote: float = 4.0

    @classmethod
    def from_config(cls, cfg: Mapping[str, float] | None, base: ReplyWeights | None = None) -> ReplyWeights:
        names = {f.name for f in fields(cls)}
        unknown = set(cfg or {}) - names
        if unknown:
            raise ConfigError(f"unknown reply-link weight(s) {sorted(unknown)}; known: {', '.join(LINK_FEATURES)}")
        return replace(base or cls(), **{k: float(v) for k, v in (cfg or {}).items()})

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, f) for f in LINK_FEATURES], dtype=np.float64)


def weights_from_meta(meta: Mapping[str, object], name: str) -> ReplyWeights:
    """The fitted weights in a ``reply_links`` model's model.json."""
    try:
        return ReplyWeights(**{k: float(v) for k, v in dict(meta["weights"]).items()})  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"reply-link model {name}: unreadable model.json ({exc})") from exc

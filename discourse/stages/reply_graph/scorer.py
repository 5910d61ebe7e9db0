"""The learned link scorer: a small MLP over :data:`~.features.FEATURES`, numpy only at prediction.

A candidate's score is the network's logit; a softmax over one comment's candidates (divided by
a fitted temperature) gives the link probabilities the decoder adds up. The confidence shown for
a chosen link is that probability passed through a calibration map fitted on held-out threads
(``calibration``: increasing knots, linear in between), so 0.8 means right about 80% of the time.
Fitted by :mod:`discourse.train.structure_fit`; shipped as ``models/reply-links-v2`` (model kind
``reply_link_scorer``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.thread import Comment
from discourse.stages.reply_graph.features import COL, FEATURES, INDENT
from discourse.stages.reply_graph.weights import LINK_FEATURES, ReplyWeights, weights_from_meta

PRIOR_TERMS: tuple[str, ...] = (
    "root",
    "previous",
    "path_depth",
    "new_participant",
    "reply_cue",
    "addressed",
    "addresses_other",
    "same_author",
    "turn_taking",
    "similarity",
    "root_unscored",
    "most_similar",
    "quote",
)
"""The linear prior's terms (the linear ``reply-links-v1`` scorer's features, read off the rows)."""


def prior_terms(rows: np.ndarray) -> np.ndarray:
    """(m, len(PRIOR_TERMS)): the linear prior's features of each candidate row."""
    root = rows[:, COL["root"]]
    return np.stack(
        [
            root,
            rows[:, COL["previous"]],
            rows[:, COL["distance"]],
            root * rows[:, COL["new_participant"]],
            root * rows[:, COL["reply_cue"]],
            np.maximum(rows[:, COL["addressed"]], rows[:, COL["mentioned"]]),
            rows[:, COL["addresses_other"]],
            rows[:, COL["same_author"]],
            rows[:, COL["turn_taking"]],
            rows[:, COL["similarity"]] * (1 - root * (1 - rows[:, COL["has_article"]])),
            root * (1 - rows[:, COL["has_article"]]),
            rows[:, COL["most_similar"]],
            rows[:, COL["quote"]],
        ],
        axis=1,
    )


@dataclass(frozen=True)
class LinkScorer:
    """Standardise, then ReLU layers, then one logit per row."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    temperature: float = 1.0
    calibration: tuple[tuple[float, ...], tuple[float, ...]] = ((0.0, 1.0), (0.0, 1.0))
    name: str = "reply-link-scorer"
    prior: tuple[float, ...] = ()  # weights of PRIOR_TERMS: a linear prior the network corrects
    fallback: ReplyWeights | None = None  # long-form threads with no depth marker: see routes_to_fallback
    long_form_chars: float = 150.0
    indented_share: float = 0.3

    def __post_init__(self) -> None:
        if tuple(self.features) != FEATURES:
            raise ModelError(
                f"reply-link model {self.name}: it was fitted on other features than this version computes"
            )

    def routes_to_fallback(self, comments: Sequence[Comment], has_article: bool = True) -> bool:
        """News-site style threads (an article, median comment ``long_form_chars`` characters or
        more, under ``indented_share`` of comments wiki-indented) go to the linear ``fallback``
        scorer: none of the sources the network was fitted on is like them, and there it did no
        better than the linear scorer on held-out threads while it broke the reference thread
        (reports/reply_graph.md)."""
        if not comments or not has_article:
            return False
        lengths = sorted(len(c.text) for c in comments)
        indented = sum(bool(INDENT.match(c.text)) for c in comments) / len(comments)
        return lengths[len(lengths) // 2] >= self.long_form_chars and indented < self.indented_share

    def logits(self, rows: np.ndarray) -> np.ndarray:
        h = (rows - self.mean) / self.scale
        for k, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if k < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        z = h[:, 0]
        if self.prior:
            z = z + prior_terms(rows) @ np.asarray(self.prior)
        return z / self.temperature

    def log_probs(self, rows: np.ndarray) -> np.ndarray:
        """Log-softmax over one comment's candidates."""
        z = self.logits(rows)
        z = z - z.max()
        return z - np.log(np.exp(z).sum())

    def confidence(self, p: float | np.ndarray) -> np.ndarray:
        """The calibrated probability that a link chosen with probability ``p`` is right."""
        xs, ys = self.calibration
        return np.asarray(np.interp(p, xs, ys), dtype=np.float64)

    def to_meta(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "layers": [{"weight": w.round(6).tolist(), "bias": b.round(6).tolist()} for w, b in self.layers],
            "temperature": round(self.temperature, 6),
            "calibration": {"p": list(self.calibration[0]), "right": list(self.calibration[1])},
            "prior": dict(zip(PRIOR_TERMS, self.prior, strict=True)) if self.prior else {},
            "fallback": (
                {
                    "weights": {k: getattr(self.fallback, k) for k in LINK_FEATURES},
                    "long_form_chars": self.long_form_chars,
                    "indented_share": self.indented_share,
                }
                if self.fallback is not None
                else None
            ),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, object], name: str) -> LinkScorer:
        try:
            layers = tuple(
                (np.asarray(layer["weight"], dtype=np.float64), np.asarray(layer["bias"], dtype=np.float64))
                for layer in meta["layers"]  # type: ignore[attr-defined]
            )
            cal = meta.get("calibration") or {"p": [0.0, 1.0], "right": [0.0, 1.0]}
            fb: dict[str, Any] = dict(meta.get("fallback") or {})  # type: ignore[call-overload]
            return cls(
                features=tuple(meta["features"]),  # type: ignore[arg-type]
                mean=np.asarray(meta["mean"], dtype=np.float64),
                scale=np.asarray(meta["scale"], dtype=np.float64),
                layers=layers,
                temperature=float(meta.get("temperature", 1.0)),  # type: ignore[arg-type]
                calibration=(tuple(map(float, cal["p"])), tuple(map(float, cal["right"]))),  # type: ignore[index]
                name=name,
                prior=tuple(float(dict(meta.get("prior") or {})[t]) for t in PRIOR_TERMS) if meta.get("prior") else (),  # type: ignore[call-overload]
                fallback=weights_from_meta(fb, name) if fb else None,
                long_form_chars=float(fb.get("long_form_chars", 150.0)) if fb else 150.0,
                indented_share=float(fb.get("indented_share", 0.3)) if fb else 0.3,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"reply-link model {name}: unreadable model.json ({exc})") from exc


def scorer_from_arrays(
    mean: np.ndarray,
    scale: np.ndarray,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    temperature: float = 1.0,
    calibration: tuple[Sequence[float], Sequence[float]] = ((0.0, 1.0), (0.0, 1.0)),
    prior: Sequence[float] = (),
) -> LinkScorer:
    return LinkScorer(
        FEATURES,
        np.asarray(mean, dtype=np.float64),
        np.where(np.asarray(scale) > 0, scale, 1.0).astype(np.float64),
        tuple((np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)) for w, b in layers),
        float(temperature),
        (tuple(map(float, calibration[0])), tuple(map(float, calibration[1]))),
        prior=tuple(map(float, prior)),
    )

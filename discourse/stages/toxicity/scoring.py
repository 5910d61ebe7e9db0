"""How a toxicity model's label scores become one overall score, whatever its labels."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

NON_TOXIC_LABELS = frozenset(
    {
        "neutral",
        "nontoxic",
        "nottoxic",
        "normal",
        "clean",
        "none",
        "safe",
        "acceptable",
        "nonoffensive",
        "notoffensive",
        "nonabusive",
        "notabusive",
        "nonhate",
        "nothate",
        "nohate",
    }
)
"""Label names (lower-cased, with ``-``, ``_`` and spaces removed) that mean "not toxic"."""


def _norm(label: str) -> str:
    return re.sub(r"[\s_\-]+", "", label.lower())


def non_toxic_labels(labels: Any) -> list[str]:
    """The labels that mean "not toxic": names in :data:`NON_TOXIC_LABELS`, and ``LABEL_0``
    when every label is a generic ``LABEL_k`` (classifiers conventionally put the
    negative class first)."""
    labels = list(labels)
    named = [k for k in labels if _norm(k) in NON_TOXIC_LABELS]
    if named:
        return named
    if labels and all(re.fullmatch(r"LABEL_\d+", k) for k in labels) and "LABEL_0" in labels:
        return ["LABEL_0"]
    return []


def overall_toxicity(scores: Mapping[str, float]) -> float:
    """One score in 0..1 from a model's per-label scores.

    * If some labels mean "not toxic" (see :func:`non_toxic_labels`; e.g. ``normal`` in a
      normal / offensive / hate softmax): ``1 - p(not toxic)``, the probability mass on the
      toxic classes, summing the non-toxic labels if there are several.
    * Otherwise (tox-block's six Jigsaw sigmoids, any multi-label model): the maximum over labels.
    """
    if not scores:
        return 0.0
    neg = non_toxic_labels(scores)
    value = 1.0 - sum(float(scores[k]) for k in neg) if neg else max(float(v) for v in scores.values())
    return min(1.0, max(0.0, value))

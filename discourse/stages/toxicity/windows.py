"""Long comments read whole, and evidence words as character offsets.

tox-block keeps only the last 100 known words of a text, so a comment of more than
``min_words`` words is scored in windows of ``size`` words with stride ``stride``; its scores
are those of the window whose overall score (max over labels) is highest, and its evidence
comes from that window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Span = tuple[int, int]

_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"[^\s!\"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~]+")
"""A word as tox-block's preprocessing sees it: a run of characters that are neither
whitespace nor one of Keras' filter characters (the apostrophe is kept)."""


@dataclass(frozen=True)
class Windowed:
    """A text's best window: its label scores and its character range."""

    scores: dict[str, float]
    span: Span


def windows(text: str, size: int = 80, stride: int = 40, min_words: int = 90) -> list[Span]:
    """Character ranges of the windows of ``text``: the whole text when it has at most
    ``min_words`` words, else ``size``-word windows every ``stride`` words, the last one
    ending at the last word."""
    words = [m.span() for m in _WORD.finditer(text)]
    if len(words) <= min_words:
        return [(0, len(text))]
    starts = list(range(0, len(words) - size, stride)) + [len(words) - size]
    return [(words[s][0], words[s + size - 1][1]) for s in dict.fromkeys(starts)]


def score_windowed(
    predict: Callable[[list[str]], list[dict[str, float]]],
    texts: Sequence[str],
    size: int = 80,
    stride: int = 40,
    min_words: int = 90,
) -> list[Windowed]:
    """Every window of every text in one ``predict`` call; per text the window with the
    highest max-over-labels score."""
    spans = [windows(t, size, stride, min_words) for t in texts]
    pieces = [t[b:e] for t, sp in zip(texts, spans, strict=True) for b, e in sp]
    scores = predict(pieces) if pieces else []
    out: list[Windowed] = []
    at = 0
    for sp in spans:
        rows = scores[at : at + len(sp)]
        best = max(range(len(sp)), key=lambda k: max(rows[k].values(), default=0.0))
        out.append(Windowed(dict(rows[best]), sp[best]))
        at += len(sp)
    return out


def word_spans(text: str, words: Sequence[str], span: Span | None = None) -> list[Span]:
    """Character ranges of every occurrence of ``words`` (lower-cased tokens as tox-block reads
    them) inside ``span`` of ``text``; ranges separated by whitespace only are merged, so a
    phrase reads as one span."""
    wanted = {w.lower() for w in words}
    if not wanted:
        return []
    begin, end = span or (0, len(text))
    hits = [m.span() for m in _TOKEN.finditer(text, begin, end) if m.group().lower() in wanted]
    merged: list[Span] = []
    for b, e in hits:
        if merged and not text[merged[-1][1] : b].strip():
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((b, e))
    return merged


def char_f1(pred: set[int], gold: set[int]) -> float:
    """SemEval-2021 Task 5 per-post F1 over character offsets (both empty: 1)."""
    if not gold:
        return 1.0 if not pred else 0.0
    if not pred:
        return 0.0
    tp = len(pred & gold)
    if tp == 0:
        return 0.0
    p, r = tp / len(pred), tp / len(gold)
    return 2 * p * r / (p + r)


def span_chars(spans: Sequence[Span]) -> set[int]:
    return {i for b, e in spans for i in range(b, e)}


def max_label(scores: Mapping[str, float]) -> float:
    return max(scores.values(), default=0.0)

"""The quote constraints keep a bounded number of candidates' word runs (a 100,000-comment flat
thread held them all: 1 GB), and forgetting them changes no answer."""

from __future__ import annotations

import random

import pytest

from discourse.core.thread import Comment
from discourse.stages.reply_graph import markers
from discourse.stages.reply_graph.markers import Constraints

WORDS = "the council voted on a new budget for roads schools parks water and the mayor said no".split()


def _thread(n: int, seed: int = 0) -> list[Comment]:
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30))) for _ in range(n)]
    out = []
    for i, text in enumerate(texts):
        meta = {}
        if i and rng.random() < 0.5:  # quotes a run of an earlier comment
            src = texts[rng.randrange(i)].split()
            meta["quoted"] = " ".join(src[:6])
        out.append(Comment(id=f"c{i}", text=text, author=f"user{i % 7}", meta=meta))
    return out


def _masks(comments: list[Comment]) -> tuple[list[object], Constraints]:
    marks = Constraints(comments, [c.author for c in comments])
    out: list[object] = []
    for i in range(len(comments)):
        cands: list[int | None] = [None, *range(max(0, i - 12), i)][::-1]
        mask = marks.allowed(i, cands, [-1 if j is None else 0 for j in cands])
        out.append(None if mask is None else mask.tolist())
    return out, marks


def test_word_runs_are_forgotten_past_the_bound_without_changing_a_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    comments = _thread(300)
    monkeypatch.setattr(markers, "GRAMS_KEPT", 10**9)
    unbounded, big = _masks(comments)
    monkeypatch.setattr(markers, "GRAMS_KEPT", 8)
    bounded, small = _masks(comments)
    assert len(big._grams) > 100  # the thread does ask about many candidates
    assert len(small._grams) <= 8
    assert bounded == unbounded
    assert any(m is not None and not all(m) and any(m) for m in bounded)  # the quotes do constrain


def test_default_bound_is_far_below_a_huge_thread() -> None:
    comments = _thread(3 * markers.GRAMS_KEPT // 2, seed=1)
    _, marks = _masks(comments)
    assert len(marks._grams) <= markers.GRAMS_KEPT

"""chains.v1 on huge threads (issue 7): linear in the thread, same chains as chain-by-chain."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

from discourse.core.engine import Doc
from discourse.core.thread import Comment, Thread
from discourse.stages import chains as chains_mod
from discourse.stages.chains import ChainsConfig, ChainsStage
from discourse.stages.chains import summarize as summarize_mod
from discourse.stages.chains.find import find_chains
from discourse.stages.chains.summarize import central_sentence, summarize_chain
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult
from discourse.text import sentence_spans

WORDS = "you are wrong i agree the stadium money is a bad idea why not good point fair enough".split()


def long_thread(n: int = 600, authors: int = 12, seed: int = 0) -> Thread:
    """n comments by a few authors, each reply answering one of the five before it: many chains."""
    rng = random.Random(seed)
    comments: list[Comment] = []
    for i in range(n):
        parent = comments[rng.randrange(max(0, i - 5), i)].id if i and rng.random() < 0.7 else None
        text = ". ".join(" ".join(rng.choice(WORDS) for _ in range(7)) for _ in range(3)) + "."
        comments.append(Comment(f"c{i}", text, author=f"u{rng.randrange(authors)}", parent_id=parent))
    return Thread("long", "Long", tuple(comments))


def doc_of(
    t: Thread, seed: int = 0
) -> tuple[Doc, SimpleNamespace, dict[str, tuple[list[tuple[int, int]], np.ndarray]]]:
    """A Doc with fake toxicity and stance, its encoder rows (sentence spans, random unit
    vectors; row 0 the article) and the same sentences by comment id."""
    rng = np.random.default_rng(seed)
    doc = Doc(thread=t)
    spans_all: list[list[tuple[int, int]]] = [[]]  # row 0: the article
    vecs_all = [np.zeros((0, 8), np.float32)]
    sentences = {}
    for k, c in enumerate(t.comments):
        doc.annotations.set(c.id, "toxicity", ToxicityResult(float(rng.random()), {"toxic": 0.1}, "fake"))
        label = "disagree" if k % 3 else "agree"
        doc.annotations.set(c.id, "stance", StanceResult(label, {label: 0.9}, c.parent_id, "fake"))
        spans = sentence_spans(c.text)
        v = rng.normal(size=(len(spans), 8)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        spans_all.append(spans)
        vecs_all.append(v)
        sentences[c.id] = (spans, v)
    return doc, SimpleNamespace(sentence_spans=spans_all, sentence_vectors=vecs_all), sentences


def test_the_stage_gives_the_chain_by_chain_result_and_indexes_the_thread_once(monkeypatch: pytest.MonkeyPatch) -> None:
    t = long_thread()
    doc, rows, sentences = doc_of(t)
    monkeypatch.setattr(chains_mod, "embeddings", lambda d: rows)
    skeletons = find_chains(t)
    assert len(skeletons) > 30
    expected = tuple(summarize_chain(sk, t, doc.annotations, sentences) for sk in skeletons)
    calls: list[str] = []
    original = Thread.by_id

    def counted(self: Thread) -> dict[str, Comment]:
        calls.append(self.id)
        return original(self)

    monkeypatch.setattr(Thread, "by_id", counted)
    ChainsStage(ChainsConfig(), None)([doc])  # type: ignore[arg-type]
    assert doc.annotations.value("chains") == expected
    assert len(calls) <= 2  # find_chains' and the stage's; it was 1 + 3 per chain (quadratic)


def test_a_side_past_max_textrank_is_ranked_by_summed_similarity_without_a_square_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(5)
    comments = tuple(
        Comment(f"c{i}", f"sentence number {i} says something long enough here", author="a") for i in range(30)
    )
    t = Thread("t", "T", comments)
    vecs = rng.normal(size=(30, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    sentences = {c.id: ([(0, len(c.text))], vecs[i : i + 1]) for i, c in enumerate(comments)}
    ids = [c.id for c in comments]
    sums = np.clip(vecs @ vecs.sum(axis=0) - 1.0, 0.0, None)  # similarity to every other sentence
    monkeypatch.setattr(summarize_mod, "MAX_TEXTRANK", 29)
    monkeypatch.setattr(summarize_mod, "textrank", lambda sim: pytest.fail("a square matrix past the cap"))
    best = int(np.argmax(sums))
    assert central_sentence(ids, t, sentences)[1] == f"c{best}"  # type: ignore[index]
    weight = np.ones(30)
    weight[best] = 0.1  # its comment is toxic (1.0): the civil runner-up speaks for the side
    assert central_sentence(ids, t, sentences, {f"c{best}": 1.0})[1] == f"c{int(np.argmax(sums * weight))}"  # type: ignore[index]
    assert int(np.argmax(sums * weight)) != best
    monkeypatch.setattr(summarize_mod, "MAX_TEXTRANK", 30)
    with pytest.raises(pytest.fail.Exception):  # at the cap: TextRank as before
        central_sentence(ids, t, sentences)

"""Whole-thread decoding with the learned scorer: the beam, the features it reads, calibration."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from discourse.core.thread import Comment, Thread
from discourse.stages.reply_graph.decode import beam_decode
from discourse.stages.reply_graph.features import COL, FEATURES, Node, PathFeatures
from discourse.stages.reply_graph.links import infer_structure
from discourse.stages.reply_graph.scorer import LinkScorer, scorer_from_arrays


def linear_scorer(
    weights: dict[str, float], calibration: tuple[tuple[float, ...], tuple[float, ...]] | None = None
) -> LinkScorer:
    w = np.zeros((len(FEATURES), 1))
    for name, v in weights.items():
        w[COL[name], 0] = v
    return scorer_from_arrays(
        np.zeros(len(FEATURES)), np.ones(len(FEATURES)), [(w, np.zeros(1))], calibration=calibration or ((0, 1), (0, 1))
    )


def _thread(rows: list[tuple[str, str]]) -> Thread:
    comments = tuple(Comment(id=f"c{k}", text=t, author=a) for k, (a, t) in enumerate(rows))
    return Thread(id="t", title="T", comments=comments, structure_known=False)


def test_a_late_clue_fixes_an_early_choice() -> None:
    # c1 leans slightly to the article, which would close c0's path; c2 answers Ann by name,
    # which only a path still holding c0 allows: the beam keeps c1 under c0, greedy cannot.
    t = _thread(
        [
            ("Ann Lee", "The stadium vote is next week."),
            ("Bob Ray", "Parking will be a problem."),
            ("Cy Dunn", "Hello Ann. When exactly next week?"),
        ]
    )
    feats = PathFeatures(t.comments, [c.author for c in t.comments], None, None)
    scorer = linear_scorer({"root": 0.3, "addressed": 5.0})
    greedy = beam_decode(feats, scorer.log_probs, beam=1)
    beam = beam_decode(feats, scorer.log_probs, beam=8)
    assert greedy.parents == [None, None, None]
    assert beam.parents == [None, 0, 0]


def test_rows_follow_the_path() -> None:
    t = _thread([("Ann Lee", "One."), ("Bob Ray", "Two?"), ("Ann Lee", "Bob: three.")])
    feats = PathFeatures(t.comments, [c.author for c in t.comments], None, None)
    n0 = Node(0, None, 0)
    n1 = Node(1, n0, 1)
    cands, rows = feats.rows(2, n1)
    assert [c.index if c else None for c in cands] == [None, 1, 0]
    assert rows[:, COL["root"]].tolist() == [1, 0, 0]
    assert rows[:, COL["previous"]].tolist() == [0, 1, 0]
    assert rows[:, COL["candidate_depth"]].tolist() == [0, 1, 0]
    assert rows[1, COL["mentioned"]] == 1 and rows[2, COL["mentioned"]] == 0  # "Bob:" opens it
    assert rows[1, COL["turn_taking"]] == 1  # Bob was answering Ann, Ann answers Bob
    assert rows[2, COL["same_author"]] == 1
    assert rows[1, COL["candidate_question"]] == 1


def test_wiki_indentation_is_read() -> None:
    t = _thread([("Ann Lee", "Start."), ("Bob Ray", ":Reply."), ("Cy Dunn", "::Deeper.")])
    feats = PathFeatures(t.comments, [c.author for c in t.comments], None, None)
    cands, rows = feats.rows(2, Node(1, Node(0, None, 0), 1))
    # under c1 the comment would sit at depth 2: its two colons
    assert rows[:, COL["indent_match"]].tolist() == [0, 1, 0]


def test_confidence_is_the_calibrated_probability() -> None:
    scorer = linear_scorer({"previous": 2.0}, calibration=((0.0, 0.5, 1.0), (0.0, 0.2, 0.9)))
    t = _thread([("Ann Lee", "One."), ("Bob Ray", "Two."), ("Cy Dunn", "Three.")])
    out = infer_structure(t, weights=scorer)
    raw = 1 / (1 + 2 * np.exp(-2.0))  # c2: previous among (article, c1, c0) with logits (0, 2, 0)
    assert out.comments[2].parent_id == "c1"
    assert abs(out.comments[2].parent_confidence - np.interp(raw, (0.0, 0.5, 1.0), (0.0, 0.2, 0.9))) < 1e-3
    assert "directly follows" in out.comments[2].parent_evidence


def test_scorer_round_trips_through_model_json() -> None:
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(len(FEATURES), 4)), rng.normal(size=4)), (rng.normal(size=(4, 1)), rng.normal(size=1))]
    s = scorer_from_arrays(
        rng.normal(size=len(FEATURES)), np.ones(len(FEATURES)), layers, 1.3, prior=rng.normal(size=13)
    )
    back = LinkScorer.from_meta(s.to_meta(), "x")
    x = rng.normal(size=(5, len(FEATURES)))
    assert np.allclose(s.log_probs(x), back.log_probs(x), atol=1e-4)


@st.composite
def flat_threads(draw: st.DrawFn) -> tuple[Thread, np.ndarray]:
    n = draw(st.integers(min_value=1, max_value=30))
    names = ["Ann Lee", "Bob Ray", None, "Cy Dunn"]
    comments = tuple(
        Comment(
            id=f"n{k}",
            text=draw(st.sampled_from(["Yes.", "Hello Ann, no.", ":Indented", "@Bob why?", "Sure"])),
            author=draw(st.sampled_from(names)),
        )
        for k in range(n)
    )
    seed = draw(st.integers(min_value=0, max_value=10_000))
    return Thread(id="r", title="T", comments=comments, structure_known=False), np.random.default_rng(seed).normal(
        size=(len(FEATURES), 3)
    )


@settings(max_examples=40, deadline=None)
@given(flat_threads())
def test_any_learned_scorer_gives_a_preorder_tree(case: tuple[Thread, np.ndarray]) -> None:
    thread, w = case
    scorer = scorer_from_arrays(
        np.zeros(len(FEATURES)), np.ones(len(FEATURES)), [(w, np.zeros(3)), (np.ones((3, 1)), np.zeros(1))]
    )
    out = infer_structure(thread, weights=scorer, beam=4)
    assert out.validate() == []
    # preorder: a comment's parent is on the path above it, so parents never point forward
    index = {c.id: k for k, c in enumerate(out.comments)}
    assert all(c.parent_id is None or index[c.parent_id] < k for k, c in enumerate(out.comments))
    assert all(0.0 <= c.parent_confidence <= 1.0 for c in out.comments)


def test_long_form_threads_go_to_the_linear_fallback() -> None:
    from dataclasses import replace

    from discourse.stages.reply_graph.weights import ReplyWeights

    scorer = replace(linear_scorer({"root": 9.0}), fallback=ReplyWeights())
    long_form = replace(
        _thread([("Ann Lee", "A long considered comment " * 8), ("Bob Ray", "Hello Ann. " + "I disagree " * 16)]),
        article="An article.",
    )
    chat = replace(_thread([("Ann Lee", "hi all"), ("Bob Ray", "Ann: hi")]), article="An article.")
    wiki = _thread([("Ann Lee", "Long comment " * 15), ("Bob Ray", ":Long reply " * 15)])
    assert scorer.routes_to_fallback(long_form.comments, has_article=True)
    assert not scorer.routes_to_fallback(long_form.comments, has_article=False)  # a talk page, a forum
    assert not scorer.routes_to_fallback(chat.comments) and not scorer.routes_to_fallback(wiki.comments)
    # the fallback (hand-set prior: addressing) links Bob to Ann; the learned scorer (root 9) would not
    assert infer_structure(long_form, weights=scorer).comments[1].parent_id == "c0"
    assert infer_structure(chat, weights=scorer).comments[1].parent_id is None
    back = LinkScorer.from_meta(scorer.to_meta(), "x")
    assert back.fallback == ReplyWeights() and back.long_form_chars == scorer.long_form_chars

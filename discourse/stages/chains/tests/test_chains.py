"""chains.v1: finding chains, outcomes, TextRank and cited summaries."""

from __future__ import annotations

import numpy as np

from discourse.core.layers import Annotations
from discourse.formats.flat import parse_flat
from discourse.stages.chains.find import find_chains, outcome, slope
from discourse.stages.chains.summarize import summarize_chain
from discourse.stages.reply_graph.links import infer_structure
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult
from discourse.testing import DEBATE


def test_chain_found_and_summarized_with_citations() -> None:
    t = infer_structure(parse_flat(DEBATE, "stadium"))
    chains = find_chains(t)
    assert len(chains) == 1
    ch = chains[0]
    assert set(ch.participants) == {"Priya Raman", "Marco"}
    assert ch.comment_ids == ("c2", "c3", "c4", "c5", "c6", "c7")
    assert ch.opening_id == "c1"
    ann = Annotations()
    for c in t.comments:
        ann.set(c.id, "toxicity", ToxicityResult(0.01, {"toxic": 0.01}, "fake"))
        lab = "disagree" if "disagree" in c.text else "neutral"
        ann.set(c.id, "stance", StanceResult(lab, {lab: 1.0}, c.parent_id, "fake"))
    rng = np.random.default_rng(0)
    sentences = {}
    for c in t.comments:
        from discourse.text import sentence_spans

        spans = sentence_spans(c.text)
        v = rng.normal(size=(len(spans), 8))
        sentences[c.id] = (spans, v / np.linalg.norm(v, axis=1, keepdims=True))
    chain = summarize_chain(ch, t, ann, sentences)
    assert chain.outcome == "concession"  # "Your points are respected." in the last third
    ids = set(t.by_id())
    assert chain.summary and all(s.citations and set(s.citations) <= ids for s in chain.summary)
    assert set(chain.citations) <= ids
    assert any("Marco's stance" in s.text and "disagree" in s.text for s in chain.summary)
    assert [tn.comment_id for tn in chain.turns] == list(ch.comment_ids)


def test_outcome_rules() -> None:
    calm = [("a", "disagree", 0.01, None, None), ("b", "disagree", 0.02, None, "let this go")]
    assert outcome(calm) == "agree_to_disagree"
    hot = [("a", "disagree", 0.1, None, None), ("b", "disagree", 0.4, None, None), ("a", "disagree", 0.9, None, None)]
    assert outcome(hot) == "escalated"
    assert outcome([("a", "neutral", 0.0, None, None)] * 2) == "unresolved"
    assert slope([0.0, 0.5, 1.0]) == 0.5 and slope([1.0]) == 0.0


def test_textrank_matches_networkx_pagerank() -> None:
    import networkx as nx

    from discourse.stages.chains.summarize import textrank

    rng = np.random.default_rng(3)
    for n in (2, 5, 17):
        v = rng.normal(size=(n, 8))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        sim = np.clip(v @ v.T, 0.0, None)
        np.fill_diagonal(sim, 0.0)
        sim[0] = sim[:, 0] = 0.0  # a dangling sentence
        ours = textrank(sim)
        ref = nx.pagerank(nx.from_numpy_array(sim), weight="weight", tol=1e-12, max_iter=500)
        assert np.allclose(ours, [ref[k] for k in range(n)], atol=1e-6)


def test_main_position_prefers_the_civil_sentence_to_the_insult() -> None:
    from discourse.stages.chains.summarize import central_sentence

    t = parse_flat(
        "T\n\nA.\n\n\nAnn Lee\n\nThe library cuts are a real mistake for the town.\n\n"
        "Ann Lee\n\nYou stupid moron, shut up and read the report now.\n",
        "x",
    )
    v = np.ones((1, 4)) / 2.0  # identical sentence vectors: centrality alone cannot decide
    sentences = {c.id: ([(0, len(c.text))], v) for c in t.comments}
    ids = [c.id for c in t.comments]
    assert central_sentence(ids, t, sentences)[1] == "c1"  # type: ignore[index]
    assert central_sentence(ids, t, sentences, {"c1": 0.9, "c2": 0.01})[1] == "c2"  # type: ignore[index]
    assert central_sentence(ids, t, sentences, {"c1": 0.01, "c2": 0.99})[1] == "c1"  # type: ignore[index]

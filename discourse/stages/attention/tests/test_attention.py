"""attention.v1: priorities, reasons naming score and model, thresholds, and the escalation context."""

from __future__ import annotations

import discourse
from discourse.core.layers import Annotations
from discourse.core.thread import Comment, Thread
from discourse.stages.attention.rank import rank_attention
from discourse.stages.attention.result import AttentionQueue
from discourse.stages.chains.result import Chain, Turn
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult

THREAD = Thread(
    id="t",
    title="T",
    comments=(
        Comment("a", "calm", author="Ann"),
        Comment("b", "rude", author="Bob", parent_id="a"),
        Comment("c", "threat", author="Cy", parent_id="a"),
        Comment("d", "heated", author="Ann", parent_id="b"),
        Comment("e", "mild", author="Bob", parent_id="d"),
    ),
)


def _annotations() -> Annotations:
    ann = Annotations()
    tox = {
        "a": {"toxic": 0.01},
        "b": {"toxic": 0.65, "insult": 0.6},
        "c": {"toxic": 0.3, "threat": 0.5},
        "d": {"toxic": 0.25},
        "e": {"toxic": 0.05},
    }
    for cid, labels in tox.items():
        ann.set(cid, "toxicity", ToxicityResult(max(labels.values()), labels, "m", ("word",) if cid == "b" else ()))
        label = "disagree" if cid in "bd" else "neutral"
        ann.set(cid, "stance", StanceResult(label, {label: 0.8}, None, "s"))
    return ann


def test_priority_order_and_reasons() -> None:
    items = rank_attention(THREAD, _annotations(), ())
    assert [it.comment_id for it in items] == ["c", "b", "d"]  # threat raised above the plain insult
    by = {it.comment_id: it for it in items}
    assert by["c"].priority == 0.8 and "possible threat: threat 0.50 by m" in by["c"].reasons
    assert by["b"].priority == 0.75  # 0.65 + 0.1: a toxic reply that also disagrees
    assert by["b"].reasons[0] == "toxic: score 0.65 (toxic 0.65, insult 0.60) by m; driven by “word”"
    assert any(r.startswith("heated disagreement: stance disagree (0.80, s)") for r in by["d"].reasons)
    assert by["d"].priority == 0.35  # 0.25 watch-level toxicity + 0.1 for the heated disagreement


def test_thresholds_and_cap() -> None:
    items = rank_attention(THREAD, _annotations(), (), flag_threshold=0.9, watch_threshold=0.6, max_items=1)
    # c's threat (0.50) is below the watch level now; b (0.65) is borderline and heated; d, e below watch
    assert [(it.comment_id, it.reasons[0][:20]) for it in items] == [("b", "borderline toxicity ")]
    assert rank_attention(THREAD, _annotations(), (), watch_threshold=0.9) == ()


def test_an_escalating_chain_lifts_its_turns() -> None:
    turns = tuple(Turn(cid, "x", None, None, 0.1) for cid in ("b", "d", "e"))
    chain = Chain(("Bob", "Ann"), ("b", "d", "e"), turns, (), "escalated", "a", 0.3)
    items = rank_attention(THREAD, _annotations(), (chain,))
    e = next(it for it in items if it.comment_id == "e")
    assert e.priority == 0.55 and "escalating exchange between Bob and Ann (toxicity trend +0.30/turn)" in e.reasons[0]


def test_the_queue_keeps_its_thresholds_and_serialises_as_a_list(tiny_config: dict) -> None:
    q = AttentionQueue(rank_attention(THREAD, _annotations(), ()), 0.5, 0.2)
    assert q.flagged() == 2 and len(q) == 3 and q[0].comment_id == "c"
    assert [x["comment_id"] for x in q.to_json()] == ["c", "b", "d"]
    cfg = {**tiny_config, "stages": {**tiny_config["stages"], "attention.v1": {"flag_threshold": 0.6}}}
    a = discourse.analyze(THREAD, config=cfg)
    assert a.attention.flag_threshold == 0.6 and a.attention.watch_threshold == 0.2

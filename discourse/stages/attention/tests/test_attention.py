"""attention.v1: reason codes, who a comment is aimed at, per-attribute thresholds, the context codes."""

from __future__ import annotations

import pytest

import discourse
from discourse.core.config import load_config
from discourse.core.errors import ConfigError
from discourse.core.layers import Annotations
from discourse.core.thread import Comment, Thread
from discourse.stages.attention import CODES, AttentionConfig, AttentionThresholds
from discourse.stages.attention.rank import rank_attention, read_label
from discourse.stages.attention.result import AttentionItem, AttentionQueue
from discourse.stages.attention.target import aimed_at, commenter_labels, second_person
from discourse.stages.chains.result import Chain, Turn
from discourse.stages.stance.result import StanceResult
from discourse.stages.toxicity.result import ToxicityResult

RAW = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")  # tox-block's labels

THREAD = Thread(
    id="t",
    title="T",
    comments=(
        Comment("a", "The coach made the call.", author="Ann"),
        Comment("b", "You are an idiot, Ann.", author="Bob", parent_id="a"),  # insult aimed at Ann
        Comment("c", "The owner is an idiot.", author="Cy", parent_id="a"),  # insult about a public figure
        Comment("d", "Damn, this division sucks.", author="Dee"),  # swearing at nobody
        Comment("e", "Someone will get hurt.", author="Eve", parent_id="b"),  # threat
        Comment("f", "Nice weather.", author="Fay"),
    ),
)


def _tox(score: float, **labels: float) -> ToxicityResult:
    raw = {k: 0.01 for k in RAW}
    raw["toxic"] = score
    return ToxicityResult(score, {**raw, **labels}, "m", ())


def _ann(extra: dict[str, ToxicityResult] | None = None, stance: dict[str, str] | None = None) -> Annotations:
    ann = Annotations()
    tox = {
        "a": _tox(0.01),
        "b": _tox(0.9, insult=0.8),
        "c": _tox(0.9, insult=0.8),
        "d": _tox(0.8, obscene=0.6),
        "e": _tox(0.4, threat=0.6),
        "f": _tox(0.01),
        **(extra or {}),
    }
    for cid, t in tox.items():
        ann.set(cid, "toxicity", t)
        label = (stance or {}).get(cid, "neutral")
        ann.set(cid, "stance", StanceResult(label, {label: 0.8}, None, "s"))
    return ann


def _by(items: tuple[AttentionItem, ...]) -> dict[str, AttentionItem]:
    return {it.comment_id: it for it in items}


def test_attacks_on_people_rank_above_harsh_words_and_swearing() -> None:
    items = rank_attention(THREAD, _ann(), ())
    assert [it.comment_id for it in items] == ["e", "b", "c", "d"]
    by = _by(items)
    assert by["e"].codes == ("THREAT",) and by["e"].priority == pytest.approx(0.9)
    assert by["b"].codes == ("INSULT", "TOXIC") and by["b"].target == "commenter"
    assert by["b"].priority == pytest.approx(0.65 + 0.25 * 0.9)
    assert by["c"].codes == ("INSULT", "TOXIC") and by["c"].target is None
    assert by["d"].codes == ("PROFANITY",) and by["d"].target is None
    flag = AttentionConfig().flag_threshold
    # the harsh word about a public figure and the swearing are listed below the flag
    assert [it.comment_id for it in items if it.priority >= flag] == ["e", "b"]
    assert by["c"].priority < flag and by["d"].priority < by["c"].priority


def test_every_reason_names_its_code_score_and_model() -> None:
    for it in rank_attention(THREAD, _ann(), ()):
        assert [r.split(":", 1)[0] for r in it.reasons] == list(it.codes)
        assert set(it.codes) <= set(CODES)
        assert all(" by " in r for r in it.reasons)
    by = _by(rank_attention(THREAD, _ann(), ()))
    assert by["b"].reasons[0] == "INSULT: insult 0.80 by m, aimed at Ann (a reply in the second person, “You”)"
    assert by["c"].reasons[0].startswith("INSULT: insult 0.80 by m, aimed at no one in the thread")
    assert by["d"].reasons == ("PROFANITY: toxicity 0.80 by m is mostly obscene 0.60, swearing that attacks no one",)
    assert by["e"].reasons[0].startswith("THREAT: possible threat, threat 0.60 by m")


def test_product_labels_are_read_before_the_raw_ones() -> None:
    both = {"identity_hate": 0.1, "identity_attack": 0.7, "obscene": 0.9, "profanity": 0.2}
    assert read_label(both, "identity_attack") == ("identity_attack", 0.7)
    assert read_label(both, "profanity") == ("profanity", 0.2)
    assert read_label({"identity_hate": 0.4}, "identity_attack") == ("identity_hate", 0.4)
    assert read_label({"severe_toxic": 0.4}, "severe_toxicity") == ("severe_toxic", 0.4)
    assert read_label({"toxic": 0.4}, "insult") is None
    # after part A: the product labels beside the raw ones decide
    after = _tox(0.9, identity_attack=0.8, identity_hate=0.05, profanity=0.1, obscene=0.9, severe_toxicity=0.1)
    it = _by(rank_attention(THREAD, _ann({"c": after}), ()))["c"]
    assert it.codes[0] == "IDENTITY_ATTACK" and "identity_attack 0.80 by m" in it.reasons[0]
    assert "PROFANITY" not in it.codes  # profanity 0.1 (product) wins over obscene 0.9 (raw)
    severe = _by(rank_attention(THREAD, _ann({"d": _tox(0.9, obscene=0.6, severe_toxic=0.7)}), ()))["d"]
    assert severe.codes[0] == "TOXIC" and severe.reasons[0].startswith("TOXIC: severe, severe_toxic 0.70")
    assert severe.priority >= 0.5  # severe toxicity is flagged even when aimed at no one


def test_who_it_is_aimed_at() -> None:
    parent = Comment("p", "x", author="Xoli Xoli")
    assert aimed_at(Comment("r", "Xoli, that is rubbish.", parent_id="p"), parent).cue == "addressed by name"  # type: ignore[union-attr]
    assert aimed_at(Comment("r", "Your take is dumb.", parent_id="p"), parent).kind == "commenter"  # type: ignore[union-attr]
    assert aimed_at(Comment("r", "> you said this\nThe refs are dumb.", parent_id="p"), parent) is None  # quoted
    assert aimed_at(Comment("r", "The refs are dumb."), None) is None
    assert aimed_at(Comment("r", "You are dumb."), None) is None  # top level: no one person in particular
    assert aimed_at(Comment("r", "You people are dumb."), None).kind == "commenters"  # type: ignore[union-attr]
    assert aimed_at(Comment("r", "CIA trolls will cry."), None).kind == "commenters"  # type: ignore[union-attr]
    assert commenter_labels("Paid shills and trolls, and more trolls") == ("Paid shills", "trolls")
    assert commenter_labels("A troll under the bridge") == ()
    assert second_person("no u") == "u" and second_person("The U.S. team") is None


def test_a_label_for_the_commenters_is_an_insult_aimed_at_them() -> None:
    thread = Thread("t", "T", (Comment("a", "Fine."), Comment("z", "CIA trolls and hasbarats will cry and rage.")))
    ann = Annotations()
    for cid in "az":
        ann.set(cid, "toxicity", _tox(0.18))
    (it,) = rank_attention(thread, ann, ())
    assert it.codes == ("INSULT",) and it.target == "commenters" and it.priority >= 0.5
    assert it.reasons[0].startswith("INSULT: calls the other commenters “trolls”, “hasbarats”")


def test_per_attribute_thresholds() -> None:
    strict = AttentionConfig(thresholds=AttentionThresholds(threat=0.7, insult=0.9, profanity=0.5))
    by = _by(rank_attention(THREAD, _ann(), (), strict))
    assert "THREAT" not in by["e"].codes  # 0.6 < 0.7; its toxicity 0.4 is borderline
    assert by["e"].codes == ("TOXIC",) and by["e"].priority < 0.5
    assert by["b"].codes == ("TOXIC",) and by["b"].priority >= 0.5  # toxic and aimed: still flagged
    assert by["d"].codes == ("PROFANITY",)
    assert by["d"].reasons[0] == "PROFANITY: obscene 0.60 by m, swearing that attacks no one"
    few = rank_attention(THREAD, _ann(), (), AttentionConfig(flag_threshold=0.95, watch_threshold=0.5, max_items=1))
    assert [it.comment_id for it in few] == ["e"]


def test_config_is_validated() -> None:
    ok = load_config({"stages": {"attention.v1": {"thresholds": {"insult": 0.4}, "link_confidence": 0.6}}})
    cfg = ok.stage("attention.v1")
    assert cfg.thresholds.insult == 0.4 and cfg.thresholds.threat == 0.3 and cfg.link_confidence == 0.6
    bad = [
        ({"thresholds": {"insultt": 0.4}}, "unknown key 'insultt'"),
        ({"thresholds": {"threat": "high"}}, "expected a number"),
        ({"thresholds": {"threat": 1.5}}, "threat must be in (0, 1]"),
        ({"thresholds": {"profanity": 0}}, "profanity must be in (0, 1]"),
        ({"link_confidence": -0.1}, "link_confidence must be in [0, 1]"),
        ({"flag_threshold": 0.1}, "watch_threshold <= flag_threshold"),
    ]
    for section, message in bad:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
            load_config({"stages": {"attention.v1": section}})


def test_heated_disagreement_and_escalation() -> None:
    ann = _ann({"f": _tox(0.3)}, stance={"f": "disagree", "b": "disagree"})
    by = _by(rank_attention(THREAD, ann, ()))
    assert by["f"].codes == ("TOXIC", "HEATED_DISAGREEMENT")
    assert by["f"].reasons[1] == "HEATED_DISAGREEMENT: stance disagree 0.80 by s, with toxicity 0.30 by m"
    assert by["b"].priority == pytest.approx(0.65 + 0.25 * 0.9 + 0.05)
    turns = tuple(Turn(cid, "x", None, None, 0.1) for cid in ("a", "b", "e"))
    chain = Chain(("Ann", "Bob"), ("a", "b", "e"), turns, (), "escalated", "a", 0.3)
    a = _by(rank_attention(THREAD, _ann(), (chain,)))["a"]
    assert a.codes == ("ESCALATION",) and a.priority == pytest.approx(0.55)
    assert a.reasons == (
        "ESCALATION: in an escalating exchange between Ann and Bob (toxicity trend +0.30/turn, chains stage)",
    )


def test_low_confidence_link_only_for_flagged_comments_of_inferred_threads() -> None:
    import dataclasses

    comments = tuple(dataclasses.replace(c, parent_confidence=0.4) for c in THREAD.comments)
    inferred = dataclasses.replace(THREAD, comments=comments, structure_known=False)
    by = _by(rank_attention(inferred, _ann(), ()))
    assert by["b"].codes[-1] == "LOW_CONFIDENCE_LINK" and by["e"].codes[-1] == "LOW_CONFIDENCE_LINK"
    assert "inferred with confidence 0.40 (below 0.70)" in by["b"].reasons[-1]
    assert "LOW_CONFIDENCE_LINK" not in by["d"].codes  # not flagged
    known = dataclasses.replace(THREAD, comments=comments)  # given structure: the link is not a guess
    assert all("LOW_CONFIDENCE_LINK" not in it.codes for it in rank_attention(known, _ann(), ()))
    sure = rank_attention(inferred, _ann(), (), AttentionConfig(link_confidence=0.3))
    assert all("LOW_CONFIDENCE_LINK" not in it.codes for it in sure)


def test_the_queue_serialises_codes_and_target(tiny_config: dict) -> None:
    q = AttentionQueue(rank_attention(THREAD, _ann(), ()), 0.5, 0.2)
    assert q.flagged() == 2 and len(q) == 4 and q[0].comment_id == "e"
    first = q.to_json()[1]
    assert list(first) == ["comment_id", "priority", "codes", "target", "reasons"]
    assert first["codes"] == ["INSULT", "TOXIC"] and first["target"] == "commenter"
    cfg = {**tiny_config, "stages": {**tiny_config["stages"], "attention.v1": {"flag_threshold": 0.6}}}
    a = discourse.analyze(THREAD, config=cfg)
    assert a.attention.flag_threshold == 0.6 and a.attention.watch_threshold == 0.2
    assert all(set(item["codes"]) <= set(CODES) for item in a.to_json()["attention"])


def test_a_comment_without_a_parent_that_names_an_earlier_commenter_is_aimed_at_them() -> None:
    from discourse.stages.attention.target import aimed_at

    insult = Comment("c2", "Ann, you are a stupid idiot.", author="Bob Ray")  # its reply link was not found
    assert aimed_at(insult, None) is None  # nobody to compare with: "you" alone is not enough
    target = aimed_at(insult, None, ("Ann Lee", "Bob Ray"))
    assert target is not None and target.kind == "commenter" and "Ann Lee" in target.cue
    assert aimed_at(Comment("c3", "Bob, thanks.", author="Bob Ray"), None, ("Bob Ray",)) is None  # not oneself
    assert aimed_at(Comment("c4", "You people never learn."), None, ("Ann Lee",)).kind == "commenters"  # type: ignore[union-attr]

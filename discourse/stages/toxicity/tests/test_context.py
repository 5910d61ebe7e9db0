"""The parent as context: a reply is scored on its own words, not on what it quotes."""

from __future__ import annotations

import discourse
from discourse.core.thread import Comment, Thread
from discourse.stages.toxicity.context import own_words, quoted_spans

INSULT = "People acting like the Niners gave up too much are stupid idiots."


def test_quoted_lines_and_copies_of_the_parent_are_blanked_with_offsets_kept() -> None:
    reply = f"> {INSULT}\n\nWait, people are saying this?"
    spans = quoted_spans(reply, None)
    assert spans == [(0, len(INSULT) + 2)]
    own = own_words(reply, spans)
    assert len(own) == len(reply) and own.strip() == "Wait, people are saying this?"
    copied = f'You said "{INSULT}" and I think that is unfair.'
    [(b, e)] = quoted_spans(copied, INSULT)  # six or more of the parent's words, verbatim
    assert copied[b:e] == f'"{INSULT}"'  # whole words, with the quotation marks around them
    assert quoted_spans("gave up too much", INSULT) == []  # four words are not a quote
    assert quoted_spans(copied, None) == []  # no parent, no copy to find


def test_a_reply_quoting_an_insult_is_scored_on_its_own_words(tiny_config: dict) -> None:
    thread = Thread(
        id="t",
        title="Trade",
        comments=(
            Comment("p", INSULT, author="Ann"),
            Comment("r", f"> {INSULT}\n\nWait, people are saying this?", author="Bob", parent_id="p"),
        ),
    )
    on = discourse.analyze(thread, config=tiny_config)
    off_cfg = {"stages": {**tiny_config["stages"], "toxicity.v1": {**tiny_config["stages"]["toxicity.v1"]}}}
    off_cfg["stages"]["toxicity.v1"]["context"] = False
    off = discourse.analyze(thread, config=off_cfg)
    parent = on.toxicity("p").score
    assert parent > 0.5 and off.toxicity("r").score > 0.5  # read whole, the quote makes the reply toxic
    assert on.toxicity("r").score < 0.2  # its own words are not
    assert all(b > len(INSULT) + 2 for b, _ in on.toxicity("r").evidence_spans)

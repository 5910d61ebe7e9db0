"""The parent as context: a reply is scored on its own words, not on what it quotes."""

from __future__ import annotations

from pathlib import Path

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


def test_evaluate_scores_replies_with_their_parent_and_reports_what_it_changed(
    tiny_config: dict, tmp_path: Path
) -> None:
    import csv

    import yaml

    from discourse.train.toxicity_site import evaluate

    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(tiny_config))
    rows = [
        (f'"{INSULT}" Wait, people are saying this?', "0", INSULT),  # the words are the parent's
        ("you are an idiot and i hate you", "1", "thank you"),
        ("thank you for the data", "0", ""),
        ("i will kill you", "1", ""),
    ]
    path = tmp_path / "site.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([("text", "label", "parent"), *rows])
    r = evaluate(path, conf)
    assert r["parent_used"] is True
    w = r["without_parent"]
    assert w["replies"] == 2 and w["decisions_changed_by_parent"] == 1 and w["changed_and_now_right"] == 1
    assert r["confusion"]["fp"] == 0 and w["confusion"]["fp"] == 1

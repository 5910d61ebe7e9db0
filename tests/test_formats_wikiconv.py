"""Wikipedia talk-page conversations as WikiConv / Wikipedia Detox export them (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from discourse import load_threads
from discourse.core.errors import InputError
from discourse.core.inputs import FORMATS
from discourse.formats.detect import detect_format


def _node(nid: str, kind: str, content: str, parent: str, user: str = "Ann", ts: str = "2006-03-10 14:50:43 UTC"):
    return {
        "id": nid,
        "comment_type": kind,
        "content": content,
        "timestamp": ts,
        "status": "content changed" if kind == "COMMENT_MODIFICATION" else "just added",
        "page_title": "Talk:Some Film",
        "user_text": user,
        "parent_id": parent,
    }


def sample() -> list[dict[str, Any]]:
    first = [
        _node("10.1.1", "SECTION_CREATION", " ==Deleted scene==", ""),
        _node("10.2.1", "COMMENT_ADDING", " I removed the [WIKI_LINK: Utrom] scene: no source.", "10.1.1"),
        _node(
            "12.5.5",
            "COMMENT_MODIFICATION",
            "Ritchy, I found a source. ",
            "10.2.1",
            "Davey4",
            "2006-10-14 05:34:09 UTC",
        ),
        _node(
            "11.3.3",
            "COMMENT_ADDING",
            " The cited site does not back it.",
            "10.1.1",
            "76.17.4.35",
            "2007-03-19 01:02:58 UTC",
        ),
    ]
    second = [  # two roots (a heading and a comment before it), a self-parented node, an empty node
        _node("20.1.1", "SECTION_CREATION", " == Little mistake ==", ""),
        _node("19.9.9", "COMMENT_ADDING", " Stray comment above the heading.", ""),
        _node("21.4.4", "COMMENT_MODIFICATION", " honte (the proper move) * kikasare", "21.4.4"),
        _node("22.6.6", "COMMENT_ADDING", " *haengma", "21.4.4", "Bob"),
        _node("23.7.7", "COMMENT_ADDING", "   ", "20.1.1", "Cy"),
    ]
    return [{n["id"]: n for n in first}, {n["id"]: n for n in second}]


def test_detected_as_its_own_registered_format() -> None:
    text = json.dumps(sample())
    assert "wikiconv" in FORMATS.names()
    assert detect_format(text, "conversations.json") == "wikiconv"
    assert detect_format(json.dumps(sample()[0]), "") == "wikiconv"  # one conversation on its own


def test_conversations_sections_and_reply_structure() -> None:
    first, second = load_threads(json.dumps(sample()).encode(), name="talk.json")
    for t in (first, second):
        assert t.validate() == [] and t.structure_known and t.source_format == "wikiconv_json"
    assert first.id == "10.1.1" and first.title == "Talk:Some Film: Deleted scene"
    assert first.meta["page_title"] == "Talk:Some Film" and first.meta["section"] == "Deleted scene"
    c = first.by_id()
    assert list(c) == ["10.2.1", "12.5.5", "11.3.3"]  # chronological; the heading is the title
    assert c["10.2.1"].parent_id is None and c["11.3.3"].parent_id is None  # answer the section
    assert c["12.5.5"].parent_id == "10.2.1" and c["12.5.5"].meta["comment_type"] == "COMMENT_MODIFICATION"
    assert c["10.2.1"].text == " I removed the [WIKI_LINK: Utrom] scene: no source."  # verbatim
    assert c["11.3.3"].author == "76.17.4.35" and c["12.5.5"].created == "2006-10-14T05:34:09+00:00"

    s = second.by_id()
    assert set(s) == {"19.9.9", "21.4.4", "22.6.6"}  # the blank node nobody answers is skipped
    assert s["19.9.9"].parent_id is None  # a second root answers the article too
    assert s["21.4.4"].parent_id is None and s["21.4.4"].meta["self_parent"]  # self-parented root
    assert s["22.6.6"].parent_id == "21.4.4"
    assert any("named themselves as their parent" in w for w in second.warnings)
    assert any("without text were skipped" in w for w in second.warnings)


def test_conversation_without_a_heading_is_titled_by_its_page() -> None:
    conv = {
        "5.1.1": _node("5.1.1", "COMMENT_ADDING", "Hello.", ""),
        "5.2.2": _node("5.2.2", "COMMENT_ADDING", "Hi.", "5.1.1"),
    }
    [t] = load_threads(json.dumps([conv]))
    assert t.title == "Talk:Some Film" and [c.parent_id for c in t.comments] == [None, "5.1.1"]


def test_malformed_wikiconv_is_one_line() -> None:
    bad = [{"1.1.1": {"id": "1.1.1", "content": "x", "parent_id": ""}}, {"2": "not a node"}]
    threads = load_threads(json.dumps(bad))
    assert [c.text for t in threads for c in t.comments] == ["x"]
    assert any("not utterance objects" in w for t in threads for w in t.warnings)
    with pytest.raises(InputError) as info:
        load_threads(json.dumps([{"1": _node("1", "SECTION_CREATION", "==x==", "")}]))
    assert "\n" not in str(info.value) and "no thread with comments" in str(info.value)


@pytest.mark.shared
def test_real_wikidetox_export(shared: Path) -> None:
    path = shared / "formats" / "wikidetox-talk" / "conversations_job2_x1000.json"
    threads = load_threads(path)
    assert len(threads) == 1000
    assert all(t.validate() == [] and t.structure_known for t in threads)
    raw = json.loads(path.read_text(encoding="utf-8"))
    nodes = [n for conv in raw for n in conv.values()]
    comments = [c for t in threads for c in t.comments]
    # every utterance but the section headings (titles) and the one blank node is a comment
    assert len(comments) == 4355 - 950 - 1 == 3404
    assert len({c.id for c in comments}) == 3404
    by_id = {n["id"]: n for n in nodes}
    for c in comments:
        assert c.text == by_id[c.id]["content"] and c.author == by_id[c.id]["user_text"]
    # reply structure kept: a parent that is a comment stays the parent
    kept = {c.id for c in comments}
    for c in comments:
        parent = by_id[c.id]["parent_id"]
        if parent in kept and parent != c.id:
            assert c.parent_id == parent
    first = threads[0]
    assert first.title == "Talk:Teenage Mutant Ninja Turtles II: The Secret of the Ooze: Utroms"
    selfp = next(c for c in comments if c.id == "114466139.3343.3343")
    assert selfp.parent_id is None and selfp.meta["self_parent"]

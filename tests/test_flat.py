"""The flat-text parser on threads built here in the scraped style."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.render_flat import render_flat

FLAT = """Council Approves New Bike Lanes Downtown

The city council voted on Tuesday to approve three new protected bike lanes.

Supporters say the lanes will reduce accidents. Opponents worry about parking.


Maria Gonzalez

Finally! I have been waiting for this for years. My commute will be so much safer.

Second paragraph of Maria, which continues here
and a line broken mid-sentence by the scraper.

Tom B

Maria, I disagree. Parking downtown is already impossible.


Tom, the data from other cities shows parking is rarely the problem.

Nicola

Great

Tom B

Fine, you may be right about that.

Alexandra Konstantinopoulou-Smi

This is a waste of money.
"""


def test_parses_authors_and_text_whole() -> None:
    t = parse_flat(FLAT, "bikes")
    assert t.title == "Council Approves New Bike Lanes Downtown"
    assert t.article.startswith("The city council voted")
    assert "Opponents worry about parking." in t.article
    authors = [c.author for c in t.comments]
    assert authors == ["Maria Gonzalez", "Tom B", None, "Nicola", "Tom B", "Alexandra Konstantinopoulou-Smi"]
    maria = t.comments[0].text
    assert maria.startswith("Finally!") and maria.endswith("broken mid-sentence by the scraper.")
    assert "\n\nSecond paragraph" in maria and "continues here\nand a line" in maria
    assert t.comments[2].text == "Tom, the data from other cities shows parking is rarely the problem."
    assert t.comments[3].text == "Great"
    assert not t.structure_known
    assert all(c.parent_id is None for c in t.comments)
    assert [c.id for c in t.comments] == [f"c{k}" for k in range(1, 7)]
    assert t.validate() == []


def test_authorless_comment_warns() -> None:
    t = parse_flat(FLAT, "bikes")
    assert any("no author line" in w for w in t.warnings)


def test_truncated_display_name_is_merged() -> None:
    # merged only because the page shows the name cut off (tests/test_flat_names.py: prefixes alone are not)
    cut = FLAT.replace("Konstantinopoulou-Smi\n", "Konstantinopoulou-Smi\u2026\n")
    text = cut + "\nAlexandra Konstantinopoulou-Smith\n\nAnd I stand by it.\n"
    t = parse_flat(text, "bikes")
    assert t.comments[5].author == "Alexandra Konstantinopoulou-Smith"
    assert t.comments[5].meta["display_name"] == "Alexandra Konstantinopoulou-Smi\u2026"
    assert any("truncated" in w for w in t.warnings)
    uncut = parse_flat(FLAT + "\nAlexandra Konstantinopoulou-Smith\n\nAnd I stand by it.\n", "bikes")
    assert uncut.comments[5].author == "Alexandra Konstantinopoulou-Smi"


def test_page_furniture_dropped() -> None:
    text = "Title\n\nBody.\n\n\nAnn Lee\n\nHello there everyone.\nReply\n\nBob Ray\n\nHi Ann.\n3 points\n"
    t = parse_flat(text, "x")
    assert [c.text for c in t.comments] == ["Hello there everyone.", "Hi Ann."]
    assert any("furniture" in w for w in t.warnings)


def test_sentences_are_not_author_lines() -> None:
    text = "Title\n\nBody.\n\n\nAnn Lee\n\nI agree with you\n\nBob Ray\n\nThank you all\n"
    t = parse_flat(text, "x")
    assert [c.author for c in t.comments] == ["Ann Lee", "Bob Ray"]


@pytest.mark.parametrize("text", ["", "\n\n\n", "Just a title"])
def test_no_comment_section_is_a_clear_error(text: str) -> None:
    with pytest.raises(InputError):
        parse_flat(text, "x")


def test_article_only_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="no comment section"):
        parse_flat("A title\n\nOne paragraph.\n\nAnother paragraph.\n", "x")


def test_huge_comment_kept_whole() -> None:
    big = ("word " * 200_000).strip()
    t = parse_flat(f"Title\n\nBody.\n\n\nAnn Lee\n\n{big}\n", "x")
    assert t.comments[0].text == big


_names = st.sampled_from(["Ann Lee", "Bob Ray", "Cy Dunn", "Dee Park", "Eve Moss"])
_sentence = st.lists(
    st.sampled_from(["the", "vote", "was", "close", "and", "parking", "matters", "a", "lot"]), min_size=6, max_size=20
).map(lambda ws: " ".join(ws).capitalize() + ".")
_body = st.lists(_sentence, min_size=1, max_size=3).map(lambda ps: "\n\n".join(ps))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_names, _body, st.booleans()), min_size=1, max_size=12))
def test_render_then_parse_round_trips_text_and_authors(rows: list[tuple[str, str, bool]]) -> None:
    comments = tuple(Comment(id=f"x{k}", text=body, author=name) for k, (name, body, _) in enumerate(rows))
    thread = Thread(id="t", title="A title for the thread", comments=comments, article="Article body.")
    dropped = {f"x{k}" for k, (_, _, d) in enumerate(rows) if d}
    flat = render_flat(thread, drop_author=lambda c: c.id in dropped)
    parsed = parse_flat(flat, "t")
    assert [c.text for c in parsed.comments] == [c.text for c in comments]
    assert [c.author for c in parsed.comments] == [None if c.id in dropped else c.author for c in comments]


def test_blog_style_author_lines_and_timestamps() -> None:
    text = (
        "Title\n\nArticle text here.\n\n\nJohn Smith says:\n\nMay 21, 2020 at 3:15 pm\n\n"
        "I think this is wrong.\n\nMary Jones says:\n\n2 hours ago\n\nLOL\n\nBob Ray\n\nAgreed\n\n"
        "Ann Lee\n\nNo way, the numbers say otherwise.\n"
    )
    t = parse_flat(text, "x")
    assert [(c.author, c.text) for c in t.comments] == [
        ("John Smith", "I think this is wrong."),
        ("Mary Jones", "LOL"),
        ("Bob Ray", "Agreed"),
        ("Ann Lee", "No way, the numbers say otherwise."),
    ]
    assert any("dropped 2 line(s)" in w for w in t.warnings)


def test_one_word_replies_are_text_not_names() -> None:
    text = "Title\n\nArticle.\n\n\nAnn Lee\n\nGreat point.\n\nLOL\n\nBob Ray\n\nNo way.\n"
    t = parse_flat(text, "x")
    assert [(c.author, c.text) for c in t.comments] == [("Ann Lee", "Great point.\n\nLOL"), ("Bob Ray", "No way.")]


def test_ip_address_display_names() -> None:
    text = "Talk: Foo\n\nSection text.\n\n\n76.17.4.35\n\nWhy was my edit removed?\n\nLoisel\n\nIt had no source.\n"
    t = parse_flat(text, "x")
    assert [c.author for c in t.comments] == ["76.17.4.35", "Loisel"]


def test_html_in_flat_text_is_kept_verbatim_with_a_warning() -> None:
    text = "Title\n\nArticle.\n\n\nAnn Lee\n\n<p>Hello <b>world</b></p><script>x()</script>\n"
    t = parse_flat(text, "x")
    assert t.comments[0].text == "<p>Hello <b>world</b></p><script>x()</script>"
    assert any("HTML markup" in w and "c1" in w for w in t.warnings)

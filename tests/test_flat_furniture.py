"""Flat text: page furniture is dropped only where furniture stands, never from a comment (issue 7)."""

from __future__ import annotations

import pytest

from discourse.formats.flat import parse_flat

HEAD = "A title\n\nThe article body.\n\n\n"


def _pairs(text: str) -> list[tuple[str | None, str]]:
    return [(c.author, c.text) for c in parse_flat(HEAD + text, "t").comments]


@pytest.mark.parametrize("body", ["10", "Report", "Reply", "3 points", "May 21, 2020", "-", "2 hours ago"])
def test_a_comment_that_is_only_a_furniture_word_is_kept(body: str) -> None:
    text = f"Ann Lee\n\n{body}\n\nBob Ray\n\nI disagree with Ann.\n"
    assert _pairs(text) == [("Ann Lee", body), ("Bob Ray", "I disagree with Ann.")]
    t = parse_flat(HEAD + text, "t")
    assert any("look like page furniture" in w and "c1" in w for w in t.warnings)  # kept, and said so


def test_a_furniture_word_comment_without_its_author_line_is_kept() -> None:
    text = "Ann Lee\n\nFirst comment here.\n\n\nReport\n\n\nSomeone else entirely.\n"
    assert [c.text for c in parse_flat(HEAD + text, "t").comments] == [
        "First comment here.",
        "Report",
        "Someone else entirely.",
    ]


def test_list_lines_and_dates_inside_a_comment_are_kept() -> None:
    body = "My ranking:\n1\n2\n3\nand the meeting is on\nMay 21, 2020\nat the hall."
    last = "Final scores below.\n\n10\n\n7\n\n1\n2\n3"
    text = (
        f"Ann Lee\n\n{body}\n\nBob Ray\n\nThe dates:\n\n21/05/2020\n\nand 2020-05-22 were fine.\n\nCy Dunn\n\n{last}\n"
    )
    assert _pairs(text) == [
        ("Ann Lee", body),
        ("Bob Ray", "The dates:\n\n21/05/2020\n\nand 2020-05-22 were fine."),
        ("Cy Dunn", last),
    ]
    assert not any("dropped" in w for w in parse_flat(HEAD + text, "t").warnings)


def test_furniture_next_to_author_lines_is_dropped_counted_and_kept_aside() -> None:
    text = (
        "Ann Lee\n• 3 years ago\n\nHello there everyone.\n\n5\nReply\nShare ›\n\n"
        "Bob Ray\n\n2 hours ago\n\nHi Ann.\nReply\n\n"
        "Cy Dunn\n\nMay 21, 2020 at 3:15 pm\n\nNo way.\n3 points\n"
    )
    t = parse_flat(HEAD + text, "t")
    assert [(c.author, c.text) for c in t.comments] == [
        ("Ann Lee", "Hello there everyone."),
        ("Bob Ray", "Hi Ann."),
        ("Cy Dunn", "No way."),
    ]
    assert any("dropped 8 line(s) of page furniture" in w for w in t.warnings)
    assert t.comments[0].meta["furniture"] == ("• 3 years ago", "5", "Reply", "Share ›")
    assert t.comments[1].meta["furniture"] == ("2 hours ago", "Reply")
    assert t.comments[2].meta["furniture"] == ("May 21, 2020 at 3:15 pm", "3 points")


def test_a_paragraph_of_furniture_between_two_paragraphs_is_text() -> None:
    text = "Ann Lee\n\nFirst paragraph.\n\nReply\n\nSecond paragraph.\n\nBob Ray\n\nOk.\n"
    assert _pairs(text)[0] == ("Ann Lee", "First paragraph.\n\nReply\n\nSecond paragraph.")


def test_vote_count_alone_at_a_comment_end_is_kept_with_a_warning() -> None:
    text = "Ann Lee\n\nHow many goals?\n\n10\n\nBob Ray\n\nSeven.\n"
    t = parse_flat(HEAD + text, "t")
    assert t.comments[0].text == "How many goals?\n\n10"
    assert any("look like page furniture" in w and "c1" in w for w in t.warnings)


def test_whitespace_inside_comments_is_verbatim() -> None:
    body = "Trailing spaces  \nmean a line break in markdown.   \n\xa0\nA line of a no-break space above."
    t = parse_flat(HEAD + f"Ann Lee\n\n{body}\n\nBob Ray\n\nOk.\n", "t")
    assert t.comments[0].text == body


@pytest.mark.parametrize(
    ("ann", "bob"), [("3 hours ago\n\nHello.", "Hi."), ("Hello.", "Hi.\n\nReply"), ("Hello.", "Hi.\n\n2 likes")]
)
def test_a_single_furniture_like_block_on_a_page_without_furniture_is_kept(ann: str, bob: str) -> None:
    text = f"Ann Lee\n\n{ann}\n\nBob Ray\n\n{bob}\n\nCy Dunn\n\nBye.\n"
    t = parse_flat(HEAD + text, "t")
    assert [(c.author, c.text) for c in t.comments] == [("Ann Lee", ann), ("Bob Ray", bob), ("Cy Dunn", "Bye.")]
    assert any("look like page furniture" in w for w in t.warnings)

"""Names cannot be spoofed in the report with bidirectional controls (issue 7, case 7): user text is
isolated (``<bdi>``, ``dir="auto"``) and an invisible control in a displayed name shows as a
visible ``<U+202E>`` marker; analysis.json keeps the verbatim text."""

from __future__ import annotations

import html
import re

import pytest

import discourse
from discourse.core.thread import Comment, Thread
from discourse.report.html import render_index, render_report

SPOOF = "\u202enimda"  # shows as "admin"
ISOLATED = "Bob\u2066\u05d0\u2069"  # an isolate, an RTL letter, its closing mark
SCRIPT = "<script>alert(1)</script>\u202e"
CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def analysis(tiny_config: dict) -> discourse.Analysis:
    said = [
        ("c1", None, SPOOF, "I think the stadium plan is a waste of public money."),
        ("c2", "c1", ISOLATED, "I disagree, the stadium brings jobs."),
        ("c3", "c2", SPOOF, "Thank you, but I still disagree."),
        ("c4", "c3", ISOLATED, "Again, I disagree with you."),
        ("c5", "c1", SCRIPT, "A comment with \u202ereversed\u202c text in it."),
    ]
    comments = tuple(Comment(i, text, author=a, parent_id=p) for i, p, a, text in said)
    thread = Thread("t", "Vote \u202eon\u202c the stadium", comments, source_format="jsonl")
    return discourse.analyze(thread, tiny_config)


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_controls_in_names_are_shown_and_names_isolated(analysis: discourse.Analysis) -> None:
    page = render_report(analysis)
    shown = visible_text(page)
    assert "<U+202E>nimda" in shown and "Bob<U+2066>\u05d0<U+2069>" in shown
    assert "Vote <U+202E>on<U+202C> the stadium" in shown  # the title, heading and <title>
    comment_text = r'<(div|blockquote) class="(text|snippet)" dir="auto">.*?</\1>'
    assert not CONTROLS.search(re.sub(comment_text, "", page, flags=re.S))  # raw only in comment text
    authors = re.findall(r'<span class="author">(.{5})', page)
    assert len(authors) >= 5 and set(authors) == {"<bdi>"}
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_comment_text_is_kept_verbatim_and_isolated(analysis: discourse.Analysis) -> None:
    page = render_report(analysis)
    assert '<div class="text" dir="auto">A comment with \u202ereversed\u202c text in it.</div>' in page
    data = analysis.to_json()
    assert [c["author"] for c in data["comments"]] == [SPOOF, ISOLATED, SPOOF, ISOLATED, SCRIPT]
    assert data["thread"]["title"] == "Vote \u202eon\u202c the stadium"


def test_index_shows_controls_in_titles_and_sources() -> None:
    page = render_index(
        [
            {
                "folder": "x-1",
                "title": "Thread by \u202enimda",
                "source": "invoice\u202efdp.exe",
                "comments": 3,
                "status": "ok",
            }
        ]
    )
    shown = visible_text(page)
    assert "Thread by <U+202E>nimda" in shown and "invoice<U+202E>fdp.exe" in shown
    assert not CONTROLS.search(page)
    assert "<bdi>" in page

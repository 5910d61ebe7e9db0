"""reply_graph.v1: addressing, link scoring, author inference; inferred structure is always a tree."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.render_flat import render_flat
from discourse.stages.reply_graph.addressing import addressed_names, addresses
from discourse.stages.reply_graph.links import infer_structure
from discourse.testing import DEBATE


def test_addressing_patterns() -> None:
    assert addressed_names("Hello Priya. I disagree.") == ("Priya",)
    assert addressed_names("Marco thank you. Fine.") == ("Marco",)
    assert addressed_names("I wish a good evening to you Xoli.") == ("Xoli",)
    assert addressed_names("@sam_99 no way") == ("sam_99",)
    assert addressed_names("The vote is close. Parking matters.") == ()
    assert addresses("Thank you Priya.", "Priya Raman")
    assert not addresses("Thank you Priya.", "Dan Osei")


def test_reference_style_debate_structure_and_authors() -> None:
    t = infer_structure(parse_flat(DEBATE, "stadium"))
    by = {c.id: c for c in t.comments}
    # c2, c4, c6 have no author line: named by the replies, then by turn-taking.
    assert by["c2"].author == "Marco" and by["c2"].author_inferred
    assert by["c4"].author == "Marco" and by["c4"].author_inferred
    assert by["c6"].author == "Marco" and by["c6"].author_inferred
    assert "addressed as Marco" in by["c2"].meta["author_evidence"]
    assert not by["c1"].author_inferred
    parents = {c.id: c.parent_id for c in t.comments}
    assert parents == {"c1": None, "c2": "c1", "c3": "c2", "c4": "c3", "c5": "c4", "c6": "c5", "c7": "c6", "c8": None}
    assert all(0.0 <= c.parent_confidence <= 1.0 for c in t.comments)
    assert t.validate() == []


def test_similarity_signal_picks_the_related_comment() -> None:
    comments = tuple(
        Comment(id=f"c{k}", text=f"text {k}", author=a)
        for k, a in enumerate(["Ann Lee", "Bob Ray", "Cy Dunn"], start=1)
    )
    t = Thread(id="t", title="T", comments=comments, structure_known=False)
    v = np.eye(3, dtype=np.float32)
    v[2] = v[0]  # c3 says what c1 said
    # preorder: c3's candidates are root, c2 and (if c2 replied to c1) c1
    out = infer_structure(t, v, np.zeros(3, dtype=np.float32))
    assert out.comments[2].parent_id in {"c1", "c2", None}
    assert out.validate() == []


# -- invariants on random reply trees -------------------------------------------------------------
@st.composite
def trees(draw: st.DrawFn) -> Thread:
    n = draw(st.integers(min_value=1, max_value=25))
    names = ["Ann Lee", "Bob Ray", "Cy Dunn", "Dee Park"]
    comments = []
    for k in range(n):
        parent = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=k - 1))) if k else None
        comments.append(
            Comment(
                id=f"n{k}",
                text=f"Comment number {k} says something about topic {k % 3}.",
                author=draw(st.sampled_from(names)),
                parent_id=None if parent is None else f"n{parent}",
            )
        )
    return Thread(id="r", title="Random tree", comments=tuple(comments), article="An article.")


@settings(max_examples=50, deadline=None)
@given(trees())
def test_inferred_structure_is_always_a_valid_tree(thread: Thread) -> None:
    # Render the true tree flat, parse it back, infer links: whatever the links, it must be a tree.
    flat = parse_flat(render_flat(thread), "r")
    out = infer_structure(flat)
    assert out.validate() == []
    assert len(out.comments) == len(thread.comments)
    visited = [c.id for c in out.traverse("preorder")]
    assert sorted(visited) == sorted(c.id for c in out.comments)  # every node once
    # preorder constraint: document order is a valid preorder of the inferred tree, i.e. each
    # comment answers the article or a comment on the path from the article to the one before it
    assert visited == [c.id for c in out.comments]
    parent = {c.id: c.parent_id for c in out.comments}
    for prev, c in zip(out.comments, out.comments[1:], strict=False):
        path, node = set(), prev.id
        while node is not None:
            path.add(node)
            node = parent[node]
        assert c.parent_id is None or c.parent_id in path
    assert [c.text for c in out.comments] == [c.text for c in thread.traverse("preorder")]  # none lost or merged


def test_addressing_ignores_words_that_only_look_like_names() -> None:
    assert addressed_names("mail me at tp@hotmail.com lol") == ()
    assert addressed_names("see [WIKI_LINK: WP:V@verification] first") == ()
    assert addressed_names("If you're looking for it, try the archive.") == ()
    assert addressed_names("Hello, I'm a bot.") == ()
    assert addressed_names("Yeah, that's a good idea.") == ()
    # the comma-led form still matches a known author, but never names an unknown one
    assert addressed_names("Marco, the data says otherwise.") == ("Marco",)
    assert addressed_names("Marco, the data says otherwise.", strict=True) == ()
    assert addressed_names("Marco, you are wrong.", strict=True) == ("Marco",)
    assert addressed_names("Thank you Marco, fair point.", strict=True) == ("Marco",)


def test_turn_taking_needs_an_established_exchange() -> None:
    # c3 answers Bob, who answered Ann once: not enough to call c3 Ann's
    text = (
        "T\n\nArticle.\n\n\nAnn Lee\n\nStadiums waste money.\n\nBob Ray\n\n"
        "Ann, I disagree, they bring jobs.\n\n\nThat is exactly what they said last time.\n"
    )
    t = infer_structure(parse_flat(text, "x"))
    assert t.comments[2].author is None and not t.comments[2].author_inferred

"""attention.v1 on huge threads (issue 7): a comment without a parent is matched against the
earlier authors through an index, not one by one (quadratic: 20,000 comments took 110 s)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from discourse.core.layers import Annotations
from discourse.core.thread import Comment, Thread
from discourse.stages.attention import rank as rank_mod
from discourse.stages.attention import target as target_mod
from discourse.stages.attention.rank import rank_attention
from discourse.stages.attention.target import AuthorIndex, Target, aimed_at
from discourse.stages.reply_graph.addressing import addresses

NAMES = ["Daniel", "Daniela", "Ann Lee", "ann", "User A26", "User A260", "Bob Ray", "Xoli", "O'Neil", None, ""]
OPENERS = ["Hello {}, you are wrong.", "{}, you are wrong.", "Thank you {}.", "I agree with you {}.", "@{} no.", "{}"]


def _old_rule(text: str, author: str | None, earlier: list[str | None]) -> str | None:
    """The rule before the index: the first earlier author (in order) the text addresses."""
    return next((a for a in earlier if a and a != author and addresses(text, a)), None)


def test_the_index_names_the_same_author_as_the_author_by_author_rule() -> None:
    rng = random.Random(7)
    for _ in range(600):
        earlier = [rng.choice(NAMES) for _ in range(rng.randrange(0, 8))]
        said = rng.choice([n for n in NAMES if n] + ["Dan", "Lee", "Nobody", "A26"])
        text = " ".join(rng.choice(OPENERS).format(said) for _ in range(rng.randrange(1, 3)))
        author = rng.choice(NAMES)
        expected = _old_rule(text, author, earlier)
        assert AuthorIndex(earlier).first_addressed(text, author) == expected, (text, author, earlier)
        top_level = aimed_at(Comment("c", text, author=author), None, [a for a in earlier if a])
        assert (
            (top_level is not None and top_level.cue == f"addresses {expected} by name")
            or expected is None
            or (top_level is not None and top_level.kind == "commenters")
        )


def test_a_thread_of_top_level_comments_is_not_matched_author_by_author(monkeypatch: pytest.MonkeyPatch) -> None:
    comments = tuple(
        Comment(f"c{i}", f"Hello User{i - 1}, you are wrong." if i % 2 else "A thought.", author=f"User{i}")
        for i in range(2000)
    )
    calls: list[str] = []
    original = target_mod.addresses

    def counted(text: str, author: str | None) -> bool:
        calls.append(text)
        return original(text, author)

    seen: list[Target | None] = []
    real = rank_mod.aimed_at

    def recorded(c: Comment, p: Comment | None, e: Any = ()) -> Target | None:
        seen.append(real(c, p, e))
        return seen[-1]

    monkeypatch.setattr(target_mod, "addresses", counted)
    monkeypatch.setattr(rank_mod, "aimed_at", recorded)
    rank_attention(Thread("t", "T", comments), Annotations(), ())
    assert not calls  # was one call per earlier author for each of the 2,000 comments
    named = [t.cue for t in seen if t is not None]
    assert len(named) == 1000 and named[0] == "addresses User0 by name" and named[-1] == "addresses User1998 by name"

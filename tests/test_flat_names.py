"""Flat text: author lines and display names (issue 7).

Names that only share a prefix stay apart unless the page shows one cut off; a long thread of
real-looking Reddit replies comes back with every boundary and every author.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.render_flat import clean_text, render_flat

HEAD = "A title\n\nThe article body.\n\n\n"


def _parse(*rows: tuple[str, str]) -> Thread:
    return parse_flat(HEAD + "".join(f"{a}\n\n{t}\n\n" for a, t in rows), "t")


# -- prefix names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("short", "long"), [("Daniel", "Daniela"), ("User A26", "User A260"), ("Chris", "Christopher")]
)
def test_names_that_share_a_prefix_stay_apart(short: str, long: str) -> None:
    t = _parse((short, "You are wrong about this."), (long, "No, you are."), (short, "Am not."))
    assert [c.author for c in t.comments] == [short, long, short]
    assert not any("merged" in w for w in t.warnings)
    assert all("display_name" not in c.meta for c in t.comments)


def test_a_long_unmarked_prefix_is_kept_apart_with_a_warning() -> None:
    t = _parse(("Alexandra Konstantinopoulou-Smi", "First."), ("Alexandra Konstantinopoulou-Smith", "Second."))
    assert [c.author for c in t.comments] == ["Alexandra Konstantinopoulou-Smi", "Alexandra Konstantinopoulou-Smith"]
    assert any("kept apart" in w and "Konstantinopoulou-Smi'" in w for w in t.warnings)


@pytest.mark.parametrize(
    ("shown", "full"),
    [
        ("Willing Conscience (The Truths", "Willing Conscience (The Truths Out There)"),
        ("Alexandra Konstantino\u2026", "Alexandra Konstantinopoulou"),
        ("Alexandra Konstantino...", "Alexandra Konstantinopoulou"),
    ],
)
def test_a_name_shown_cut_off_is_merged_with_its_full_form(shown: str, full: str) -> None:
    t = _parse((full, "The first comment."), ("Bob Ray", "A reply."), (shown, "Me again."))
    assert [c.author for c in t.comments] == [full, "Bob Ray", full]
    assert t.comments[2].meta["display_name"] == shown
    assert any("looks truncated" in w and "merged" in w for w in t.warnings)


def test_a_cut_off_name_with_two_possible_full_forms_is_not_merged() -> None:
    t = _parse(("Dani\u2026", "Who am I?"), ("Daniel", "Not me."), ("Daniela", "Nor me."))
    assert [c.author for c in t.comments] == ["Dani\u2026", "Daniel", "Daniela"]
    assert any("ambiguous" in w and "Dani\u2026" in w for w in t.warnings)


def test_a_cut_off_name_alone_is_kept_as_shown() -> None:
    t = _parse(("Willing Conscience (The Truths", "Only me."), ("Bob Ray", "Hi."))
    assert [c.author for c in t.comments] == ["Willing Conscience (The Truths", "Bob Ray"]


# -- a long thread of Reddit replies ---------------------------------------------------------------
_WORDS = (
    "the a game was really good and team should have drafted him but I think that defense is not "
    "going to win this year because quarterback contract money cap trade rookie season coach play"
).split()


def _reddit_name(rng: random.Random) -> str:
    """Handles as Reddit has them: lower/camel words, digits, underscores, hyphens, digits alone."""
    words = ["not", "a", "doctor", "just", "here", "for", "the", "memes", "throw", "away", "bird", "law", "ok", "so"]
    kind = rng.randrange(9)
    if kind == 0:
        return str(rng.randrange(10_000, 10**10))  # "7992428374"
    if kind == 1:
        return f"{rng.randrange(1, 9)}_{rng.randrange(10**5, 10**6)}"  # "6_283185"
    picked = rng.sample(words, rng.randrange(2, 4))
    if kind == 2:
        return "_".join(picked)  # "not_a_doctor"
    if kind == 3:
        return "-".join(picked)
    if kind == 4:
        return "".join(w.capitalize() for w in picked)  # "JustHereForTheMemes"
    if kind == 5:
        return "".join(picked) + str(rng.randrange(100))
    if kind == 6:
        return "".join(picked)  # "throwaway", "birdlaw": one rare lower-case word
    return rng.choice(["Ann", "Bob", "Dee"]) + rng.choice(["", "_", "-"]) + "".join(picked)


def _reddit_body(rng: random.Random) -> str:
    def sentence() -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(5, 18))).capitalize() + rng.choice(".?!")

    kind = rng.randrange(8)
    if kind == 0:
        return rng.choice(["Yes.", "lol", "This.", "Source?", "Agreed", "10", "Same", "What?", "Nope."])
    if kind == 1:
        return f"> {sentence()}\n\n{sentence()}"
    if kind == 2:
        return f"{sentence()}\n\n* {sentence()}\n* {sentence()}"
    if kind == 3:
        return f"{sentence()} https://www.reddit.com/r/nfl/comments/g7vyxy/"
    return "\n\n".join(sentence() for _ in range(rng.randrange(1, 4)))


def _tree(rows: list[tuple[str, str]], seed: int) -> Thread:
    rng = random.Random(seed)
    comments = []
    for k, (author, body) in enumerate(rows):
        parent = None if k == 0 or rng.random() < 0.3 else f"x{rng.randrange(max(0, k - 20), k)}"
        comments.append(Comment(id=f"x{k}", text=body, author=author, parent_id=parent))
    return Thread(id="t", title="Rams trade up for the first pick", comments=tuple(comments), article="The trade.")


def _round_trip(thread: Thread) -> tuple[list[tuple[str | None, str]], list[tuple[str | None, str]]]:
    parsed = parse_flat(render_flat(thread), "t")
    want = [(c.author, clean_text(c.text)) for c in thread.traverse("preorder")]
    return want, [(c.author, c.text) for c in parsed.comments]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_thousand_reddit_style_replies_keep_every_boundary_and_author(seed: int) -> None:
    rng = random.Random(seed)
    names = [_reddit_name(rng) for _ in range(600)]
    rows = [(rng.choice(names), _reddit_body(rng)) for _ in range(2000)]
    want, got = _round_trip(_tree(rows, seed))
    assert len(got) == 2000
    assert [a for a, _ in got] == [a for a, _ in want]
    assert got == want


def _walk(things: list[Any]) -> Iterator[tuple[Any, Any]]:
    for thing in things:
        if isinstance(thing, dict) and thing.get("kind") == "t1":
            d = thing["data"]
            yield d.get("author"), d.get("body")
            replies = d.get("replies")
            if isinstance(replies, dict):
                yield from _walk(replies["data"]["children"])


def _real_reddit_comments(shared: Path) -> list[tuple[str, str]]:
    pool: list[tuple[Any, Any]] = []
    with open(shared / "labeled" / "debagreement-dev" / "dev.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            pool += [(r["author_parent"], r["body_parent"]), (r["author_child"], r["body_child"])]
    files = [shared / "formats" / "reddit-nfl-thread" / "comments.json"]
    files += sorted((shared / "labeled" / "rumoureval2019-reddit-train").rglob("raw.json"))
    for f in files:
        for listing in json.loads(f.read_text(encoding="utf-8")):
            pool += list(_walk(listing["data"]["children"]))
    # "#NAME?" is a spreadsheet error left in DEBAGREEMENT's author column, not a Reddit name
    return [
        (a, b)
        for a, b in pool
        if a and a not in ("[deleted]", "#NAME?") and b and b.strip() not in ("[deleted]", "[removed]")
    ]


@pytest.mark.shared
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_two_thousand_real_reddit_replies_keep_every_boundary_and_author(shared: Path, seed: int) -> None:
    rows = random.Random(seed).sample(_real_reddit_comments(shared), 2000)
    want, got = _round_trip(_tree(rows, seed))
    assert len(got) == 2000
    assert [a for a, _ in got] == [a for a, _ in want]
    assert got == want

"""Fuzz the readers (issue 7): random Unicode, random JSON-ish structures and random flat layouts.

Nothing may raise but InputError (one line), every thread returned passes ``validate()`` and
can be written as UTF-8, and no comment is lost: every input comment's text is found verbatim
in the output (for flat text, in the output texts taken together).
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discourse import load_threads
from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.reading import replace_surrogates
from discourse.formats.render_flat import clean_text, render_flat

# DISCOURSE_FUZZ_EXAMPLES=5000 for a long local run
FUZZ = settings(
    max_examples=int(os.environ.get("DISCOURSE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _load(source: str | bytes) -> list[Thread] | None:
    """load_threads, with InputError (one line) as the only allowed failure."""
    try:
        threads = load_threads(source)
    except InputError as exc:
        assert "\n" not in str(exc)
        return None
    for t in threads:
        assert t.validate() == [], t.validate()
        strings = [t.id, t.title, t.article, *t.warnings, *(s for c in t.comments for s in (c.text, c.author or ""))]
        json.dumps(strings, ensure_ascii=False).encode("utf-8")  # what the writers do
    return threads


# -- random Unicode ---------------------------------------------------------------------------------
_any_char = st.characters(exclude_categories=())  # surrogates and controls included


@FUZZ
@given(st.text(_any_char, min_size=1, max_size=400))
def test_random_unicode_text_never_raises_anything_but_input_error(text: str) -> None:
    _load(text)
    _load(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(min_size=1, max_size=400))
def test_random_bytes_never_raise_anything_but_input_error(data: bytes) -> None:
    _load(data)


@FUZZ
@given(st.lists(st.sampled_from(["\n", "\n\n", "\n\n\n", " ", "Ann Lee", "Reply", "10", "<", "{", "[", "\ud800"])))
def test_random_layout_pieces_never_raise_anything_but_input_error(pieces: list[str]) -> None:
    _load("".join(pieces) or " ")


# -- random JSON-ish structures ---------------------------------------------------------------------
_KEYS = st.sampled_from(
    "kind data children id name parent_id text body author replies comments commentHex parentHex markdown "
    "commenters commenterHex url title content comment_type user_text timestamp count Listing t1 t3 more".split()
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(_any_char, max_size=20),
    st.sampled_from(["Listing", "t1", "t3", "more", "root", "", "[deleted]", "SECTION_CREATION", "t1_a", "a"]),
)
_json = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_KEYS, kids, max_size=5))


@FUZZ
@given(_json)
def test_random_json_structures_never_raise_anything_but_input_error(data: Any) -> None:
    text = json.dumps(data)  # lone surrogates become \\udXXX escapes, as a JavaScript scraper leaves them
    _load(text)
    if isinstance(data, list):  # and as JSON Lines
        _load("\n".join(json.dumps(x) for x in data) or "{}")


# -- comments in every structured format keep their text ----------------------------------------------
_text_char = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="&<>\r")
_texts = st.text(st.one_of(_text_char, st.sampled_from(["\n", "\t", " ", "\ud83d"])), min_size=1, max_size=60).filter(
    lambda s: s.strip() not in ("", "[deleted]", "[removed]")
)


def _reddit(rows: list[tuple[str, str, int | None]]) -> str:
    things: list[dict[str, Any]] = []
    made: list[dict[str, Any]] = []
    for k, (text, author, parent) in enumerate(rows):
        data = {"id": f"c{k}", "author": author, "body": text, "replies": ""}
        thing = {"kind": "t1", "data": data}
        if parent is None:
            data["parent_id"] = "t3_p"
            things.append(thing)
        else:
            data["parent_id"] = f"t1_c{parent}"
            holder = made[parent]["data"]
            if not holder["replies"]:
                holder["replies"] = {"kind": "Listing", "data": {"children": []}}
            holder["replies"]["data"]["children"].append(thing)
        made.append(thing)
    post = {"kind": "t3", "data": {"id": "p", "name": "t3_p", "title": "T"}}
    return json.dumps(
        [{"kind": "Listing", "data": {"children": [post]}}, {"kind": "Listing", "data": {"children": things}}]
    )


def _csv(rows: list[tuple[str, str, int | None]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "parent_id", "author", "text"])
    for k, (text, author, parent) in enumerate(rows):
        writer.writerow([f"c{k}", "" if parent is None else f"c{parent}", author, text])
    return out.getvalue()


def _wikiconv(rows: list[tuple[str, str, int | None]]) -> str:
    conv = {
        "h": {"id": "h", "comment_type": "SECTION_CREATION", "content": "== S ==", "parent_id": "", "user_text": "x"}
    }
    for k, (text, author, parent) in enumerate(rows):
        pid = "h" if parent is None else f"c{parent}"
        conv[f"c{k}"] = {"id": f"c{k}", "comment_type": "COMMENT_ADDING", "content": text, "parent_id": pid}
        conv[f"c{k}"]["user_text"] = author
    return json.dumps([conv])


_WRITERS = {
    "jsonl": lambda rows: "\n".join(
        json.dumps({"id": f"c{k}", "parent_id": None if p is None else f"c{p}", "author": a, "text": t})
        for k, (t, a, p) in enumerate(rows)
    ),
    "json_rows": lambda rows: json.dumps(
        [
            {"id": f"c{k}", "parent_id": None if p is None else f"c{p}", "author": a, "text": t}
            for k, (t, a, p) in enumerate(rows)
        ]
    ),
    "commento": lambda rows: json.dumps(
        {
            "version": 1,
            "comments": [
                {"commentHex": f"c{k}", "parentHex": "root" if p is None else f"c{p}", "markdown": t, "url": "/p"}
                for k, (t, a, p) in enumerate(rows)
            ],
        }
    ),
    "reddit": _reddit,
    "csv": _csv,
    "wikiconv": _wikiconv,
}


@st.composite
def _rows(draw: st.DrawFn) -> list[tuple[str, str, int | None]]:
    n = draw(st.integers(1, 8))
    return [
        (
            draw(_texts),
            draw(st.text(_text_char, min_size=1, max_size=12)),
            draw(st.none() | st.integers(0, k - 1)) if k else None,
        )
        for k in range(n)
    ]


def _as_read(text: str) -> str:
    """A comment text as the readers promise to return it: surrogates replaced, CR line ends made LF."""
    return replace_surrogates(text)[0].replace("\r\n", "\n").replace("\r", "\n")


@FUZZ
@given(st.sampled_from(sorted(_WRITERS)), _rows())
def test_every_comment_text_survives_every_structured_format(fmt: str, rows: list[tuple[str, str, int | None]]) -> None:
    threads = _load(_WRITERS[fmt](rows))
    assert threads is not None, fmt
    got = [c.text for t in threads for c in t.comments]
    for text, _, _ in rows:
        assert _as_read(text) in got, (fmt, text, got)


# -- random flat layouts ---------------------------------------------------------------------------
_letter = st.characters(categories=("Lu", "Ll", "Lo"), exclude_characters="ǅǈǋǲ")
_word = st.text(_letter, min_size=1, max_size=8)
_sentence = st.builds(
    lambda ws, end: " ".join(ws) + end, st.lists(_word, min_size=1, max_size=9), st.sampled_from([".", "!", "?", "。"])
)
_paragraph = st.lists(_sentence, min_size=1, max_size=3).map("\n".join)
_looks_like_furniture = st.sampled_from(["10", "Report", "1\n2\n3", "May 21, 2020", "-", "3 points"])


@st.composite
def _flat_text(draw: st.DrawFn) -> str:
    """A comment's text: paragraphs of random words, now and then furniture-looking lines between them
    or a whole comment that is only a number, a list of numbers or "Report"."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["10", "1\n2\n3", "Report", "-"]))
    paragraphs = draw(st.lists(_paragraph, min_size=1, max_size=3))
    if len(paragraphs) > 1 and draw(st.booleans()):
        paragraphs.insert(1, draw(_looks_like_furniture))
    return "\n\n".join(paragraphs)


_name = st.one_of(
    st.lists(_word.map(str.title), min_size=1, max_size=3).map(" ".join),
    st.from_regex(r"[a-z][a-z0-9_]{2,12}", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}_[0-9]{3,8}", fullmatch=True),
)


@st.composite
def _flat_thread(draw: st.DrawFn) -> tuple[Thread, set[str]]:
    n = draw(st.integers(1, 25))
    comments = []
    for k in range(n):
        parent = draw(st.none() | st.integers(0, k - 1)) if k else None
        comments.append(
            Comment(
                id=f"x{k}",
                text=draw(_flat_text()),
                author=draw(_name),
                parent_id=None if parent is None else f"x{parent}",
            )
        )
    article = draw(st.sampled_from(["", "The article body.", "First paragraph.\n\nSecond paragraph."]))
    thread = Thread(id="t", title="A random thread", comments=tuple(comments), article=article)
    dropped = {c.id for c in comments if draw(st.integers(0, 4)) == 0}  # one author line in five lost
    return thread, dropped


@FUZZ
@given(_flat_thread())
def test_random_flat_layouts_lose_no_comment(case: tuple[Thread, set[str]]) -> None:
    thread, dropped = case
    flat = render_flat(thread, drop_author=lambda c: c.id in dropped)
    parsed = parse_flat(flat, "t")
    assert parsed.validate() == []
    joined = "\n\n".join(c.text for c in parsed.comments)
    for c in thread.comments:
        assert clean_text(c.text) in joined, (c.text, flat)
    assert len(parsed.comments) <= len(thread.comments) + sum(c.text.count("\n\n") for c in thread.comments)
    assert _load(flat) is not None  # the same through the public loader

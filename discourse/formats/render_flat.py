"""Render a Thread as scraped flat text (the layouts ``parse_flat`` reads).

Used to export threads for flat-text tooling and, with authors dropped on
purpose, to measure how well reply links and authors are recovered from flat text
against a thread whose true structure is known. ``layout`` picks how the page looked (the
profiles of ``configs/layouts``): ``reference`` (author line, blank line, text), ``disqus``
("Name • 3 years ago", votes, "Reply · Share ›"), ``reddit`` ("level N", "user · 12 points ·
3h", "Load more comments") or ``forum`` ("#3 Posted by Name on date", "in reply to X").
:func:`with_markers` adds what repliers type ("@X" lines, "X wrote:" quotes) to the texts.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from discourse.core.thread import Comment, Thread

_MULTI_BLANK = re.compile(r"\n[^\S\n]*\n(?:[^\S\n]*\n)+")  # a line of whitespace alone is blank to parse_flat
LAYOUTS = ("reference", "disqus", "reddit", "forum")
MARKERS = ("mention", "quote", "in reply to")  # what with_markers can add
_INDENTED = re.compile(r"^[:*#]+")
_UNITS = ("minutes", "hours", "days", "months", "years")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clean_text(text: str) -> str:
    """A text as the flat layout carries it: stripped, with at most one blank line inside
    (two would read as a comment boundary)."""
    return _MULTI_BLANK.sub("\n\n", text.strip())


def render_flat(
    thread: Thread,
    drop_author: Callable[[Comment], bool] | None = None,
    layout: str = "reference",
    reply_to: Callable[[Comment], bool] | None = None,
) -> str:
    """Comments in preorder (how nested threads are flattened); ``drop_author``
    chooses comments whose author line (header) is lost; ``reply_to`` the replies for which a
    ``forum`` page prints "in reply to X"."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    parts = [thread.title.strip() or thread.id, ""]
    article = clean_text(thread.article)
    if article:
        parts += [article, ""]
    parts.append("")
    if layout == "reference":
        return _reference(thread, parts, drop_author)
    by = thread.by_id()
    depth = thread.depth()
    for k, c in enumerate(thread.traverse("preorder")):
        text = clean_text(c.text) or "[empty]"
        shown = bool(c.author) and not (drop_author and drop_author(c))
        age = f"{k % 9 + 2} {_UNITS[k % len(_UNITS)]} ago"
        if layout == "disqus":
            head = [f"{c.author} • {age}"] if shown else []
            parts += [*head, text, str((k * 7) % 13), "Reply · Share ›", ""]
        elif layout == "reddit":
            head = [f"{c.author} · {(k * 5) % 40 - 3} points · {k % 23 + 1}h"] if shown else []
            parts += [f"level {depth.get(c.id, 1)}", *head, text, "Reply Share Report Save", ""]
            if k % 7 == 6:
                parts += [f"Load more comments ({k % 4 + 1})", ""]
        else:  # forum: every post after two blank lines
            parent = by.get(c.parent_id) if c.parent_id else None
            head = [f"#{k + 1} Posted by {c.author} on {_MONTHS[k % 12]} {k % 28 + 1}, {2019 + k % 4}"] if shown else []
            if parent is not None and parent.author and reply_to is not None and reply_to(c):
                head.append(f"in reply to {parent.author}")
            if parts[-1] != "" or parts[-2] != "":
                parts.append("")
            parts += [*head, *([""] if head else []), text, "", "Quote Reply Report", "", ""]
    return "\n".join(parts).rstrip() + "\n"


def _reference(thread: Thread, parts: list[str], drop_author: Callable[[Comment], bool] | None) -> str:
    for c in thread.traverse("preorder"):
        if c.author and not (drop_author and drop_author(c)):
            parts += [c.author, "", clean_text(c.text) or "[empty]", ""]
        else:
            if parts[-1] != "" or parts[-2] != "":
                parts.append("")
            parts += [clean_text(c.text) or "[empty]", "", ""]
    return "\n".join(parts).rstrip() + "\n"


def _first_sentence(text: str, words: int = 16) -> str:
    first = re.split(r"(?<=[.!?])\s", " ".join(clean_text(text).split()), maxsplit=1)[0]
    return " ".join(first.split()[:words])


def with_markers(
    thread: Thread, share: float, kinds: tuple[str, ...] = ("mention", "quote"), seed: int = 0, handle: str = "@"
) -> Thread:
    """The same tree where a ``share`` of the replies (to a comment with an author) open with
    an explicit marker typed by the replier: ``mention`` ("@Ann Lee" on its own line; ``handle``
    "u/" for Reddit) or ``quote`` ("Ann Lee wrote:" and "> " the parent's first sentence; for
    Reddit just the "> " line); or ``in reply to``, which only records that a ``forum`` page prints
    "in reply to X" over it. Texts that open with wiki indentation (":: ...") are left alone.
    The marker used is kept in the comment's ``meta["marker"]``."""
    rng = random.Random(f"{seed}:{thread.id}:markers")
    by = thread.by_id()
    out: list[Comment] = []
    for c in thread.comments:
        parent = by.get(c.parent_id) if c.parent_id else None
        if parent is None or not parent.author or not kinds or rng.random() >= share or _INDENTED.match(c.text):
            out.append(c)  # a wiki talk page's indentation (":: ...") is its own marker
            continue
        kind = kinds[rng.randrange(len(kinds))]
        if kind == "in reply to":  # the page prints it (render_flat's reply_to), the text is unchanged
            text = c.text
        elif kind == "mention":
            text = f"{handle}{parent.author}\n{c.text}"
        else:
            quoted = _first_sentence(parent.text)
            if not quoted:
                out.append(c)
                continue
            head = "" if handle != "@" else f"{parent.author} wrote:\n"
            text = f"{head}> {quoted}\n\n{c.text}"
        out.append(Comment(id=c.id, text=text, author=c.author, parent_id=c.parent_id, meta={"marker": kind}))
    return Thread(
        id=thread.id,
        title=thread.title,
        comments=tuple(out),
        article=thread.article,
        source_format=thread.source_format,
    )

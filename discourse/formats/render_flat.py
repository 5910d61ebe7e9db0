"""Render a Thread as scraped flat text (the layout ``parse_flat`` reads).

Used to export threads for flat-text tooling and, with authors dropped on
purpose, to measure how well reply links and authors are recovered from flat text
against a thread whose true structure is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from discourse.core.thread import Comment, Thread

_MULTI_BLANK = re.compile(r"\n[^\S\n]*\n(?:[^\S\n]*\n)+")  # a line of whitespace alone is blank to parse_flat


def clean_text(text: str) -> str:
    """A text as the flat layout carries it: stripped, with at most one blank line inside
    (two would read as a comment boundary)."""
    return _MULTI_BLANK.sub("\n\n", text.strip())


def render_flat(thread: Thread, drop_author: Callable[[Comment], bool] | None = None) -> str:
    """Comments in preorder (how nested threads are flattened); ``drop_author``
    chooses comments whose author line is lost (they follow two blank lines)."""
    parts = [thread.title.strip() or thread.id, ""]
    article = clean_text(thread.article)
    if article:
        parts += [article, ""]
    parts.append("")
    for c in thread.traverse("preorder"):
        if c.author and not (drop_author and drop_author(c)):
            parts += [c.author, "", clean_text(c.text) or "[empty]", ""]
        else:
            if parts[-1] != "" or parts[-2] != "":
                parts.append("")
            parts += [clean_text(c.text) or "[empty]", "", ""]
    return "\n".join(parts).rstrip() + "\n"

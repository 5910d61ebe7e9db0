"""Render a Thread as scraped flat text (the layout ``parse_flat`` reads).

Used to export threads for flat-text tooling and, with authors dropped on
purpose, to measure how well reply links and authors are recovered from flat text
against a thread whose true structure is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from discourse.core.thread import Comment, Thread

_MULTI_BLANK = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _clean(text: str) -> str:
    # One blank line at most inside a comment: two would read as a comment boundary.
    return _MULTI_BLANK.sub("\n\n", text.strip())


def render_flat(thread: Thread, drop_author: Callable[[Comment], bool] | None = None) -> str:
    """Comments in preorder (how nested threads are flattened); ``drop_author``
    chooses comments whose author line is lost (they follow two blank lines)."""
    parts = [thread.title.strip() or thread.id, ""]
    article = _clean(thread.article)
    if article:
        parts += [article, ""]
    parts.append("")
    for c in thread.traverse("preorder"):
        if c.author and not (drop_author and drop_author(c)):
            parts += [c.author, "", _clean(c.text) or "[empty]", ""]
        else:
            if parts[-1] != "" or parts[-2] != "":
                parts.append("")
            parts += [_clean(c.text) or "[empty]", "", ""]
    return "\n".join(parts).rstrip() + "\n"

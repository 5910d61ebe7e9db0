"""Explicit reply markers a commenter typed, read from a comment's text with a layout's patterns.

* a mention on its own line near the start ("@Ann Lee", "u/some_user"): ``reply_to`` names the
  author of the comment answered;
* a quoted block ("Ann Lee wrote:" then "> ..." lines, or "> ..." lines alone): ``quoted`` holds
  the quoted text (the reply graph looks for it in the comments above), and a quote header names
  ``reply_to`` too.

The text itself is never changed: what a commenter typed stays in the comment.
"""

from __future__ import annotations

from collections.abc import Sequence

from discourse.formats.layouts import Layout

MENTION_LINES = 3  # a mention counts in the first few lines of a comment
MAX_QUOTED = 1000


def read_markers(text: str, layout: Layout, skip: Sequence[str] = ()) -> dict[str, object]:
    """``reply_to``/``reply_marker`` and ``quoted`` for one comment's text (empty when none)."""
    out: dict[str, object] = {}
    lines = text.split("\n")
    if layout.mention and "reply_to" not in skip:
        for line in [ln for ln in lines if ln.strip()][:MENTION_LINES]:
            m = next((mm for p in layout.mention if (mm := p.match(line.strip()))), None)
            if m:
                out["reply_to"], out["reply_marker"] = m.group("parent").strip(), "mention"
                break
    if layout.quote_line is None:
        return out
    k = 0
    while k < len(lines):
        s = lines[k].strip()
        head = next((mm for p in layout.quote_header if (mm := p.match(s))), None)
        first = k + 1 if head else k
        quoted: list[str] = []
        j = first
        while j < len(lines) and (q := layout.quote_line.match(lines[j].strip())):
            quoted.append(q.group("text"))
            j += 1
        if quoted and any(x.strip() for x in quoted):
            out["quoted"] = "\n".join(quoted)[:MAX_QUOTED]
            if head and "reply_to" not in out and "reply_to" not in skip:
                out["reply_to"], out["reply_marker"] = head.group("parent").strip(), "quote"
            break
        k += 1
    return out

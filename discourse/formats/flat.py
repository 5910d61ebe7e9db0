"""Parse scraped flat text: an article followed by its flattened comment section.

The layout, as scrapers of Disqus-style pages leave it::

    Title line

    Article paragraph …            (paragraphs separated by one blank line)


    Author Name                    <- short author line
                                   <- one blank line
    Comment text, maybe several paragraphs, lines broken mid-sentence …


    Comment whose author line was lost (follows two or more blank lines)

Rules (general, nothing here knows any particular file):

* The text is split into *blocks* of consecutive non-blank lines; each block
  remembers how many blank lines preceded it (its *gap*).
* The first block is the title when it is a single line. The article runs until the
  first gap of two or more blank lines; without one, until the first author line.
* A block is an *author line* when it is one short, name-like line (few words, no
  sentence punctuation at its end, no pronouns or function-word phrasing), followed
  by exactly one blank line and a text block which is not itself an author line.
  A display name seen several times in that position is trusted more.
* A block after two or more blank lines with no author line starts a comment whose
  author is unknown (``author=None``); the reply-graph stage may infer it later.
* Any other block continues the current comment (a new paragraph). Line breaks
  inside a block are kept verbatim.
* Lines that are page furniture ("Reply", "Share ›", "Load more comments", "• 3 years
  ago", vote counts) are dropped, with a warning.
* A display name that is a strict prefix of a longer one in the same thread
  ("Willing Conscience (The Truths" vs "… Truths Out There)") is merged into the
  longer one, with a warning.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.disqus import looks_like_html
from discourse.formats.flat_segment import SAYS, label_blocks, name_score

_NOISE = re.compile(
    r"^\s*(?:reply|share\s*›?|report|flag|edit(?:ed)?|delete|load more comments|show more repl(?:y|ies)|"
    r"see more|hide repl(?:y|ies)|view repl(?:y|ies)|[−+–-]|[•·]\s*.*\bago|\d+\s*(?:points?|votes?|likes?)?|"
    r"(?:an?|\d+)\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s+ago|avatar|"
    # a line that is only a date and/or a time: "May 21, 2020 at 3:15 pm", "2020-05-21 15:15", "21/05/2020"
    r"(?:(?:on\s+)?(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?"
    r"(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?,?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?))\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Block:
    lines: tuple[str, ...]
    gap: int  # blank lines before this block
    line_no: int  # 1-based line number of the first line

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _blocks(text: str) -> tuple[list[_Block], int]:
    blocks: list[_Block] = []
    cur: list[str] = []
    gap = 0
    held = 0  # blank lines seen before a dropped furniture line between blocks
    start = 0
    dropped = 0
    for no, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        if not line.strip():
            if cur:
                blocks.append(_Block(tuple(cur), gap, start))
                cur = []
                gap = 0
            gap += 1
            continue
        if _NOISE.match(line):
            dropped += 1
            if not cur:  # "Author\n\n3 hours ago\n\nText": the gap is one blank line, not two
                held, gap = max(held, gap), 0
            continue
        if not cur:
            start = no
            gap, held = max(gap, held), 0
        cur.append(line)
    if cur:
        blocks.append(_Block(tuple(cur), gap, start))
    return blocks, dropped


def _name_like(block: _Block) -> bool:
    """One line that reads as a display name (the rule of :func:`flat_segment.name_score`)."""
    return len(block.lines) == 1 and name_score(block.lines[0]) > 0


def _canonical_names(names: list[str]) -> dict[str, str]:
    """Map truncated display names to the longer name they are a prefix of."""
    uniq = sorted(set(names), key=len, reverse=True)
    out: dict[str, str] = {}
    for short in uniq:
        for long in uniq:
            if long != short and len(short) >= 6 and long.startswith(short):
                out[short] = out.get(long, long)
                break
    return out


def parse_flat(text: str, thread_id: str = "thread", title: str | None = None) -> Thread:
    """Parse flat scraped text into a Thread with unknown reply structure.

    Raises InputError when there is no text or no comment section.
    """
    blocks, noise = _blocks(text)
    if not blocks:
        raise InputError("the file holds no text")
    warnings: list[str] = []
    if noise:
        warnings.append(f"dropped {noise} line(s) of page furniture (Reply/Share/vote counts/timestamps)")

    # Title and article.
    i = 0
    thread_title = title
    if len(blocks[0].lines) == 1 and len(blocks[0].text) <= 300:
        thread_title = thread_title or blocks[0].text.strip()
        i = 1
    candidates = [_name_like(b) for b in blocks]
    counts = Counter(b.text.strip() for b, c in zip(blocks, candidates) if c)

    def is_author(k: int) -> bool:
        if not candidates[k] or k + 1 >= len(blocks) or blocks[k + 1].gap != 1:
            return False
        # If the next block is itself an author line for the block after it, this one is text.
        nxt = k + 1
        if candidates[nxt] and nxt + 1 < len(blocks) and blocks[nxt + 1].gap == 1 and not candidates[nxt + 1]:
            return counts[blocks[k].text.strip()] > 1 and counts[blocks[nxt].text.strip()] <= 1
        return True

    start = None
    for k in range(i, len(blocks)):
        if k > 0 and blocks[k].gap >= 2:
            start = k
            break
        if k >= i and is_author(k) and (k > i or i == 0):
            start = k
            break
    if start is None:
        raise InputError(
            "no comment section found: expected author lines or comments separated by two blank lines after the article"
        )
    article = "\n\n".join(b.text for b in blocks[i:start])
    if not article and i == 1 and start == 1:
        warnings.append("no article text before the comment section")

    # Comments: the best labeling of the remaining blocks as author lines / text (see flat_segment).
    section = blocks[start:]
    roles = label_blocks([b.lines for b in section], [b.gap for b in section])
    raw: list[tuple[str | None, list[_Block], int]] = []  # (author, blocks, line)
    pending: _Block | None = None
    for b, role in zip(section, roles, strict=True):
        if role == "A":
            pending = b
        elif role == "T":
            if pending is not None:
                raw.append((SAYS.sub("", pending.text.strip()), [b], pending.line_no))
            else:
                raw.append((None, [b], b.line_no))
            pending = None
        else:
            raw[-1][1].append(b)

    canon = _canonical_names([a for a, _, _ in raw if a])
    for short, long in sorted(canon.items()):
        warnings.append(f"display name {short!r} looks truncated; merged with {long!r}")
    comments: list[Comment] = []
    for n, (author, bl, line_no) in enumerate(raw, start=1):
        parts = [bl[0].text] + ["\n" * (x.gap + 1) + x.text for x in bl[1:]]
        body = "".join(parts)
        meta: dict[str, object] = {"line": line_no}
        if author and author in canon:
            meta["display_name"] = author
            author = canon[author]
        comments.append(Comment(id=f"c{n}", text=body, author=author, parent_id=None, parent_confidence=0.0, meta=meta))
    marked_up = [c.id for c in comments if looks_like_html(c.text)]
    if marked_up:
        warnings.append(
            f"{len(marked_up)} comment(s) hold HTML markup, kept verbatim and shown as text: {', '.join(marked_up[:5])}"
        )
    missing = sum(1 for c in comments if c.author is None)
    if missing:
        warnings.append(f"{missing} comment(s) have no author line; authors are inferred where replies allow")
    return Thread(
        id=thread_id,
        title=thread_title or thread_id,
        comments=tuple(comments),
        article=article,
        source_format="flat",
        structure_known=False,
        warnings=tuple(warnings),
    )

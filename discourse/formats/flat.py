"""Parse scraped flat text: an article followed by its flattened comment section.

The layout, as scrapers of Disqus-style pages leave it::

    Title line

    Article paragraph …            (paragraphs separated by one blank line)


    Author Name                    <- short author line
                                   <- one blank line
    Comment text, maybe several paragraphs, lines broken mid-sentence …


    Comment whose author line was lost (follows two or more blank lines)

Rules (general, nothing here knows any particular file):

* The text is split into *blocks* of consecutive non-blank lines (a line of whitespace alone is
  blank); each block remembers how many blank lines preceded it (its *gap*).
* The first block is the title when it is a single line. The article runs until the
  first gap of two or more blank lines; without one, until the first author line.
* A block is an *author line* when it is one short, name-like line (few words, no
  sentence punctuation at its end, no pronouns or function-word phrasing; or a handle such
  as "6_283185"), followed by exactly one blank line and a text block which is not itself an
  author line. A display name seen several times in that position is trusted more.
* A block after two or more blank lines with no author line starts a comment whose
  author is unknown (``author=None``); the reply-graph stage may infer it later.
* Any other block continues the current comment (a new paragraph). Comment text is kept
  verbatim: line breaks, the blank lines between paragraphs and trailing spaces inside it.
* Page furniture ("Reply", "Share ›", "Load more comments", "• 3 years ago", "12 points", a
  date line) is dropped only where furniture stands, never from inside a comment: a whole
  block of it right after an author line (times and dates) or right after a comment's text
  (actions and vote counts, one blank line before the next comment), when the page shows such
  blocks at least twice; lines of it on the author line's block ("Ann\\n• 3 years ago"), at
  the start of the text after an author line, or at the end of a comment (actions). A comment
  that would be left empty keeps it. The
  dropped lines are counted in a warning and kept in the comment's ``meta["furniture"]``; bare
  numbers, "-" and "+" are never dropped (a comment "10", a list "1 2 3"), and a comment that
  starts or ends with lines that only look like furniture is kept whole, with a warning.
* A display name shown cut off — ending in an ellipsis ("Daniel…", "Daniel...") or with a
  parenthesis left open ("Willing Conscience (The Truths") — is merged into the one longer
  display name it begins, with a warning; with several candidates it is kept as shown. Names
  that merely share a prefix ("Daniel", "Daniela") are different people: kept apart (a long
  one is mentioned in a warning).

That is the ``reference`` layout. Pages other scrapers leave are read with a *layout profile*
(``configs/layouts/*.yaml``, :mod:`discourse.formats.layouts`), the one that explains the file's
lines best unless one is forced: on a layout with header lines ("Ann Lee • 3 years ago", "user ·
12 points · 3h", "level 2", "#3 Posted by Ann on May 2, 2020") only a header is an author line (a
lost one leaves none), the page's own furniture is dropped where furniture stands (and, where the
profile says it closes a comment, a comment without a header may follow it), and what headers
and texts say about the parent ("level 3", "in reply to Bob", "@Bob" on its own line, a "Bob
wrote:" / "> " quote) goes to the comment's ``meta`` (``depth``, ``reply_to``, ``quoted``) for the
reply graph. The text is never changed by it.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.disqus import looks_like_html
from discourse.formats.flat_segment import SAYS, label_blocks, name_score
from discourse.formats.layouts import DEFAULT, Detection, Layout, detect_layout, forced_layout, load_layouts
from discourse.formats.markers import read_markers
from discourse.formats.reading import replace_surrogates, surrogate_note

_DATE = (  # a line that is only a date and/or a time: "May 21, 2020 at 3:15 pm", "2020-05-21 15:15", "21/05/2020"
    r"(?:on\s+)?(?:(?:mon|tue|wed|thu|fri|sat|sun)\w*,?\s+)?"
    r"(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?,?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{2,4})?)?"
)
# What a comment widget prints around a comment: actions and vote counts ...
_ACTION = re.compile(
    r"^\s*(?:reply|share\s*›?|report|flag|edit(?:ed)?|delete|load more comments|show more repl(?:y|ies)|"
    r"see more|hide repl(?:y|ies)|view repl(?:y|ies)|avatar|\d+\s*(?:points?|votes?|likes?))\s*$",
    re.IGNORECASE,
)
# ... times ("• 3 years ago", "2 hours ago", a date line) ...
_TIME = re.compile(
    r"^\s*(?:[•·]\s*.*\bago|(?:an?|\d+)\s+(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\s+ago|"
    + _DATE
    + r")\s*$",
    re.IGNORECASE,
)
# ... and what only looks like furniture: bare numbers (vote counts or a comment "10"), "-", "+".
_BARE = re.compile(r"^\s*(?:[−+–-]|\d+)\s*$")

_ACT, _TIM, _BAR = "action", "time", "bare"


def _kind(line: str, layout: Layout | None = None) -> str:
    if _ACTION.match(line) or (layout is not None and layout.is_furniture(line)):
        return _ACT
    if _TIME.match(line):
        return _TIM
    if _BARE.match(line):
        return _BAR
    return ""


@dataclass(frozen=True, slots=True)
class _Block:
    lines: tuple[str, ...]
    gap: int  # blank lines before this block
    line_no: int  # 1-based line number of the first line
    sep: str = "\n\n"  # the text between the previous block and this one, blank lines verbatim
    kinds: tuple[str, ...] = ()  # furniture kind of each line ("" for none)
    head: Head | None = None  # a layout's comment header ("user · 3 points · 2h", "level 2")
    closing: bool = False  # a layout's furniture cut off the end of a comment ("Reply · Share ›")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def all_furniture(self, *strong: str) -> bool:
        """Every line is furniture and at least one is of a kind in ``strong``."""
        return all(self.kinds) and any(k in strong for k in self.kinds)


@dataclass(frozen=True, slots=True)
class Head:
    """What a layout's header lines say about the comment that follows them."""

    author: str | None
    depth: int | None = None  # "level 3": 1 = top level
    reply_to: str | None = None  # "in reply to Ann"


def _blocks(text: str, layout: Layout | None = None) -> list[_Block]:
    blocks: list[_Block] = []
    cur: list[str] = []
    blank: list[str] = []
    start = 0
    for no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if cur:
                blocks.append(_block(cur, blank, start, layout))
                cur, blank = [], []
            blank.append(line)
            continue
        if not cur:
            start = no
        cur.append(line)
    if cur:
        blocks.append(_block(cur, blank, start, layout))
    if layout is not None and (layout.header or layout.start):
        votes = _votes_above_furniture(blocks, layout)
        return [part for b in blocks for part in _split_heads(b, layout, votes)]
    return blocks


def _votes_above_furniture(blocks: list[_Block], layout: Layout) -> bool:
    """Does the page print a vote count right above its closing furniture (most of the time)?
    Only then is a number line there cut off as one (a comment may well end in a number)."""
    closing = above = 0
    for b in blocks:
        for k, line in enumerate(b.lines):
            if layout.is_furniture(line) and not (k + 1 < len(b.lines) and layout.is_furniture(b.lines[k + 1])):
                closing += 1
                above += k > 0 and b.kinds[k - 1] == _BAR
    return closing >= 2 and above >= 0.5 * closing


def _block(lines: list[str], blank: list[str], start: int, layout: Layout | None = None) -> _Block:
    kinds = tuple(_kind(line, layout) for line in lines)
    return _Block(tuple(lines), len(blank), start, "\n" + "".join(b + "\n" for b in blank), kinds)


def _split_heads(b: _Block, layout: Layout, votes: bool = False) -> list[_Block]:
    """A block cut at a layout's header lines: each run of header/start lines becomes a block of
    its own (its ``head``); text before it stays, text after it follows one line break later (as
    after an author line). With ``ends_comment``, the furniture closing a comment (and, when the page
    shows ``votes`` there, the count right above it) is cut off the text too, so the next block can
    start a comment."""
    out: list[_Block] = []
    lines, kinds = b.lines, b.kinds
    k = 0
    seg = 0  # start of the current run of text lines

    def emit(lo: int, hi: int, head: Head | None = None, closing: bool = False) -> None:
        if lo >= hi:
            return
        first = not out
        out.append(
            _Block(
                lines[lo:hi],
                b.gap if first else 1,
                b.line_no + lo,
                b.sep if first else "\n",
                kinds[lo:hi],
                head,
                closing,
            )
        )

    just_head = False  # the line right after a header run is the comment's text, whatever it looks like
    while k < len(lines):
        if just_head and not layout.header_match(lines[k]):
            just_head = False
            k += 1
            continue
        just_head = False
        run = k
        author: str | None = None
        depth: int | None = None
        reply_to: str | None = None
        headers = 0
        while run < len(lines):
            h = layout.header_match(lines[run])
            m = None if h else layout.start_match(lines[run])
            if h and not headers:
                headers += 1
                author = (h.group("author") or "").strip() or None
            elif m and (headers == 0 or layout.start_after_header):
                d = m.groupdict().get("depth")
                p = m.groupdict().get("parent")
                if (d and depth is not None) or (p and reply_to is not None):
                    break  # a second "level N" is the comment's text, not its header
                depth = int(d) if d else depth
                reply_to = p.strip() if p else reply_to
            else:
                break
            run += 1
        # a "level N" with no header starts a comment only when text (not furniture) follows it
        if run > k and (headers or run == len(lines) or not layout.is_furniture(lines[run])):
            emit(seg, k)
            emit(k, run, Head(author, depth, reply_to))
            k = seg = run
            just_head = headers > 0
            continue
        if layout.ends_comment and layout.is_furniture(lines[k]) and k > seg:
            lo = k - 1 if votes and kinds[k - 1] == _BAR and k - 1 > seg else k  # "5" over "Reply · Share ›"
            hi = k + 1
            while hi < len(lines) and layout.is_furniture(lines[hi]):  # only the page's own lines
                hi += 1
            emit(seg, lo)
            emit(lo, hi, closing=True)
            k = seg = hi
            continue
        k += 1
    emit(seg, len(lines))
    return out


def _author_view(b: _Block) -> tuple[str, ...]:
    """The block as an author line reads it: its one line, or its first line followed only by
    furniture ("Ann Lee\\n• 3 years ago"); () when it cannot be one."""
    if b.kinds[0] in (_ACT, _TIM):
        return ()  # "Report", "2 hours ago": furniture, not a name
    if len(b.lines) == 1 or all(k in (_ACT, _TIM) for k in b.kinds[1:]):
        return (b.lines[0],)
    return ()


def _name_like(block: _Block) -> bool:
    """One line that reads as a display name (the rule of :func:`flat_segment.name_score`)."""
    view = _author_view(block)
    return len(view) == 1 and name_score(view[0]) > 0


_ELLIPSIS = re.compile(r"\s*(?:…|\.{3,})$")


def _shown_cut(name: str) -> str | None:
    """The visible part of a display name the page shows cut off, else None."""
    m = _ELLIPSIS.search(name)
    if m and m.start() > 0:
        return name[: m.start()]
    if name.count("(") > name.count(")") or name.count("[") > name.count("]"):
        return name
    return None


def _canonical_names(names: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map display names shown cut off to the one full display name they begin; and the warnings."""
    uniq = sorted(set(names))
    full = [n for n in uniq if _shown_cut(n) is None]  # sorted: the names a prefix begins follow it

    def extensions(prefix: str, limit: int) -> list[str]:
        out: list[str] = []
        j = bisect_left(full, prefix)
        while j < len(full) and full[j].startswith(prefix) and len(out) < limit:
            out.append(full[j])
            j += 1
        return out

    out: dict[str, str] = {}
    notes: list[str] = []
    for short in uniq:
        stem = _shown_cut(short)
        if stem is None:
            continue
        cands = [n for n in extensions(stem, 6) if n != short]
        if len(cands) == 1:
            out[short] = cands[0]
            notes.append(f"display name {short!r} looks truncated; merged with {cands[0]!r}")
        elif cands:
            shown = ", ".join(repr(c) for c in cands[:5])
            notes.append(
                f"display name {short!r} looks truncated but could be any of {shown}; kept as shown (ambiguous)"
            )
    apart = [f"{s!r} / {n!r}" for s in full if len(s) >= 6 for n in extensions(s, 6) if n != s]
    if apart:
        notes.append(
            f"{len(apart)} display name(s) begin with another display name but show no sign of being cut off; "
            f"kept apart as different people: {', '.join(apart[:5])}"
        )
    return out, notes


@dataclass
class _Raw:
    author: str | None
    line_no: int
    blocks: list[_Block]
    furniture: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)  # furniture after the text
    head: Head | None = None


HEADER_SCORE = 8.0
"""How name-like a layout's header line counts (a name line of the reference layout scores 0.5-4)."""


def parse_flat(
    text: str, thread_id: str = "thread", title: str | None = None, layout: str | Layout | None = None
) -> Thread:
    """Parse flat scraped text into a Thread with unknown reply structure.

    ``layout``: a profile of ``configs/layouts`` (or its name) to read the page with; by default
    the one :func:`~discourse.formats.layouts.use_layout` forces, else the one that explains the
    file's lines best (:func:`~discourse.formats.layouts.detect_layout`); recorded in
    ``thread.meta["layout"]`` (and in a warning unless it is the auto-detected reference layout).
    Raises InputError when there is no text or no comment section.
    """
    warnings: list[str] = []
    text, bad = replace_surrogates(text)
    if bad:
        warnings.append(surrogate_note(thread_id, bad))
    found = _detect(text, layout)
    lay = found.layout
    blocks = _blocks(text, lay if lay.name != DEFAULT else None)
    if not blocks:
        raise InputError("the file holds no text")
    if lay.name != DEFAULT or found.forced:
        warnings.append(f"read as {found.note()}")

    # Title and article.
    i = 0
    thread_title = title
    if len(blocks[0].lines) == 1 and len(blocks[0].text) <= 300:
        thread_title = thread_title or blocks[0].text.strip()
        i = 1
    start = _section_start(blocks, i) if not lay.has_headers else _head_start(blocks, i)
    if start is None:
        raise InputError(
            "no comment section found: expected author lines or comments separated by two blank lines after the article"
        )
    article = _join(blocks[i:start])
    if not article and i == 1 and start == 1:
        warnings.append("no article text before the comment section")

    # Comments: the best labeling of the remaining blocks as author lines / text / furniture (see flat_segment).
    section = blocks[start:]
    if lay.has_headers or lay.start:  # only a header can be an author line (a lost one leaves none)
        views: list[tuple[str, ...]] = [(b.head.author or "",) if b.head is not None else () for b in section]
        forced: list[float] | None = [HEADER_SCORE if b.head is not None else -math.inf for b in section]
        # the page's own furniture only: a lone "Reply" or "2 hours ago" there is more likely a comment
        own = [b.head is None and all(map(lay.is_furniture, b.lines)) for b in section]
        after_author = own
        after_text = [o or b.closing for o, b in zip(own, section, strict=True)]
    else:
        views = [_author_view(b) for b in section]
        forced = None
        after_author, after_text = _furniture_blocks(section, views)
    roles = label_blocks(
        views,
        [b.gap for b in section],
        after_author,
        after_text,
        forced=forced,
        ends_comment=lay.ends_comment,
        closing=[b.closing for b in section] if forced is not None else None,
    )
    raws = _group(section, roles)
    dropped = sum(_trim(r) for r in raws)
    if dropped:
        warnings.append(
            f"dropped {dropped} line(s) of page furniture (Reply/Share/vote counts/timestamps) next to author "
            "lines and comment ends; kept in each comment's meta['furniture']"
        )

    canon, name_notes = _canonical_names([r.author for r in raws if r.author])
    warnings += name_notes
    comments: list[Comment] = []
    unsure: list[str] = []
    for n, r in enumerate(raws, start=1):
        meta: dict[str, object] = {"line": r.line_no}
        author = r.author
        if author and author in canon:
            meta["display_name"] = author
            author = canon[author]
        if r.furniture or r.tail:
            meta["furniture"] = tuple(r.furniture + r.tail)
        if r.head is not None:
            if r.head.depth is not None:
                meta["depth"] = r.head.depth
            if r.head.reply_to:
                meta["reply_to"], meta["reply_marker"] = r.head.reply_to, "in reply to"
        if r.blocks[0].all_furniture(_ACT, _TIM, _BAR) or r.blocks[-1].all_furniture(_ACT, _TIM, _BAR):
            unsure.append(f"c{n}")
        body = _join(r.blocks)
        meta.update(read_markers(body, lay, skip=("reply_to",) if "reply_to" in meta else ()))
        comments.append(Comment(id=f"c{n}", text=body, author=author, parent_id=None, parent_confidence=0.0, meta=meta))
    if unsure:
        warnings.append(
            f"{len(unsure)} comment(s) start or end with lines that look like page furniture (vote counts, "
            f"'Reply', dates) but stand where comment text stands; kept as text: {', '.join(unsure[:5])}"
        )
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
        meta={
            "layout": {
                "name": lay.name,
                "forced": found.forced,
                "score": found.score,
                "runner_up": found.runner_up,
                "margin": found.margin,
            }
        },
    )


def _detect(text: str, layout: str | Layout | None) -> Detection:
    layout = layout if layout is not None else forced_layout()
    if isinstance(layout, Layout):
        return Detection(layout, 0.0, None, 0.0, True)
    lines = text.split("\n", 20_000)[:20_000]  # the first 20,000 lines tell the layout
    return detect_layout(lines, load_layouts(), force=layout)


def _head_start(blocks: list[_Block], i: int) -> int | None:
    """A layout with headers: the comment section starts at the first header, or after the first gap
    of two blank lines when that comes first (a comment whose header was lost)."""
    for k in range(i, len(blocks)):
        if blocks[k].head is not None or (k > 0 and blocks[k].gap >= 2):
            return k
    return None


def _join(blocks: Sequence[_Block]) -> str:
    """Blocks as the file has them (blank lines between them verbatim), without trailing whitespace."""
    if not blocks:
        return ""
    return "".join([blocks[0].text] + [b.sep + b.text for b in blocks[1:]]).rstrip()


def _section_start(blocks: list[_Block], i: int) -> int | None:
    """Index of the first block of the comment section: after the first gap of two blank lines,
    or the first author line (furniture between it and its text skipped)."""
    candidates = [_name_like(b) for b in blocks]
    counts = Counter(b.text.strip() for b, c in zip(blocks, candidates) if c)

    def text_after(k: int) -> int | None:  # the block holding the text after block k, past furniture
        j = k + 1
        while j < len(blocks) and blocks[j].gap == 1 and blocks[j].all_furniture(_ACT, _TIM):
            j += 1
        return j if j < len(blocks) and blocks[j].gap == 1 else None

    def is_author(k: int) -> bool:
        nxt = text_after(k)
        if not candidates[k] or nxt is None:
            return False
        # If the next block is itself an author line for the block after it, this one is text.
        after = text_after(nxt)
        if candidates[nxt] and after is not None and not candidates[after]:
            return counts[blocks[k].text.strip()] > 1 and counts[blocks[nxt].text.strip()] <= 1
        return True

    for k in range(i, len(blocks)):
        if k > 0 and blocks[k].gap >= 2:
            return k
        if is_author(k) and (k > i or i == 0):
            return k
    return None


def _furniture_blocks(section: list[_Block], views: list[tuple[str, ...]]) -> tuple[list[bool], list[bool]]:
    """Which blocks may be dropped as furniture right after an author line (times: "2 hours ago",
    a date) and right after a comment's text (actions, vote counts: "5 / Reply / Share ›").

    Only when the page shows such furniture at least twice where nothing else fits (a time
    between a name and a text; an action between a text and a name): a lone "Report" or "2 hours
    ago" in those places is more likely a comment than a page layout."""
    names = [len(v) == 1 and name_score(v[0]) > 0 for v in views]
    after_author = [b.all_furniture(_TIM) for b in section]
    after_text = [b.all_furniture(_ACT) for b in section]
    n = len(section)

    def linked(k: int) -> bool:  # one blank line from the block before and the block after
        return 0 < k < n - 1 and section[k].gap == 1 and section[k + 1].gap == 1

    seen = sum(
        1
        for k in range(n)
        if linked(k)
        and (
            (after_author[k] and names[k - 1] and not names[k + 1])
            or (after_text[k] and not names[k - 1] and names[k + 1])
        )
    )
    if seen < 2:
        return [False] * n, [False] * n
    return after_author, after_text


def _group(section: list[_Block], roles: list[str]) -> list[_Raw]:
    raws: list[_Raw] = []
    pending: _Block | None = None
    pending_furniture: list[str] = []
    for b, role in zip(section, roles, strict=True):
        if role == "A":
            pending = b
            pending_furniture = list(b.lines[1:])  # "Ann Lee\n• 3 years ago"
        elif role == "F":
            if pending is not None:  # after an author line: belongs to the comment that follows
                pending_furniture += b.lines
            else:  # after a comment's text
                raws[-1].tail += b.lines
        elif role == "T":
            if pending is not None and pending.head is not None:
                h = pending.head
                raws.append(
                    _Raw(
                        h.author,
                        pending.line_no,
                        [b],
                        list(pending.lines) + pending_furniture[len(pending.lines) - 1 :],
                        [],
                        h,
                    )
                )
            elif pending is not None:
                raws.append(_Raw(SAYS.sub("", pending.lines[0].strip()), pending.line_no, [b], pending_furniture))
            else:
                raws.append(_Raw(None, b.line_no, [b]))
            pending, pending_furniture = None, []
        else:
            raws[-1].blocks.append(b)
    return raws


def _trim(r: _Raw) -> int:
    """Move furniture lines at the edges of a comment's text into ``r.furniture``/``r.tail`` (never
    all of it); return how many furniture lines the comment lost in all."""
    first = r.blocks[0]
    if r.author is not None:  # the start of the text right after an author line: times and actions
        lead = _run(first.kinds)
        if 0 < lead < len(first.lines) and any(k in (_ACT, _TIM) for k in first.kinds[:lead]):
            r.furniture += first.lines[:lead]
            r.blocks[0] = first = _Block(
                first.lines[lead:], first.gap, first.line_no + lead, first.sep, first.kinds[lead:]
            )
    last = r.blocks[-1]
    trail = _run(last.kinds[::-1])
    if 0 < trail < len(last.lines) and any(k == _ACT for k in last.kinds[-trail:]):
        r.tail[:0] = last.lines[-trail:]
        r.blocks[-1] = _Block(last.lines[:-trail], last.gap, last.line_no, last.sep, last.kinds[:-trail])
    return len(r.furniture) + len(r.tail)


def _run(kinds: Sequence[str]) -> int:
    """How many leading entries of ``kinds`` are furniture."""
    n = 0
    while n < len(kinds) and kinds[n]:
        n += 1
    return n

"""Split the comment section of flat text into comments: which blocks are author lines.

A block is a run of non-blank lines with the number of blank lines before it (its gap).
Each block gets one of three roles:

* ``A``  an author line: one short name-like line, followed by exactly one blank line
  and the first block of its comment;
* ``T``  the first block of a comment's text (after an author line, or after two or
  more blank lines when the author line was lost);
* ``C``  a further paragraph of the current comment (after exactly one blank line);
* ``F``  a block of page furniture ("Reply", "• 3 hours ago", …), dropped: only where furniture
  stands, right after an author line (before the comment's text) or right after a comment's text
  (one blank line later), and only for blocks the caller marks as such. Between two paragraphs
  of a comment, or as the only text after an author line, the same block is text.

Several labelings are usually possible ("Okay." / "Drafts another one" / "Pismiire" /
"You're welcome" could be two comments or one), so the best one is chosen globally by
dynamic programming (Viterbi) over the blocks: each author line scores its
:func:`name_score`, a comment that starts without an author line costs a little, and
the grammar above rules out the rest. A name that fills the author-line position
several times in the thread counts as more name-like.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

_FUNCTION_WORDS = frozenset(
    """a an the i you we he she it they me him her us them my your our his its their this that these those
    is are was were be been am do does did have has had will would can could should shall may might must
    not no yes and or but if then so because as of to in on at for with from by about into over than
    what which who whom how why when where there here all any some just very too also only even still
    thank thanks please ok okay lol yeah well really agree disagree think know like get got""".split()
)
_URL = re.compile(r"https?://|www\.|\.(?:com|org|net)\b", re.IGNORECASE)
_USERNAME = re.compile(r"^@?[\w.\-]{3,40}$")
_CONTRACTION = re.compile(r"\w['’](?:s|t|re|ve|ll|d|m)\b", re.IGNORECASE)
# Handles without a letter, as Reddit allows them: "6_283185" (digits and underscores), "7992428374".
_DIGIT_HANDLE = re.compile(r"^[\d_]*\d_[\d_]*$|^[\d_]*_\d[\d_]*$")
_DIGITS_HANDLE = re.compile(r"^\d{5,20}$")
_ELLIPSIS = re.compile(r"\s*(?:…|\.{3})$")
MAX_AUTHOR_CHARS = 60
MAX_AUTHOR_WORDS = 6
ANONYMOUS_COST = 0.75  # a comment that starts without an author line
FURNITURE_BONUS = 0.01  # a furniture block where furniture stands is dropped rather than read as text
REPEAT_BONUS = 1.5  # the same line fills the author position elsewhere too


SAYS = re.compile(r"\s+(?:says|said|wrote|writes|replied|commented)\s*:?\s*$", re.IGNORECASE)
"""The tail blogs print after a commenter's name ("John Smith says:"); not part of the name."""
_IP = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$|^[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}$", re.IGNORECASE)
_CHAT = frozenset(
    """lol lmao lmfao rofl haha hahaha wow ok okay yes yep yup no nope nah thanks thx ty agreed same
    this exactly true indeed amen bingo correct wrong what why how really seriously nice great good cool sad
    wtf omg ugh meh hmm huh word based facts ew eww yikes ouch oof damn bruh sure sorry awesome perfect
    absolutely definitely""".split()
)


@lru_cache(maxsize=1 << 16)
def name_score(line: str) -> float:
    """How much a single line looks like a display name (> 0) rather than text (< 0).
    ``-inf`` when it cannot be a name at all. "Name says:" (as blogs print it) counts as "Name"."""
    line = line.strip()
    if len(line) > MAX_AUTHOR_CHARS + 16:  # too long even with a "says:" tail
        return -math.inf
    line = SAYS.sub("", line)
    cut = _ELLIPSIS.search(line)
    if cut and cut.start() >= 12:  # "Alexandra Konstantino…": a long name the page cut off
        return name_score(line[: cut.start()]) - 0.5
    paren = line.find("(")
    if 0 < paren and len(line) <= MAX_AUTHOR_CHARS and len(line[paren:].split()) <= 5:
        # "Willing Conscience (The Truths Out There)": a name with a parenthetical (maybe cut off)
        return max(_plain_score(line), name_score(line[:paren]) - 0.5)
    return _plain_score(line)


def _plain_score(line: str) -> float:
    if re.sub(r"[^\w]", "", line.lower()) in _CHAT:
        return -math.inf  # "LOL", "Agreed", "Same": one-word replies, not names
    if _IP.match(line):
        return 2.5  # anonymous editors shown by their IP address (wikis)
    if len(line) <= 20 and _DIGIT_HANDLE.match(line):
        return 2.0  # "6_283185": a handle, never prose
    if _DIGITS_HANDLE.match(line):
        return 0.5  # "7992428374": a handle of digits alone (short numbers are text or vote counts)
    if not line or len(line) > MAX_AUTHOR_CHARS or _URL.search(line):
        return -math.inf
    if line[-1] in ".!?,;:\"”’'。！？，；：" or not re.search(r"[^\W\d_]", line):
        return -math.inf
    words = line.split()
    if len(words) > MAX_AUTHOR_WORDS:
        return -math.inf
    lowered = [re.sub(r"[^\w]", "", w.lower()) for w in words]
    if lowered[0] in {"i", "you", "we", "thank", "thanks", "youre", "im"}:
        return -math.inf
    func = sum(1 for w in lowered if w in _FUNCTION_WORDS)
    if func / len(words) > 0.34:
        return -math.inf
    score = 0.5
    if len(line) <= 2:
        score -= 1.5  # "Ew", "Ha": a two-letter line is a reply far more often than a name
    if len(words) == 1 and _USERNAME.match(line) and (re.search(r"[\d_]", line) or re.search(r"[a-z][A-Z]", line)):
        score += 2.0  # user_name, Name42, CamelCase: only ever a handle
    alpha = [w for w in words if re.match(r"[^\W\d_]", w)]
    if alpha and all(w[0].isupper() for w in alpha):
        score += 1.5  # Title Case display name
    elif words[0][:1].islower() and len(words) > 1:
        score -= 2.0  # "seems likely", "me neither"
    score -= 1.5 * func
    if _CONTRACTION.search(line):
        score -= 2.0
    if len(words) > 3:
        score -= 0.5 * (len(words) - 3)
    if re.match(r"^[*_>#\[(~`]", line):
        score -= 2.0  # markdown emphasis, quotes, links: text, not a name
    return score


def label_blocks(
    lines: Sequence[tuple[str, ...]],
    gaps: Sequence[int],
    after_author: Sequence[bool] | None = None,
    after_text: Sequence[bool] | None = None,
    forced: Sequence[float] | None = None,
    ends_comment: bool = False,
    closing: Sequence[bool] | None = None,
) -> list[str]:
    """Roles ("A", "T", "C", "F") for the blocks of a comment section.

    ``lines[k]`` are the lines of block k as an author line would read them (one line, or the
    block is no author line) and ``gaps[k]`` the blank lines before it. ``after_author[k]``
    says block k is furniture that may stand right after an author line, ``after_text[k]`` that
    it may stand right after a comment's text; ``F`` is only given there, one blank line from
    its neighbours. The first block can only start a comment (``A`` or ``T``).
    ``forced[k]``: block k's author-line score, given (a layout's header line, or ``-inf`` where
    only headers are author lines). ``ends_comment``: furniture after a text closes the comment,
    so a comment without an author line may follow it after one blank line; ``closing[k]``: block k
    is such furniture for certain (a layout's own lines): never text.
    """
    n = len(lines)
    if n == 0:
        return []
    fa_ok = list(after_author) if after_author is not None else [False] * n
    ft_ok = list(after_text) if after_text is not None else [False] * n
    raw = list(forced) if forced is not None else [name_score(b[0]) if len(b) == 1 else -math.inf for b in lines]
    counts = Counter(b[0].strip() for b, s in zip(lines, raw, strict=True) if s > -math.inf)
    score = [
        s + (REPEAT_BONUS if s > -math.inf and counts[b[0].strip()] > 1 else 0.0)
        for b, s in zip(lines, raw, strict=True)
    ]
    # FA: furniture after an author line (before its text); FT: furniture after a comment's text.
    states = ("A", "T", "C", "FA", "FT")
    neg = -math.inf
    best: list[dict[str, float]] = [dict.fromkeys(states, neg) for _ in range(n)]
    back: list[dict[str, str | None]] = [dict.fromkeys(states) for _ in range(n)]
    best[0]["A"] = score[0]
    best[0]["T"] = -ANONYMOUS_COST
    for k in range(1, n):
        g = gaps[k]
        prev = best[k - 1]
        # A: after the end of any comment (its text, or furniture after it)
        best[k]["A"], back[k]["A"] = max((prev[r] + score[k], r) for r in ("T", "C", "FT"))
        # T: after an author line (one blank line), or anonymous after 2+ blank lines
        cands = []
        if g == 1:
            cands += [(prev[r], r) for r in ("A", "FA")]
        if g >= 2:
            cands += [(prev[r] - ANONYMOUS_COST, r) for r in ("T", "C", "FT")]
        elif ends_comment:
            cands.append((prev["FT"] - ANONYMOUS_COST, "FT"))
        fixed = closing is not None and closing[k]
        if cands and not fixed:
            best[k]["T"], back[k]["T"] = max(cands)
        if g == 1:
            # C: a further paragraph after exactly one blank line
            if not fixed:
                best[k]["C"], back[k]["C"] = max((prev[r], r) for r in ("T", "C"))
            if fa_ok[k]:
                best[k]["FA"], back[k]["FA"] = max((prev[r] + FURNITURE_BONUS, r) for r in ("A", "FA"))
            if ft_ok[k]:
                best[k]["FT"], back[k]["FT"] = max((prev[r] + FURNITURE_BONUS, r) for r in ("T", "C", "FT"))
    # the section ends on a comment's text (or furniture after it), never on an author line
    last = max(("T", "C", "FT"), key=lambda r: best[n - 1][r])
    out = [last]
    for k in range(n - 1, 0, -1):
        prev_role = back[k][out[-1]]
        assert prev_role is not None
        out.append(prev_role)
    out.reverse()
    return [r[0] for r in out]  # FA and FT are both "F"

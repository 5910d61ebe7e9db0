"""The parent as context: a reply is scored on its own words.

A reply often repeats its parent's words to answer them ("> People acting like that are stupid.
Wait, people are saying this?"): the insult is the parent's, and scoring the quote as the reply's
own is the "quoting in order to condemn" failure. So before toxicity is scored, the characters a
reply takes from elsewhere become spaces (offsets stay those of the verbatim text):

* lines quoted with ``>`` (Reddit / Markdown quoting; the quoted words are someone else's);
* any run of at least :data:`MIN_COPIED_WORDS` consecutive words of the parent, copied verbatim.

Who a reply is aimed at (a second-person reply to its parent's author) is the other use of the
parent; it lives in the attention stage (:mod:`discourse.stages.attention.target`).
"""

from __future__ import annotations

import re

Span = tuple[int, int]
MIN_COPIED_WORDS = 6
_QUOTE_LINE = re.compile(r"(?m)^[ \t]*(?:>|&gt;).*$")
_WORD = re.compile(r"\S+")


def _norm(word: str) -> str:
    return word.strip(".,!?;:\"'()[]*_~“”‘’").lower()


def quoted_spans(text: str, parent: str | None) -> list[Span]:
    """Character ranges of ``text`` that are not the author's own words (see the module docstring)."""
    spans = [m.span() for m in _QUOTE_LINE.finditer(text)]
    if parent:
        pw = [_norm(m.group()) for m in _WORD.finditer(parent)]
        grams = {tuple(pw[i : i + MIN_COPIED_WORDS]) for i in range(len(pw) - MIN_COPIED_WORDS + 1)}
        if grams:
            words = list(_WORD.finditer(text))
            norm = [_norm(m.group()) for m in words]
            for i in range(len(words) - MIN_COPIED_WORDS + 1):
                if tuple(norm[i : i + MIN_COPIED_WORDS]) in grams:
                    spans.append((words[i].start(), words[i + MIN_COPIED_WORDS - 1].end()))
    spans.sort()
    merged: list[Span] = []
    for b, e in spans:
        if merged and b <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((b, e))
    return merged


def own_words(text: str, spans: list[Span]) -> str:
    """``text`` with the characters in ``spans`` replaced by spaces (line breaks kept): same length,
    same offsets."""
    if not spans:
        return text
    chars = list(text)
    for b, e in spans:
        for i in range(b, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)

"""Where a comment names a target: the sentences that mention it.

A target matches as a whole word or phrase, case-insensitively, with any run of spaces between its
words and a possessive after it ("Putin", "putin's", "Recep  Tayyip Erdogan"); letters with
diacritics also match their plain form ("Erdoğan" for "Erdogan", and the reverse). Quoted lines
("> ...") are skipped: the quoted person's stance is not the commenter's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from discourse.text import sentence_spans

MAX_SENTENCES = 4
"""Sentences read per target and comment (the first ones that name it): a long comment that names
a target forty times costs four pair passes, not forty."""

MAX_SCAN_CHARS = 20_000
"""Mentions are looked for in the first 20,000 characters of a comment."""

_QUOTED_LINE = re.compile(r"^[ \t]*(?:>|&gt;).*$", re.M)


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one (offsets stay valid)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFD", ch)[0]
        out.append(base.lower() if len(base.lower()) == 1 else ch.lower()[:1] or ch)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Mention:
    target: str
    sentence: str  # text[start:end]
    start: int
    end: int


class MentionFinder:
    """The sentences of a text that name each of ``targets``."""

    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = tuple(targets)
        self._patterns = [
            re.compile(r"(?<!\w)" + r"\s+".join(re.escape(fold(w)) for w in t.split()) + r"(?:['’]s)?(?!\w)")
            for t in self.targets
        ]

    def mentions(self, text: str) -> list[Mention]:
        """Every (target, sentence) pair, targets in config order, sentences in text order (at most
        :data:`MAX_SENTENCES` per target)."""
        head = text[:MAX_SCAN_CHARS]
        masked = _QUOTED_LINE.sub(lambda m: " " * len(m.group(0)), head)
        spans = sentence_spans(masked)  # before folding: "present.Russian" ends a sentence at the capital
        folded = fold(masked)
        out: list[Mention] = []
        for target, pattern in zip(self.targets, self._patterns, strict=True):
            found = [(s, e) for s, e in spans if pattern.search(folded, s, e)]
            out.extend(Mention(target, head[s:e], s, e) for s, e in found[:MAX_SENTENCES])
        return out

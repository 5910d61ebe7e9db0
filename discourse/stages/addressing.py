"""Who a comment speaks to: vocatives ("Hello X", "X thank you", "Thank you X",
"@X", "… to you X."), used for reply links and author inference."""

from __future__ import annotations

import re
from functools import lru_cache

_NAME = r"@?([A-Z][\w'’\-]{1,30})"
_GREETING = (r"(?i:hello|hi|hey|dear|greetings|good (?:morning|evening|day|afternoon)|thanks|thank you|ok(?:ay)?"
             r"|well|yes|no|sorry|come on|listen)")
_PATTERNS = [
    # Greeting + name at the start of a sentence: "Hello Xoli.", "Thank you John."
    re.compile(rf"(?:^|[.!?]\s*|\n)\s*{_GREETING}[,!]?\s+{_NAME}\b(?!\s+(?:is|was|are|has|and|of)\b)"),
    # Name + thanks: "John thank you", "John, thanks"
    re.compile(rf"(?:^|[.!?]\s*|\n)\s*{_NAME}[,!]?\s+(?i:thank(?:s| you)|you are|you're|i (?:agree|disagree))"),
    # Name alone, comma-led, at the start: "John, you are wrong"
    re.compile(rf"^\s*{_NAME},\s"),
    # Closing vocative: "… to you Xoli.", "…, John."
    re.compile(rf"(?i:to you|you),?\s+{_NAME}\s*[.!?]*\s*$"),
    # @mention anywhere
    re.compile(r"@([\w'’\-]{2,30})"),
]
_STOP = frozenset("""I You We He She It They The This That There Here What Why How When Where Who Putin
    Sir Madam Mate Guys Folks Everyone All Again Right Ok Okay Yes No Well Progress Let Lets Let’s
    Your My Our""".split())


@lru_cache(maxsize=4096)
def addressed_names(text: str) -> tuple[str, ...]:
    """Names the comment addresses, in order of appearance (case kept)."""
    found: list[tuple[int, str]] = []
    for pat in _PATTERNS:
        for m in pat.finditer(text):
            name = m.group(1).strip("'’-")
            if name and name not in _STOP and name.capitalize() not in _STOP:
                found.append((m.start(1), name))
    seen: dict[str, None] = {}
    for _, name in sorted(found):
        seen.setdefault(name, None)
    return tuple(seen)


def name_tokens(author: str | None) -> frozenset[str]:
    """Lower-cased tokens of a display name that can address its owner."""
    if not author:
        return frozenset()
    toks = re.findall(r"[^\W\d_][\w'’\-]*", author)
    return frozenset(t.lower() for t in toks if len(t) >= 3) | {author.lower()}


def addresses(text: str, author: str | None) -> bool:
    """Does ``text`` address the user ``author``?"""
    toks = name_tokens(author)
    return bool(toks) and any(n.lower() in toks for n in addressed_names(text))

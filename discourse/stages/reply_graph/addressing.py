"""Who a comment speaks to: vocatives ("Hello X", "X thank you", "Thank you X",
"@X", "… to you X."), used for reply links and author inference."""

from __future__ import annotations

import re
from functools import lru_cache

from discourse.memo import scoped_cache

_NAME = r"@?([A-Z][\w'’\-]{1,30})"
_GREETING = (
    r"(?i:hello|hi|hey|dear|greetings|good (?:morning|evening|day|afternoon)|thanks|thank you|ok(?:ay)?"
    r"|well|yes|no|sorry|come on|listen)"
)
_PATTERNS = [
    # Greeting + name at the start of a sentence: "Hello Xoli.", "Thank you John."
    re.compile(rf"(?:^|[.!?]\s*|\n)\s*{_GREETING}[,!]?\s+{_NAME}\b(?!\s+(?:is|was|are|has|and|of)\b)"),
    # Name + thanks: "John thank you", "John, thanks"
    re.compile(rf"(?:^|[.!?]\s*|\n)\s*{_NAME}[,!]?\s+(?i:thank(?:s| you)|you are|you're|i (?:agree|disagree))"),
    # Name alone, comma-led, at the start: "John, you are wrong" (weak: "Yeah, ..." looks the same)
    re.compile(rf"^\s*{_NAME},\s"),
    # Closing vocative: "… to you Xoli.", "…, John."
    re.compile(rf"(?i:to you|you),?\s+{_NAME}\s*[.!?]*\s*$"),
    # @mention, not inside an e-mail address or a wiki link ("a@b.org", "WP:V@verification")
    re.compile(r"(?<![\w.:@])@([\w'’\-]{2,30})\b(?!\.\w)"),
]
# Words that open sentences and would otherwise read as names ("If you're ...", "Hello, I'm ...").
_STOP = frozenset(
    """I You We He She It They The This That These Those There Here What Why How When Where Who
    Which Whom Whose Sir Madam Mate Guys Folks Everyone Everybody Anyone Someone Nobody All Again Right Ok
    Okay Yes No Well Progress Let Lets Let’s Let's Your My Our Their His Her Its If But And Or So Then
    Therefore However Also Because Since While Unless Although Though Otherwise Please Now Maybe Perhaps
    Actually Sorry Hello Hi Hey Welcome Oops Look Just Sure Fine Great Thank Thanks Honestly Seriously
    Obviously Clearly Indeed Exactly True Wrong Agreed Good Nice Not Do Does Did Is Are Was Were Can Could
    Would Should Will Shall May Might Must Have Has Had As At In On For To From With By Of About After
    Before Because Until Once Still Even Only Anyway Besides Instead Meanwhile Finally First Second
    Lastly Also Note Edit Update Yeah Yep Yup Nope Nah Oh Ah Wow Lol Haha Hmm Um Uh Cool Dude Bro Man
    Damn Crap Jesus God Fair Interesting Ugh Meh I'm I’m I've I'd I'll It's That's There's What's Here's
    Don't""".split()
)


_WEAK = 2  # index of the comma-led pattern in _PATTERNS


@scoped_cache(maxsize=4096)
def addressed_names(text: str, strict: bool = False) -> tuple[str, ...]:
    """Names the comment addresses, in order of appearance (case kept).

    ``strict`` leaves out the weak comma-led pattern ("Yeah, ..." reads like "John, ..."):
    matching a name against the thread's known authors tolerates it, naming an unknown
    author from it does not."""
    found: list[tuple[int, str]] = []
    for k, pat in enumerate(_PATTERNS):
        if strict and k == _WEAK:
            continue
        for m in pat.finditer(text):
            name = m.group(1).strip("'’-")
            if name and name not in _STOP and name.capitalize() not in _STOP:
                found.append((m.start(1), name))
    seen: dict[str, None] = {}
    for _, name in sorted(found):
        seen.setdefault(name, None)
    return tuple(seen)


@lru_cache(maxsize=65536)
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

"""Explicit lexical stance cues: phrases that say agree / disagree / query / concede.

Cues do two jobs: they are features for the stance head, and they are the
*evidence* a stance label carries (the phrase that drove it). Every cue keeps its
exact character span in the text.

``strength`` is a fixed tier per pattern, set by how explicit the phrase is, not
fitted: 1.0 a first-person stance verb ("I still disagree", "I agree", "Agreed");
0.8 an unambiguous formula ("you're wrong", "not true", "good point", "can you give
an example"); 0.5 a weaker marker ("nonsense", a question aimed at "you"); 0.3 the
weakest ("thanks", any other question). How much a tier moves the label is chosen by
validation in ``scripts/train_stance.py`` (see ``StanceClassifier``).

Robust to scraped style: missing apostrophes ("dont"), typos ("I don not agree"),
sentences run together. Negation: "I don't agree" is disagree, "I don't disagree" a
concession, a negated agreement formula ("not a good point") weak disagree, and a
negated disagreement formula ("I'm not saying you're wrong") is dropped. After a
first-person stance verb, opposing cues later in the same clause are dropped, so
"I agree with you that it's not true" stays agree. Quoted lines (``>``) are ignored.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from discourse.memo import scoped_cache
from discourse.text import sentence_spans

CUE_LABELS = ("agree", "disagree", "query", "concession", "thanks")


@dataclass(frozen=True, slots=True)
class Cue:
    label: str  # one of CUE_LABELS
    phrase: str  # exactly text[start:end]
    start: int
    end: int
    strength: float


@dataclass(frozen=True, slots=True)
class _Pattern:
    label: str
    regex: re.Pattern[str]
    strength: float
    initial: bool = False  # only at the start of a sentence
    negatable: bool = True  # look for a negator just before the match
    head: bool = False  # a first-person stance verb: suppresses opposing cues after it


def _p(label: str, pattern: str, strength: float, **kw: bool) -> _Pattern:
    return _Pattern(label, re.compile(pattern, re.I), strength, **kw)


_NEG = r"(?:not|never|don'?t|do not|don not|doesn'?t|didn'?t|can'?t|cannot|can not|won'?t|wouldn'?t|couldn'?t)"
_NEG_RE = re.compile(rf"\b(?:{_NEG}|no|hardly|nobody|isn'?t|aren'?t|wasn'?t|n't)\b", re.I)
_OTHER_SUBJECT = re.compile(
    r"\b(?:you|he|she|they|people|others|many|most|some|anyone|everyone|nobody|who|would you)\b", re.I
)
_HEDGE = re.compile(r"\b(?:partially|partly|somewhat|kind of|kinda|sort of|mostly|half)\b", re.I)
_CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|except)\b|;", re.I)
_YOU = re.compile(r"\b(?:you|your|yours|yourself|u|ur|you'?re|you'?ve|you'?d)\b", re.I)
_QUOTED_LINE = re.compile(r"^[ \t]*(?:>|&gt;).*$", re.M)

# Order matters: earlier patterns claim their span first.
_PATTERNS: tuple[_Pattern, ...] = (
    # fixed phrases that contain the other verb
    _p(
        "agree",
        r"\b(?:could(?:n'?t| not)|can(?:'?t|not| not)) agree (?:more|with you more)\b",
        1.0,
        negatable=False,
        head=True,
    ),
    _p("disagree", r"\bagree to disagree\b", 0.8, negatable=False),
    _p("disagree", r"\bI beg to differ\b", 1.0, head=True),
    # first-person verbs; the middle is inspected for negation, hedges and other subjects
    _p(
        "verb",
        r"\b(?:I|we)\b(?P<mid>[^.!?;,\n]{0,32}?)\b(?P<verb>disagree[sd]?|agree[sd]?)\b",
        1.0,
        negatable=False,
        head=True,
    ),
    _p(
        "agree",
        r"\b(?:agreed|(?:totally|completely|absolutely|strongly|fully|100%|so much) agree|agree)\b"
        r"(?! to\b)",
        1.0,
        initial=True,
        head=True,
    ),
    _p(
        "disagree",
        r"\b(?:(?:strongly|respectfully|totally|completely) )?disagree\b",
        1.0,
        initial=True,
        negatable=False,
        head=True,
    ),
    # second-person verdicts
    _p("concession", r"\byou(?:'?re| are| r| were)? not (?:wrong|incorrect|mistaken)\b", 0.8, negatable=False),
    _p("disagree", r"\b(?:you(?:'?re| are| r| were)|ur)\s+(?:\w+\s+){0,2}?(?:wrong|mistaken|incorrect)\b", 0.8),
    _p("disagree", r"\byou(?:'?ve| have)? (?:got )?(?:it|this|that) (?:all )?wrong\b", 0.8),
    _p(
        "agree",
        r"\byou(?:'?re| are| r)\s+(?:(?:absolutely|so|totally|completely|100%|quite|exactly|dead)\s+)?"
        r"(?:right|correct)\b",
        0.8,
    ),
    # concessions
    _p(
        "concession",
        r"\b(?:fair enough|I stand corrected|I was wrong|my (?:bad|mistake)|point taken|I concede"
        r"|I see (?:your|the|what you|where you)\b[^.!?]{0,12}?\b(?:point|mean|saying|coming from)"
        r"|you (?:have|make|raise|made) a (?:good|fair|valid|great) point"
        r"|I(?:'ll| will| can)? (?:give|grant) you that|you (?:may|might|could) be right"
        r"|that'?s fair)\b",
        0.8,
    ),
    _p("concession", r"\b(?:true|granted|admittedly|fair),? but\b", 0.5, negatable=False),
    # agreement formulas
    _p(
        "agree",
        r"\b(?:(?:your|these|those|the) points? (?:is|are) (?:well )?(?:respected|taken|valid|well made)"
        r"|well said|well put|spot on|(?:so|very|absolutely|too) true|can'?t argue with (?:that|this)"
        r"|(?:good|great|excellent|valid|fair|solid) point)\b",
        0.8,
    ),
    _p(
        "agree",
        r"\b(?:exactly|precisely|this|true|amen|absolutely|same here|me too|\+1)\b(?=\s*[.!,]|\s*$)",
        0.8,
        initial=True,
    ),
    _p("thanks", r"\b(?:thank you|thanks|thx)\b", 0.3, negatable=False),  # politeness, not agreement
    # disagreement formulas
    _p(
        "disagree",
        r"\b(?:(?:that'?s|that is|this is|it'?s|it is)\s+(?:just\s+|simply\s+|completely\s+|totally\s+"
        r"|factually\s+)?(?:wrong|incorrect|false|untrue|a lie)"
        r"|(?:not|isn'?t|aren'?t|wasn'?t|simply not|just not) (?:true|correct|accurate|the case)"
        r"|that'?s not how (?:it|this|that) works|(?:miss(?:ed|ing)|missed) the point"
        r"|I don'?t think so|I (?:don'?t|do not) buy (?:it|that|this))\b",
        0.8,
        negatable=False,
    ),
    _p(
        "disagree",
        rf"\bI\s+{_NEG}\s+see\s+(?:any|the|your)\s+(?:evidence|proof|logic|point|connection)\b",
        0.5,
        negatable=False,
    ),
    _p(
        "disagree",
        r"\b(?:nonsense|rubbish|bullshit|hogwash|bs|what are you (?:even )?talking about"
        r"|makes no sense|doesn'?t make (?:any )?sense|I doubt (?:it|that))\b",
        0.5,
    ),
    _p(
        "disagree",
        r"\b(?:no|nope|nah|not really|not exactly|wrong)\b(?!\s+(?:problem|worries|doubt)\b)",
        0.5,
        initial=True,
        negatable=False,
    ),
    # requests for information
    _p(
        "query",
        r"\b(?:(?:can|could|would|will) you (?:please )?(?:give|provide|show|cite|share|post|link|explain"
        r"|elaborate|clarify|expand|back (?:that|this|it) up)"
        r"(?: (?:me )?(?:an?|some|any) (?:example|source|link|proof)s?)?"
        r"|do you have (?:a |any )?(?:source|sources|link|evidence|proof|citation)s?"
        r"|what do you mean|what makes you (?:say|think)|why do you (?:say|think)|care to (?:elaborate|explain|share)"
        r"|what(?:'?s| is) your source|how so\s*\?|like what\s*\?|such as\s*\?|sources?\s*\?|citation needed)",
        0.8,
    ),
)


def _negation_start(text: str, sent_start: int, start: int) -> int | None:
    """Start of a negator among the (up to) four words before ``start``, if any."""
    lo = max(sent_start, start - 30)
    words = list(re.finditer(r"\S+", text[lo:start]))[-4:]
    if not words:
        return None
    m = _NEG_RE.search(text, lo + words[0].start(), start)
    return m.start() if m else None


def _verb_cue(m: re.Match[str]) -> tuple[str, float] | None:
    mid, verb = m.group("mid"), m.group("verb").lower()
    if _OTHER_SUBJECT.search(mid):
        return None  # "I think most people would agree": not the writer's own stance
    before = m.string[max(0, m.start() - 16) : m.start()]
    after = m.string[m.end() : m.end() + 20]
    if re.search(r"\b(?:whether|if|unless|once|when)\s*$", before, re.I) or re.match(
        r"\s*(?:or (?:not|dis)|to disagree)", after, re.I
    ):
        return None  # "Whether we agree or not ...", "if I agree": no stance taken
    negated = bool(_NEG_RE.search(mid))
    if verb.startswith("dis"):
        return ("concession", 0.8) if negated else ("disagree", 1.0)
    if negated:
        return "disagree", 1.0
    if _HEDGE.search(mid) or re.match(r"\s*(?:with|on)\s+(?:some|part|parts|most|much)\b", m.string[m.end() :]):
        return "concession", 0.5
    return "agree", 1.0


def _initial(text: str, sent_start: int, start: int) -> bool:
    """The match starts its sentence (allowing leading punctuation and a discourse word)."""
    return (
        re.fullmatch(
            r"[\W_]*(?:(?:well|yeah|yes|oh|ok|okay|so|and|again|but|sorry|honestly|lol)\W+){0,2}",
            text[sent_start:start],
            re.I,
        )
        is not None
    )


MAX_SCAN_CHARS = 20_000
"""Cues are read from the first 20,000 characters (about 3,500 words): a stance is taken near
the start of a comment, and a multi-megabyte comment must not stall the pipeline."""


def find_cues(text: str) -> list[Cue]:
    """All explicit stance cues in ``text`` (its first ``MAX_SCAN_CHARS``), in order of position.

    Cached per text: the stance features, the cue rule and the evidence all ask for the
    same comment's cues, and the scan should run once; inside :func:`cue_scope` (the stance
    stage's call) every text of the group is scanned once, however big the group."""
    return list(_scan(text))


@scoped_cache(maxsize=4096)
def _scan(text: str) -> tuple[Cue, ...]:
    text = text[:MAX_SCAN_CHARS]
    masked = _QUOTED_LINE.sub(lambda m: " " * len(m.group(0)), text)
    spans = sentence_spans(masked) or [(0, len(masked))]
    span_starts = [s for s, _ in spans]
    claimed: list[tuple[int, int]] = []
    found: list[tuple[Cue, bool]] = []  # (cue, is head)

    def sentence_of(pos: int) -> tuple[int, int]:
        k = bisect_right(span_starts, pos) - 1
        if k >= 0 and spans[k][0] <= pos < spans[k][1]:
            return spans[k]
        return pos, pos

    for pat in _PATTERNS:
        for m in pat.regex.finditer(masked):
            start, end = m.span()
            if any(start < ce and cs < end for cs, ce in claimed):
                continue
            sent_start, _ = sentence_of(start)
            if pat.initial and not _initial(masked, sent_start, start):
                continue
            label, strength = pat.label, pat.strength
            if label == "verb":
                verdict = _verb_cue(m)
                if verdict is None:
                    continue
                label, strength = verdict
            elif pat.negatable and (neg := _negation_start(masked, sent_start, start)) is not None:
                if label != "agree":
                    continue  # "I'm not saying you're wrong"
                label, strength, start = "disagree", 0.5, neg  # "that's not a good point"
            claimed.append((start, end))
            found.append((Cue(label, text[start:end], start, end, strength), pat.head and strength >= 1.0))
    found.extend((c, False) for c in _questions(masked, text, spans))
    return tuple(c for c, _ in sorted(_suppress(masked, found, spans), key=lambda ch: ch[0].start))


def _questions(masked: str, text: str, spans: list[tuple[int, int]]) -> list[Cue]:
    """A sentence ending in "?": aimed at the other person (0.5) or not (0.3)."""
    out = []
    for s, e in spans:
        if not masked[s:e].rstrip("\"')]* ").endswith("?"):
            continue
        aimed = _YOU.search(masked[s:e]) is not None
        out.append(Cue("query", text[s:e], s, e, 0.5 if aimed else 0.3))
    return out


def _suppress(text: str, found: list[tuple[Cue, bool]], spans: list[tuple[int, int]]) -> list[tuple[Cue, bool]]:
    """Drop cues that sit inside the complement of a first-person stance verb
    ("I agree with you that X is wrong"), up to a contrast word ("but", "however")."""
    keep = []
    heads = [c for c, is_head in found if is_head]
    for cue, is_head in found:
        dominated = False
        for h in heads:
            if h is cue or h.label == cue.label or cue.label == "query" or not (h.end <= cue.start):
                continue
            if any(s <= h.start < e and s <= cue.start < e for s, e in spans) and not _CONTRAST.search(
                text[h.end : cue.start]
            ):
                dominated = True
                break
        if not dominated:
            keep.append((cue, is_head))
    # a question sentence that already holds an explicit request is one cue, not two
    requests = [c for c, _ in keep if c.label == "query" and c.strength >= 0.8]
    return [
        (c, h)
        for c, h in keep
        if not (c.label == "query" and c.strength < 0.8 and any(c.start <= r.start < c.end for r in requests))
    ]


def cue_strengths(text: str) -> dict[str, float]:
    """Strongest cue per cue label (0.0 where there is none)."""
    out = dict.fromkeys(CUE_LABELS, 0.0)
    for c in find_cues(text):
        out[c.label] = max(out[c.label], c.strength)
    return out


cue_scope = _scan.scope
"""``with cue_scope():`` every text's cues are kept until the block ends (one stage call)."""

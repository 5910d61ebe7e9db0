"""Small text utilities shared by stages: sentence spans, normalisation."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a run of them) followed by space, a newline, or
# directly by a capital letter (scraped text often loses the space: "present.Russian").
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*(?:\s+|(?=[A-Z][a-z]))|\n+")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|St|vs|etc|e\.g|i\.e|U\.S|Jr|Sr|No)\.)$", re.I)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.start()
        if _ABBREV.search(text[start:end]) and "\n" not in m.group(0):
            continue
        _add(text, start, end, spans)
        start = m.end()
    _add(text, start, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    seg = text[start:end]
    lead = len(seg) - len(seg.lstrip())
    trail = len(seg) - len(seg.rstrip())
    s, e = start + lead, end - trail
    if e > s and re.search(r"\w", text[s:e]):
        spans.append((s, e))


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def scrub_surrogates(text: str) -> str:
    """``text`` with lone UTF-16 surrogates (what a JavaScript scraper leaves when it cuts an
    emoji) replaced by U+FFFD, so tokenizers that need valid UTF-8 can read it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text

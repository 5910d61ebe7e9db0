"""Cue scanning cost: each comment's cues are read once per stage call."""

from __future__ import annotations

from discourse.stages.stance import cues as cue_mod
from discourse.stages.stance.cues import cue_scope, find_cues


def test_cue_scope_scans_each_text_once_past_the_lru_size() -> None:
    """A group larger than the LRU cache was scanned once per consumer (features, cue rule,
    evidence: three times at 10,000 comments); inside cue_scope each text is scanned once."""
    texts = [f"I disagree with point {i}, can you give an example?" for i in range(5000)]
    cue_mod._scan.cache_clear()
    before = cue_mod._scan.computed
    with cue_scope():
        first = [find_cues(t) for t in texts]
        again = [find_cues(t) for t in texts]
    assert cue_mod._scan.computed - before == 5000 and first == again
    assert [c.label for c in first[0]] == ["disagree", "query"]
    for _ in range(2):
        for t in texts:
            find_cues(t)
    info = cue_mod._scan.cache_info()
    assert info.misses == 10000 and info.hits == 0  # outside a scope the bounded LRU evicts: why the scope exists

"""Cue scanning cost: each comment's cues are read once per stage call."""

from __future__ import annotations

import pytest

from discourse.stages.stance.cues import find_cues


def test_cue_scope_scans_each_text_once_past_the_lru_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group larger than the LRU cache was scanned once per consumer (features, cue rule,
    evidence: three times at 10,000 comments); inside cue_scope each text is scanned once."""
    from discourse.stages.stance import cues as cue_mod

    calls: list[str] = []
    real = cue_mod._scan
    monkeypatch.setattr(cue_mod, "_scan", lambda t: calls.append(t) or real(t))
    cue_mod._find_cues.cache_clear()
    texts = [f"I disagree with point {i}, can you give an example?" for i in range(5000)]
    with cue_mod.cue_scope():
        first = [find_cues(t) for t in texts]
        again = [find_cues(t) for t in texts]
    assert len(calls) == 5000 and first == again
    assert [c.label for c in first[0]] == ["disagree", "query"]
    calls.clear()
    for _ in range(2):
        for t in texts:
            find_cues(t)
    assert len(calls) == 10000  # outside a scope the bounded LRU cache evicts: why the scope exists

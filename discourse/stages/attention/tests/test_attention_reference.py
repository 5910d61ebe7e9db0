"""The reference thread's queue with the real shipped models (slow: loads MiniLM)."""

from __future__ import annotations

from pathlib import Path

import pytest

import discourse
from discourse.stages.attention import CODES

pytestmark = [pytest.mark.slow, pytest.mark.shared]


@pytest.fixture(scope="module")
def ref(reference_thread: Path) -> discourse.Analysis:
    return discourse.analyze(reference_thread)


def test_the_attack_on_the_commenters_is_among_the_first_two(ref: discourse.Analysis) -> None:
    by = ref.thread.by_id()
    queue = list(ref.attention)
    lone = next(c for c in ref.thread.comments if c.text.startswith("CIA trolls and hasbarats will cry and rage"))
    assert by[lone.id].author == "Lone Ranger"
    assert lone.id in [it.comment_id for it in queue[:2]]
    item = next(it for it in queue if it.comment_id == lone.id)
    assert "INSULT" in item.codes and item.target == "commenters"
    assert item.priority >= ref.attention.flag_threshold


def test_every_reason_names_its_code(ref: discourse.Analysis) -> None:
    assert len(ref.attention) >= 1
    for it in ref.attention:
        assert it.codes and set(it.codes) <= set(CODES)
        assert [r.split(":", 1)[0] for r in it.reasons] == list(it.codes)
    for item in ref.to_json()["attention"]:
        assert set(item) >= {"comment_id", "priority", "codes", "target", "reasons"}


@pytest.fixture(scope="module")
def nfl(shared: Path) -> discourse.Analysis:
    return discourse.analyze(shared / "formats" / "reddit-nfl-thread" / "comments.json")


def test_casual_profanity_in_a_real_reddit_thread_is_not_flagged(nfl: discourse.Analysis) -> None:
    """r/nfl: 14 of 200 comments were flagged before reason codes, mostly swearing at nobody."""
    queue = nfl.attention
    flag = queue.flag_threshold
    by = {it.comment_id: it for it in queue}
    text = {c.id: c.text for c in nfl.thread.comments}
    flagged = [it for it in queue if it.priority >= flag]
    assert 1 <= len(flagged) <= 3
    for it in flagged:  # a flag is an attack on someone here, a threat, identity hate or severe toxicity
        assert it.target is not None or {"THREAT", "IDENTITY_ATTACK"} & set(it.codes) or "severe" in it.reasons[0]
    for start in ("Damn wish we traded for him", "This division sucks man", "Bruce Allen is an idiot"):
        cid = next(c for c, t in text.items() if t.startswith(start))
        if cid in by:  # listed at watch level, or not at all
            assert by[cid].priority < flag and by[cid].target is None
    swearing = [it for it in queue if it.codes == ("PROFANITY",)]
    assert len(swearing) >= 3 and all(it.priority < flag for it in swearing)

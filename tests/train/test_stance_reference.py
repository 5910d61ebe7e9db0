"""The default stance model on the reference thread (slow: the whole pipeline with the shipped models)."""

from __future__ import annotations

from pathlib import Path

import pytest

import discourse
from discourse.core.config import load_config

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def test_xolis_thank_you_replies_that_contradict_john_are_disagree(reference_thread: Path) -> None:
    cfg = load_config()
    ref = discourse.analyze(reference_thread, cfg)
    by = ref.thread.by_id()
    replies = [c for c in ref.thread.comments if c.text.startswith(("John thank you", "Thank you John"))]
    assert len(replies) == 2 and all(c.author == "Xoli Xoli" for c in replies)
    for c in replies:
        assert c.parent_id and by[c.parent_id].author == "John"
        st = ref.stance(c.id)
        assert st is not None and st.label == "disagree", (c.text[:60], st)
        assert st.evidence  # the reply sentence that carried the decision
    explicit = {"Hello Xoli. I am going to disagree": "disagree", "Thank you your points are respected.": "agree"}
    for prefix, label in explicit.items():
        c = next(c for c in ref.thread.comments if c.text.startswith(prefix))
        assert ref.stance(c.id).label == label  # type: ignore[union-attr]

"""The load test's own logic (not a timed test: scripts/loadtest.py runs the real thing)."""

from __future__ import annotations

import json

from discourse.serve.loadtest import ATTRS, Level, check, corpus, render


def answer(token: str, value: float = 0.5) -> bytes:
    scores = {a: {"summaryScore": {"value": value, "type": "PROBABILITY"}} for a in ATTRS}
    return json.dumps({"attributeScores": scores, "languages": ["en"], "clientToken": token}).encode()


def test_check_accepts_only_a_complete_answer_to_this_request() -> None:
    assert check(200, answer("t1"), "t1") is None
    assert "clientToken" in (check(200, answer("t2"), "t1") or "")  # someone else's answer
    assert "HTTP 429" in (check(429, b"{}", "t1") or "")
    assert check(200, answer("t1", 1.5), "t1") is not None
    assert "malformed" in (check(200, b"not json", "t1") or "")
    assert "malformed" in (check(200, b'{"clientToken": "t1", "attributeScores": {}}', "t1") or "")


def test_percentiles_and_rows() -> None:
    level = Level(8, latencies=[i / 1000 for i in range(1, 101)], sent=100, wall_s=2.0, batches=25)
    assert level.pct(50) == 0.05 and level.pct(99) == 0.099
    row = level.row()
    assert row["rps"] == 50.0 and row["requests_per_pass"] == 4.0 and row["lost"] == 0


def test_corpus_is_varied_and_report_names_the_quota() -> None:
    texts = corpus()
    assert len(set(texts)) == len(texts) >= 50
    run = {
        "workers": 1,
        "startup_s": 3.0,
        "load": (1.0, 1.5),
        "rows": [Level(1, latencies=[0.01], sent=1, wall_s=1.0, batches=1).row()],
        "models": {
            "models": [{"name": "tox-block-0.1.2", "version": "0.1.2"}],
            "pipelines": {"comments": ["toxicity.v1"]},
        },
    }
    md = render([run], "python scripts/loadtest.py", 10, 5)
    assert "1 query per second" in md and "| 1 | 1 | 1 | 1 | 0 | 0 |" in md and "tox-block-0.1.2" in md

"""discourse serve: concurrent requests share one pipeline pass; the batcher keeps order,
isolates a failing input and refuses work when full."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from discourse.serve import ServeSettings, create_app
from discourse.serve.analyzer import Analyzer
from discourse.serve.batching import MicroBatcher
from discourse.serve.errors import Overloaded

URL = "/v1alpha1/comments:analyze"


@pytest.fixture(scope="module")
def analyzer(tiny_config: dict) -> Analyzer:
    # tox-block alone: the tiny random encoder cannot feed the default head
    stages = {**tiny_config["stages"], "toxicity.v1": {"model": {"name": "tox-block-0.1.2"}}}
    az = Analyzer({**tiny_config, "stages": stages})
    az.warm_up()
    return az


def test_concurrent_requests_run_as_fewer_pipeline_passes(analyzer: Analyzer, monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[int] = []
    run_docs = analyzer.comments.run_docs

    def counting(docs, last=False):  # one call = one pass of every stage (one tox-block batch)
        passes.append(len(docs))
        return run_docs(docs, last)

    monkeypatch.setattr(analyzer.comments, "run_docs", counting)
    n = 16
    texts = [f"comment number {i}: you are {'an idiot' if i % 2 else 'right'}" for i in range(n)]
    with TestClient(create_app(ServeSettings(warm_up=False, batch_window_ms=300), analyzer)) as c:
        solo = {
            t: c.post(URL, json={"comment": {"text": t}, "requestedAttributes": {"TOXICITY": {}}}) for t in texts[:2]
        }
        passes.clear()

        def ask(i: int):
            body = {"comment": {"text": texts[i]}, "requestedAttributes": {"TOXICITY": {}}, "clientToken": str(i)}
            return c.post(URL, json=body)

        with ThreadPoolExecutor(n) as pool:
            answers = list(pool.map(ask, range(n)))
    assert all(r.status_code == 200 for r in answers)
    assert [r.json()["clientToken"] for r in answers] == [str(i) for i in range(n)]  # each gets its own answer
    assert len(passes) < n and sum(passes) == n, passes
    for t, r in solo.items():  # batched scores equal the same comment scored alone
        i = texts.index(t)
        assert answers[i].json()["attributeScores"] == r.json()["attributeScores"]


def test_batcher_keeps_order_and_groups_by_kind() -> None:
    calls: list[tuple[str, list]] = []
    gate = threading.Event()

    def handler(kind):
        def run(payloads):
            gate.wait(5)
            calls.append((kind, list(payloads)))
            return [f"{kind}:{p}" for p in payloads]

        return run

    b = MicroBatcher({"a": handler("a"), "b": handler("b")}, window_s=0.05, max_batch=10)
    b.start()
    try:
        futures = [b.submit("a" if i % 3 else "b", i) for i in range(7)]
        gate.set()
        results = [f.result(5) for f in futures]
    finally:
        b.stop()
    assert results == [f"{'a' if i % 3 else 'b'}:{i}" for i in range(7)]
    assert sorted(k for k, _ in calls) == ["a", "b"]  # one call per kind
    assert b.batches == 2 and b.jobs == 7


def test_max_batch_splits_a_burst() -> None:
    sizes: list[int] = []
    b = MicroBatcher({"a": lambda ps: sizes.append(len(ps)) or list(ps)}, window_s=0.2, max_batch=3)
    futures = [b.submit("a", i) for i in range(7)]  # queued before the worker starts
    b.start()
    try:
        assert [f.result(5) for f in futures] == list(range(7))
    finally:
        b.stop()
    assert sizes == [3, 3, 1]


def test_one_failing_input_does_not_fail_its_batch() -> None:
    def handler(payloads):
        if "bad" in payloads:
            raise ValueError("bad input")
        return [p.upper() for p in payloads]

    b = MicroBatcher({"a": handler}, window_s=0.2)
    futures = [b.submit("a", p) for p in ["x", "bad", "y"]]
    b.start()
    try:
        assert futures[0].result(5) == "X" and futures[2].result(5) == "Y"
        with pytest.raises(ValueError, match="bad input"):
            futures[1].result(5)
    finally:
        b.stop()


def test_full_queue_refuses_at_once() -> None:
    b = MicroBatcher({"a": list}, max_queue=2)
    b.submit("a", 1)
    b.submit("a", 2)
    t0 = time.monotonic()
    with pytest.raises(Overloaded):
        b.submit("a", 3)
    assert time.monotonic() - t0 < 0.5
    b.start()
    b.stop()

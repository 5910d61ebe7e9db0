"""The benchmark (discourse.bench): its input threads, one measurement with tiny models, its report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from discourse import bench
from discourse.api import load_threads
from discourse.core.config import load_config

LONG = " ".join(["word"] * 70)


def write_shared(root: Path) -> Path:
    deb = root / "labeled" / "debagreement-dev" / "dev.csv"
    deb.parent.mkdir(parents=True)
    with open(deb, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["body_parent", "body_child"])
        w.writerow([f"{LONG} parent", "too short"])
        w.writerow([f"{LONG}   parent", f"{LONG} [deleted]"])  # the same text once whitespace is normalised
    sra = root / "labeled" / "subreddit-agreement"
    sra.mkdir(parents=True)
    for name in ("SubReddit-CovidVaccine.csv", "SubReddit-MaskMandate.csv"):
        with open(sra / name, "w", encoding="cp1252", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["quote_text", "response_text"])
            w.writerow([f"{LONG} {name} quote", " ".join(["word"] * 120)])  # too long
    reply = root / "labeled" / "rumoureval2019-reddit-train" / "t1" / "replies" / "r.json"
    reply.parent.mkdir(parents=True)
    reply.write_text(json.dumps({"data": {"body": f"{LONG} reply"}}), encoding="utf-8")
    return root


def test_real_comments_are_long_distinct_and_in_a_fixed_order(tmp_path: Path) -> None:
    pool = bench.real_comments(write_shared(tmp_path))
    assert pool == [
        f"{LONG} parent",
        f"{LONG} SubReddit-CovidVaccine.csv quote",
        f"{LONG} SubReddit-MaskMandate.csv quote",
        f"{LONG} reply",
    ]


def test_a_built_thread_parses_back_whole() -> None:
    pool = [f"Comment number {k} about the stadium vote." for k in range(30)]
    text = bench.build_thread(pool, 40, seed=3)
    assert text == bench.build_thread(pool, 40, seed=3)  # deterministic
    thread = load_threads(text)[0]
    assert len(thread.comments) == 40 and thread.article == pool[-1]
    assert {c.text for c in thread.comments} <= set(pool)
    assert sum(c.author is None for c in thread.comments) > 0  # some author lines are lost on purpose


@pytest.fixture(scope="module")
def thread_text() -> str:
    return bench.build_thread([f"I think point {k} about the town vote is good." for k in range(10)], 12)


def test_pipeline_and_embedding_measurements_with_tiny_models(tiny_config: dict, thread_text: str) -> None:
    cfg = load_config(tiny_config)
    pipe = bench.measure_pipeline(thread_text, cfg)
    assert pipe["comments"] == 12 and pipe["seconds"] > 0 and pipe["load_s"] > 0
    assert {"encode.v1", "toxicity.v1", "total"} <= set(pipe["stages_s"])
    emb = bench.measure_embedding(thread_text, cfg)
    assert emb["comments"] == 12 and emb["mean_tokens"] > 5


def test_batch_measurement_reruns_nothing(tiny_config: dict, thread_text: str, tmp_path: Path) -> None:
    folder = tmp_path / "threads"
    folder.mkdir()
    for k in range(2):
        (folder / f"t{k}.txt").write_text(thread_text, encoding="utf-8")
    r = bench.measure_batch(folder, load_config(tiny_config))
    assert r["threads"] == 2 and r["comments"] == 24 and r["rerun_skipped"] == 2


def _row(mode: str, size: int, seconds: float, **kw: object) -> dict:
    return {"mode": mode, "size": size, "comments": size, "seconds": seconds, "peak_rss_mb": 900.0,
            "comments_per_s": size / seconds, **kw}  # fmt: skip


def test_report_compares_the_pipeline_with_embedding_alone() -> None:
    rows = [
        _row("pipeline", 100, 2.0, stages_s={"encode.v1": 1.5, "total": 2.0}),
        _row("embed-only", 100, 1.0, mean_tokens=97.0),
        _row("pipeline", 1000, 10.0, stages_s={"encode.v1": 8.0, "total": 10.0}),
        _row("embed-only", 1000, 8.0, mean_tokens=97.0),
        _row("batch: 2 threads", 200, 4.0, threads=2, rerun_s=0.01, rerun_skipped=2),
    ]
    text = bench.report(rows, 1684, "auto")
    assert "1684 real Reddit comments" in text and "(mean 97 MiniLM tokens" in text
    assert "| 1,000 | pipeline | 100.0 | 10.00 | 900 |" in text
    assert "Seconds per stage at 1,000 comments: encode.v1 8.0, total 10.0" in text
    assert "2 threads, 200 comments in 4.0 s = 50 comments/s" in text
    assert "everything after it costs 20% of the time" in text
    assert "Cost per comment (ms) at 100, 1,000 comments: 20.0, 10.0" in text
    assert "Peak RSS 900 MB (goal <= 2,048 MB): met." in text
    assert "Where it stands" not in bench.report(rows[:1], 10, "fp32")  # no embed-only row to compare with

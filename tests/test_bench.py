"""The benchmark (discourse.bench): its inputs, its measurements with tiny models, its report."""

from __future__ import annotations

import copy
import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import torch

from discourse.api import load_threads
from discourse.bench import inputs, measure, report, runner
from discourse.bench.clock import ModelClock
from discourse.bench.machine import encoder_shape, machine
from discourse.core.config import load_config

LONG = " ".join(["word"] * 70)
POOL = [f"Comment number {k} about the stadium vote and the council budget." for k in range(30)]


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
    pool = inputs.real_comments(write_shared(tmp_path))
    assert pool == [
        f"{LONG} parent",
        f"{LONG} SubReddit-CovidVaccine.csv quote",
        f"{LONG} SubReddit-MaskMandate.csv quote",
        f"{LONG} reply",
    ]


def test_a_built_thread_parses_back_whole() -> None:
    text = inputs.build_thread(POOL, 40, seed=3)
    assert text == inputs.build_thread(POOL, 40, seed=3)  # deterministic
    thread = load_threads(text)[0]
    assert len(thread.comments) == 40 and thread.article == POOL[-1]
    assert {c.text for c in thread.comments} <= set(POOL)
    assert sum(c.author is None for c in thread.comments) > 0  # some author lines are lost on purpose


def test_last_nights_thread_is_the_grown_one_without_its_new_comments() -> None:
    before = load_threads(inputs.build_thread(POOL, 42, seed=5, shown=40))[0]
    after = load_threads(inputs.build_thread(POOL, 42, seed=5))[0]
    assert len(before.comments) == 40 and len(after.comments) == 42 and before.title == after.title
    was, now = Counter((c.text, c.author) for c in before.comments), Counter((c.text, c.author) for c in after.comments)
    assert not was - now and sum((now - was).values()) == 2  # the same comments (and lost authors), plus two


def test_threads_of_five_hold_the_texts_of_the_one_thread(tmp_path: Path) -> None:
    one = load_threads(inputs.write_one_thread(POOL, 30, tmp_path / "one.txt").read_text(encoding="utf-8"))[0]
    folder = inputs.write_threads(POOL, 30, 5, tmp_path / "fives")
    fives = [load_threads(f.read_text(encoding="utf-8"))[0] for f in sorted(folder.glob("*.txt"))]
    assert len(fives) == 6 and all(len(t.comments) == 5 for t in fives)
    assert Counter(c.text for t in fives for c in t.comments) == Counter(c.text for c in one.comments)


def test_the_model_clock_counts_outermost_calls_for_the_running_stage() -> None:
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    where = ["encode.v1"]
    clock = ModelClock(lambda: where[0])
    with clock.installed():
        net(torch.zeros(1, 4))
        where[0] = "stance.v1"
        net(torch.zeros(1, 4))
        net(torch.zeros(1, 4))
    net(torch.zeros(1, 4))  # not timed: the clock is off
    assert clock.calls == {"encode.v1": 1, "stance.v1": 2}  # the inner Linear/ReLU calls are not counted again
    assert clock.seconds["stance.v1"] > 0
    assert torch.nn.Module.__call__ is not clock._timed  # restored


def test_flops_per_comment_of_minilm() -> None:
    shape = encoder_shape({"num_hidden_layers": 6, "hidden_size": 384, "intermediate_size": 1536})
    assert shape.flops(95) == pytest.approx(2.1e9, rel=0.01)  # the 2.1 GFLOP at ~95 tokens
    assert shape.flops(190) > 2 * shape.flops(95)  # attention grows with the square of the length


def test_machine_facts_come_from_cpuinfo() -> None:
    info = "processor\t: 0\nmodel name\t: Some CPU 9000\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile amx_bf16\n"
    m = machine(info)
    assert m.cpu == "Some CPU 9000" and m.flags == ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


@pytest.fixture(scope="module")
def thread_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return inputs.write_one_thread(POOL, 12, tmp_path_factory.mktemp("bench") / "t.txt")


def test_a_pipeline_row_splits_each_stage_into_model_and_other_time(tiny_config: dict, thread_file: Path) -> None:
    row = measure.measure_pipeline(thread_file, load_config(tiny_config))
    assert row["comments"] == 12 and row["threads"] == 1 and row["seconds"] > 0 and row["load_s"] > 0
    stages = row["stages"]
    assert {"encode.v1", "toxicity.v1", "stance.v1"} <= set(stages)
    for name in ("encode.v1", "toxicity.v1", "stance.v1"):  # each runs a torch model
        assert 0 < stages[name]["model_s"] <= stages[name]["seconds"]
    assert stages["chains.v1"]["model_s"] == 0  # no model
    assert row["parse_s"] > 0 and row["render_s"] > 0
    assert report.non_model_s(row) >= row["parse_s"] + row["render_s"]


def test_an_encode_row_counts_tokens_and_flops(tiny_config: dict, thread_file: Path) -> None:
    cfg = load_config(tiny_config)
    row = measure.measure_encode(thread_file, cfg)
    shape = encoder_shape(measure.encoder_config(cfg))
    assert row["comments"] == 12 and row["mean_tokens"] > 5
    assert row["flops"] >= shape.flops(row["mean_tokens"])  # the mean of a convex cost is at least the cost of the mean


def test_a_second_night_computes_only_the_new_comments(tiny_config: dict, tmp_path: Path) -> None:
    cfg, folder, out = load_config(tiny_config), tmp_path / "in", tmp_path / "out"
    pool = [f"Point {k}: the stadium vote and the council budget." for k in range(200)]  # 63 distinct texts drawn
    inputs.write_threads(pool, 3 * 21, 21, folder, shown=20)
    first = measure.measure_night(folder, out, cfg)
    assert first["threads"] == 3 and first["computed"]["encode.v1"] >= 3 * 20  # every comment (and the article)
    inputs.write_threads(pool, 3 * 21, 21, folder)
    second = measure.measure_night(folder, out, cfg)
    assert second["threads"] == 3 and second["computed"]["encode.v1"] == 3
    assert second["computed"]["toxicity.v1"] == 3


RESULT: dict[str, Any] = {
    "command": "python scripts/benchmark.py",
    "machine": {"cpu": "Some CPU", "cores": 2, "flags": ["avx512_bf16"], "python": "3.11", "torch": "2.13"},
    "loadavg_start": [0.1, 0.2, 0.3],
    "loadavg_end": [0.4, 0.2, 0.3],
    "dtype": "auto",
    "pair_sizes": [1000],
    "pool": 1684,
    "wall_s": 600,
    "gemm": {"bf16/1": 400.0, "bf16/2": 800.0, "fp32/1": 100.0, "fp32/2": 190.0},
    "startup": {"first_comment_s": 6.5, "seconds": 7.0, "exit": 0},
    "toxblock_threads": {"1": 3400.0, "2": 250.0},
    "rows": [
        {"kind": "encode", "size": 1000, "comments": 1000, "seconds": 5.0, "peak_rss_mb": 800, "mean_tokens": 95.0,
         "flops": 2.0e9},
        {"kind": "pipeline", "size": 1000, "shape": "one thread", "variant": "no pair", "comments": 1000,
         "seconds": 8.0, "peak_rss_mb": 900, "parse_s": 0.2, "render_s": 0.3,
         "stages": {"encode.v1": {"seconds": 6.0, "model_s": 5.0}, "toxicity.v1": {"seconds": 1.0, "model_s": 0.8}}},
        {"kind": "encode", "size": 10000, "comments": 10000, "seconds": 50.0, "peak_rss_mb": 1000,
         "mean_tokens": 95.0, "flops": 2.0e9},
        {"kind": "pipeline", "size": 10000, "shape": "one thread", "variant": "no pair", "comments": 10000,
         "seconds": 55.0, "peak_rss_mb": 2100, "parse_s": 1.0, "render_s": 1.0,
         "stages": {"encode.v1": {"seconds": 49.0, "model_s": 48.0}, "toxicity.v1": {"seconds": 3.0, "model_s": 2.5}}},
    ],
    "night": {"threads": 1000, "first_comments": 20, "grown_comments": 21,
              "first": {"seconds": 100.0, "peak_rss_mb": 900, "computed": {"encode.v1": 21000}},
              "second": {"seconds": 12.0, "peak_rss_mb": 800, "computed": {"encode.v1": 1000}}},
}  # fmt: skip


def test_report_states_every_figure_and_target() -> None:
    text = report.report(RESULT)
    assert "Load average at start 0.10, 0.20, 0.30, at end 0.40, 0.20, 0.30" in text
    assert "800 GFLOP/s (bf16, every core) / 2.00 GFLOP = **400 comments/s**" in text
    assert "| 1,000 | one thread | no pair | 125.0 | 8.0 | 900 | 0.62 | 31% |" in text
    assert "| 10,000 | one thread | no pair | 181.8 | 55.0 | 2100 | 0.91 | 45% |" in text
    assert "bare encode (1,000 comments, one thread, no pair): 0.62, **not met**" in text
    assert "bare encode (10,000 comments, one thread, no pair): 0.91, met" in text
    assert "Second night <= 15% of the first: 12%, met." in text
    assert "Peak RSS <= 2 GiB at 10,000 comments: 2100 MB, **not met**." in text
    assert "ms per comment 8.0 at 1,000, 5.5 at 10,000 (met" in text
    assert "non-model 4.5 s = 8% (met)" in text  # 55 - 48 - 2.5
    assert "| toxicity.v1 | 3.00 | 2.50 | 0.50 | 5.5% |" in text
    assert "first comment written after 6.5 s" in text
    assert "tox-block's forward (1/2 threads): 3,400 vs 250 rows/s" in text
    assert "`pair` run at 1,000 comments." in text


def test_tox_block_is_timed_on_one_and_two_threads() -> None:
    row = measure.measure_toxblock_threads(seconds=0.05)
    assert set(row["rows_per_s"]) == {"1", "2"} and all(v > 0 for v in row["rows_per_s"].values())


def test_report_without_a_night_or_start_up_says_nothing_of_them() -> None:
    result = copy.deepcopy(RESULT)
    del result["night"], result["startup"]
    text = report.report(result)
    assert "Second night" not in text and "Start-up" not in text and "## Throughput" in text


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="bad --variants"):
        runner.main(["--variants", "fast", "--shared", str(tmp_path)])
    with pytest.raises(SystemExit, match="needs the shared data"):
        runner.main(["--sizes", "100", "--shared", str(tmp_path / "nowhere")])


def test_benchmark_comments_never_repeat_a_text() -> None:
    """The pipeline embeds a repeated text once, so repeats would flatter it against the bare encode."""
    from discourse.bench.inputs import comment_text

    pool = [" ".join(f"w{i}x{j}" for j in range(8 + i % 5)) for i in range(37)]
    texts = [comment_text(pool, g) for g in range(37 * 30)]
    assert len(set(texts)) == len(texts)
    assert texts[:37] == [pool[(g * 7919) % 37] for g in range(37)]
    assert all(7 <= len(t.split()) <= 13 for t in texts)

"""reports/toxicity.md's issue-8 targets: each row says met or not from the measured numbers."""

from __future__ import annotations

import json
from pathlib import Path

from discourse.train.toxicity_targets import throughput_from_bench, write


def _spans(f1: float) -> dict:
    score = {"posts": 10, "posts_with_empty_gold": 1, "char_f1": f1, "ci": [f1 - 0.01, f1 + 0.01]}
    score["char_f1_nonempty_gold"] = f1
    old = {**score, "char_f1": 0.577}
    return {
        "command": "discourse train toxicity-spans",
        "held_out": {"new": score, "occlusion": old},
        "training": {"train_oof_char_f1": 0.63, "threshold": 0.3},
        "seconds": 1.0,
    }


def test_targets_say_met_or_not_and_replace_the_cards_old_section(tmp_path: Path) -> None:
    rows = [
        {"mode": "1000 threads x 5 (pipeline)", "comments": 5000, "threads": 1000, "seconds": 50.0,
         "comments_per_s": 100.0, "many_over_one": 100.0 / 95.0, "loadavg": [9.5, 9.0, 8.7], "stages_s": {}},
        {"mode": "1 thread (pipeline)", "comments": 5000, "seconds": 52.6, "comments_per_s": 95.0, "stages_s": {}},
    ]  # fmt: skip
    tp = throughput_from_bench(rows)
    assert tp["ratio"] > 1.0 and tp["per_thread"] == 5
    slow = throughput_from_bench([{**rows[0], "many_over_one": 0.85}, rows[1]])
    (tmp_path / "toxicity_throughput.json").write_text(json.dumps({"runs": [tp]}))
    (tmp_path / "toxicity_spans.json").write_text(json.dumps(_spans(0.648)))
    card = tmp_path / "README.md"
    card.write_text("# card\n\nbody\n\n## Issue 8 targets, met or not\n\nstale\n")
    write(tmp_path, card)
    md = (tmp_path / "toxicity.md").read_text()
    assert "| evidence char-F1 >= 0.65 (held-out toxic-spans) | 0.648 (occlusion before: 0.577) | not met |" in md
    assert "= 1.05 | met (busy); idle: not measured |" in md and "load 9.5 on 2 cores" in md
    (tmp_path / "toxicity_throughput.json").write_text(json.dumps({"runs": [tp, slow]}))
    write(tmp_path, card)
    assert "= 0.85 | not met (busy)" in (tmp_path / "toxicity.md").read_text()  # every run must be within 10 %
    text = card.read_text()
    assert text.startswith("# card\n\nbody\n") and "stale" not in text and text.count("Issue 8 targets") == 1
    (tmp_path / "toxicity_spans.json").write_text(json.dumps(_spans(0.7)))
    write(tmp_path, card)
    assert "| 0.700 (occlusion before: 0.577) | met |" in (tmp_path / "toxicity.md").read_text()


def test_idle_benchmark_ratios_and_the_fine_tuning_experiment_are_reported(tmp_path: Path) -> None:
    from discourse.train.toxicity_targets import idle_ratios, targets_markdown

    def row(n: int, shape: str, variant: str, seconds: float) -> dict:
        return {"kind": "pipeline", "comments": n, "shape": shape, "variant": variant, "seconds": seconds}

    rows = [row(10000, "one thread", "pair", 200.0), row(10000, "threads of 5", "pair", 250.0)]
    rows += [row(10000, "one thread", "no pair", 100.0), {"kind": "encode", "comments": 10000, "seconds": 70.0}]
    bench = {"rows": rows}
    assert idle_ratios(bench) == {"2,000 x 5 vs 1 x 10,000 (pair)": 0.8}  # no partner, no ratio
    (tmp_path / "benchmark.json").write_text(json.dumps(bench))
    (tmp_path / "toxicity.json").write_text(
        json.dumps({"command": "c", "loso": {"ruddit": {"auroc": 0.84, "toxblock_auroc": 0.8}}})
    )
    score = {"auroc": 0.75, "ci": [0.74, 0.77]}
    fold = {"scored": {"ruddit": {"n": 10, "positives": 4, "beta=0.0": score, "beta=0.25": score,
                                  "beta=0.5": score, "toxblock_alone": score}},
            "train_minutes": 4.4, "reference": {"Bruce Allen is an idiot": {"sigmoid": 0.94}},
            "threads": {"t": {"comments": 14, "at_least_0.5": 10, "all": [[0.99, "Hello Xoli. No."]]}}}  # fmt: skip
    ft = {"settings": {"encoder": "e", "max_length": 128, "batch_size": 16, "lr": 3e-5, "seed": 0, "per_source": 4000},
          "folds": {"ruddit": fold}}  # fmt: skip
    (tmp_path / "toxicity_finetune.json").write_text(json.dumps(ft))
    (tmp_path / "toxicity_throughput.json").write_text(
        json.dumps(
            {
                "runs": [
                    {
                        "ratio": 0.95,
                        "loadavg": [5.0],
                        "many_per_s": 9.5,
                        "one_per_s": 10.0,
                        "many_s": 1,
                        "one_s": 1,
                        "threads": 1000,
                        "per_thread": 5,
                        "comments": 5000,
                        "many_stages": {},
                        "one_stages": {},
                    }
                ]
            }
        )  # fmt: skip
    )
    md = targets_markdown(tmp_path)
    assert "MiniLM fine-tuned end to end 0.750 (not shipped) | not met |" in md
    assert "2,000 x 5 vs 1 x 10,000 (pair): 0.80 (not met, idle)" in md
    assert "t: 10 of 14 comments >= 0.5 (its civil disagreements “Hello Xoli…”, “Okay, thank you…”: 0.99)" in md

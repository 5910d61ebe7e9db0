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

"""Training the stance cross-encoder (discourse.train.stance_pair*): weights, sampling, the grouped
split, one training epoch on a tiny random net, and the report section beside the head's report."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from discourse.testing import shared_data
from discourse.train.stance_data import StanceRow
from discourse.train.stance_pair_card import END, START, preserved_section, write_report_section
from discourse.train.stance_pair_data import balanced_sample, held_out_mask, load_twitter, split
from discourse.train.stance_pair_fit import Epoch, row_weights, train_epoch


def test_per_dataset_weights_balance_labels_inside_each_dataset() -> None:
    labels = ["neutral"] * 8 + ["query"] * 2 + ["agree", "disagree"]
    datasets = ["tw"] * 10 + ["deb"] * 2
    w = row_weights(labels, datasets, "per_dataset").numpy()
    tw, deb = w[:10], w[10:]
    assert tw.mean() == pytest.approx(1.0) and deb.mean() == pytest.approx(1.0)
    assert tw[:8].sum() == pytest.approx(tw[8:].sum())  # each label carries the same total weight
    g = row_weights(labels, datasets, "global").numpy()
    assert g[8] == pytest.approx(12 / (4 * 2)) and g[10] == pytest.approx(12 / 4)  # pooled label counts
    assert g[0] < g[8]


def test_balanced_sample_round_robins_labels() -> None:
    rows = [StanceRow("t", f"r{i}", "agree", str(i)) for i in range(90)]
    rows += [StanceRow("t", f"d{i}", "disagree", str(i)) for i in range(10)]
    pick = balanced_sample(rows, 30, random.Random(0))
    assert len(pick) == 30 and sum(r.label == "disagree" for r in pick) == 10  # all the rare ones
    assert balanced_sample(rows, 30, random.Random(0)) == pick  # seeded


def test_split_keeps_groups_whole() -> None:
    rows = [StanceRow("t", f"r{i}", ["agree", "disagree", "neutral"][i % 3], f"g{i // 4}") for i in range(200)]
    mask = held_out_mask(rows)
    assert 0.1 < mask.mean() < 0.3
    train, test = split({"set": rows})
    assert not {r.group for r in train["set"]} & {r.group for r in test["set"]}
    assert len(train["set"]) + len(test["set"]) == len(rows)


def test_one_epoch_lowers_the_loss() -> None:
    import torch
    from transformers import BertConfig, BertModel

    from discourse.stages.stance.pair_input import PairIds
    from discourse.stages.stance.pair_net import PairNet, collate

    cfg = BertConfig(vocab_size=30, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    torch.manual_seed(0)
    net = PairNet(BertModel(cfg), 2)
    encs = [PairIds([2, 5 + (i % 2), 3, 7, 3], [0, 0, 0, 1, 1]) for i in range(64)]  # token 5 or 6 = the label
    y = [i % 2 for i in range(64)]

    def loss() -> float:
        net.eval()
        with torch.no_grad():
            logits = net(*collate(encs, range(64)))
        return float(torch.nn.functional.cross_entropy(logits, torch.tensor(y)))

    before = loss()
    for seed in range(10):
        train_epoch(net, encs, y, torch.ones(64), Epoch(3e-3, seed, "global"), log=lambda _: None, bf16=False)
    assert loss() < before / 2


RESULTS = {
    "model": "stance-pair-minilm-v1",
    "version": "1.0.0",
    "command": "cmd",
    "seed": "one run",
    "fp16_label_agreement_with_fp32": {},
    "held_out": {},
}


def test_report_section_is_replaced_not_repeated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from discourse.train import stance_pair_card

    monkeypatch.setattr(stance_pair_card, "section", lambda r: f"{START}\nsection {r['version']}\n{END}")
    report = tmp_path / "stance.md"
    report.write_text("# Stance model evaluation\n\nthe head's report\n")
    write_report_section(report, RESULTS)
    write_report_section(report, {**RESULTS, "version": "1.0.1"})
    text = report.read_text()
    assert text.count(START) == 1 and "section 1.0.1" in text and "the head's report" in text
    assert preserved_section(report) == f"{START}\nsection 1.0.1\n{END}"


def test_twitter_rows_use_the_parent_tweet(shared: Path) -> None:
    rows = load_twitter(shared / "labeled")
    assert len(rows) > 4000 and {r.label for r in rows} == {"agree", "disagree", "neutral", "query"}
    assert not any("http" in r.reply_text and "https://" in r.reply_text for r in rows)  # URLs folded
    assert len({r.group for r in rows}) > 250
    assert np.mean([r.label == "query" for r in rows]) > 0.05


@pytest.mark.skipif(shared_data() is None, reason="needs ../shared/data")
def test_discourse_train_stance_retrains_the_same_weights_and_writes_model_registry_card_and_report(
    tmp_path: Path,
) -> None:
    """``discourse train stance`` end to end on a few rows per set (the real MiniLM, all three stages,
    the held-out scoring and the shipping): two runs from scratch give byte-identical weights, and a
    third with the first run's checkpoints resumes without training."""
    import hashlib
    import json

    from click.testing import CliRunner

    from discourse.cli import main

    def run(name: str, work: Path | None = None) -> tuple[str, Path]:
        out, reports = tmp_path / name / "models" / "m", tmp_path / name / "reports"
        work = work or tmp_path / name / "w"
        args = ["train", "stance", "--limit", "6", "--threads", "1"]
        args += ["--out", str(out), "--reports", str(reports), "--work", str(work)]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        return res.output, out

    import torch

    threads = torch.get_num_threads()
    try:
        log1, out1 = run("a")
        log2, out2 = run("b")
    finally:
        torch.set_num_threads(threads)  # the command sets --threads for the process
    weights = [hashlib.sha256((o / "model.safetensors").read_bytes()).hexdigest() for o in (out1, out2)]
    assert weights[0] == weights[1]
    meta = json.loads((out1 / "model.json").read_text(encoding="utf-8"))
    assert meta["labels"] == ["agree", "disagree", "neutral", "query"]
    registry = json.loads((out1.parent / "registry.json").read_text(encoding="utf-8"))
    assert "stance-pair-minilm-v1" in json.dumps(registry)
    assert (out1 / "MODEL_CARD.md").is_file() and (tmp_path / "a" / "reports" / "stance.md").is_file()
    assert "held-out" in log1 and "stageA: loaded" not in log1
    try:
        log3, _ = run("c", work=tmp_path / "a" / "w")
    finally:
        torch.set_num_threads(threads)
    assert "stageA: loaded" in log3 and "stageB2: loaded" in log3

"""``discourse evaluate stance`` (discourse.commands.stance over discourse.train.stance_pair_eval) on a
tiny random pair model, and the 3-layer student built from a teacher (discourse.train.stance_pair_distill)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from discourse.cli import main
from discourse.testing import _tiny_vocab, shared_data
from discourse.train.stance_data import StanceRow
from discourse.train.stance_pair_eval import ece, evaluate, predict, score_rows

LABELS = ["agree", "disagree", "neutral", "query"]
CUE_RULE = {"explicit_labels": ["agree", "disagree", "query"], "min_strength": 0.8, "weights": {"1": 0.9, "0.8": 0.8}}


def _tiny_net(layers: int = 2, seed: int = 3, spread: float = 40.0):  # type: ignore[no-untyped-def]
    import torch
    from transformers import BertConfig, BertModel

    from discourse.stages.stance.pair_net import PairNet

    cfg = BertConfig(  # type: ignore[call-arg]
        vocab_size=len(_tiny_vocab()),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    net = PairNet(BertModel(cfg), len(LABELS))
    with torch.no_grad():
        net.head.weight.mul_(spread)  # spread the random scores so labels differ between inputs
    return net.eval()


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertTokenizer

    from discourse.stages.stance.pair_model import save_folder

    folder = tmp_path_factory.mktemp("tiny-pair")
    meta = {"name": "tiny-pair", "labels": LABELS, "max_length": 64, "cue_rule": CUE_RULE}
    save_folder(_tiny_net(), BertTokenizer(vocab=_tiny_vocab()), folder, meta)
    return folder


ROWS = [
    ("the town will vote on the stadium", "i agree with you on the stadium", "agree", "t1"),
    ("public money for a private stadium", "i disagree , the jobs are good", "disagree", "t1"),
    ("the stadium brings visitors", "can you give an example ?", "query", "t2"),
    ("parking is bad", "the bike lanes are good", "neutral", "t2"),
    ("debt for years", "why is that a problem", "query", "t3"),
    ("visitors spend money", "that is not what the data is", "disagree", "t3"),
    ("jobs in the town", "thank you , good points", "agree", "t4"),
    ("hello priya", "hello marco", "neutral", "t4"),
]


def _csv(path: Path, rows: list[tuple[str, str, str, str]] = ROWS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["parent", "reply", "label", "group"])
        w.writerows(rows)
    return path


def test_csv_evaluation_writes_markdown_and_json(tiny_pair: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    r = CliRunner().invoke(
        main,
        ["evaluate", "stance", str(_csv(tmp_path / "pairs.csv")), "--model", str(tiny_pair), "--reports", str(reports)],
    )
    assert r.exit_code == 0, r.output
    stem = f"stance-eval-{tiny_pair.name}"
    data = json.loads((reports / f"{stem}.json").read_text())
    s = data["scores"]["with_cue_rule"]["pairs"]
    assert s["n"] == len(ROWS) and data["layers"] == 2 and data["cost"]["pairs"] == len(ROWS)
    assert sum(map(sum, s["confusion"]["rows_gold_cols_pred"])) == len(ROWS)
    assert set(s["f1"]) == set(LABELS) and set(s["recall"]) == set(LABELS) and 0 <= s["ece"] <= 1
    # the explicit cues decide: "i agree", "i disagree", "can you give an example?" are right
    cm = np.array(s["confusion"]["rows_gold_cols_pred"])
    assert cm[0, 0] >= 1 and cm[1, 1] >= 1 and cm[3, 3] >= 1
    md = (reports / f"{stem}.md").read_text()
    assert "| pairs | 8 |" in md and "macro-F1" in md and "gold \\ pred" in md
    assert data["command"].startswith("discourse evaluate stance ") and "macro-F1" in r.output
    assert not [p for p in reports.iterdir() if p.name not in (f"{stem}.md", f"{stem}.json")]  # no temp files left


def test_json_flag_prints_the_same_numbers(tiny_pair: Path, tmp_path: Path) -> None:
    args = ["evaluate", "stance", str(_csv(tmp_path / "p.csv")), "--model", str(tiny_pair), "--json"]
    r = CliRunner().invoke(main, [*args, "--reports", str(tmp_path)])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.output)
    assert printed["scores"] == json.loads((tmp_path / f"stance-eval-{tiny_pair.name}.json").read_text())["scores"]


def test_bad_input_is_one_line(tiny_pair: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("parent,reply\na,b\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["evaluate", "stance", str(bad), "--model", str(tiny_pair)])
    assert r.exit_code != 0 and r.output.strip().splitlines() == ["error: " + r.output.split("error: ", 1)[1].strip()]
    assert "label" in r.output and "Traceback" not in r.output
    lab = _csv(tmp_path / "lab.csv", [("a", "b", "maybe", "g")])
    r = CliRunner().invoke(main, ["evaluate", "stance", str(lab), "--model", str(tiny_pair)])
    assert r.exit_code != 0 and "'maybe' is not one of" in r.output
    r = CliRunner().invoke(main, ["evaluate", "stance", "--model", str(tiny_pair), "--data", str(tmp_path)])
    assert r.exit_code != 0 and "debagreement-dev" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["evaluate", "stance", str(_csv(tmp_path / "x.csv")), "--model", "no-such-model"])
    assert r.exit_code != 0 and r.output.startswith("error: ")


def test_scores_are_those_of_the_predictions(tiny_pair: Path) -> None:
    test = {"a": [StanceRow(*r) for r in ROWS[:5]], "b": [StanceRow(*r) for r in ROWS[5:]]}
    pred = predict(str(tiny_pair), test)
    result = evaluate(pred, test)
    for ds, rows in test.items():
        got = np.asarray(LABELS)[pred.model_only[ds].argmax(1)]
        gold = np.array([r.label for r in rows])
        assert result["scores"]["model_only"][ds]["accuracy"] == pytest.approx(float((got == gold).mean()))
    assert "rumoureval reddit+twitter" not in result["scores"]["model_only"]  # pooled only when both parts are there


def test_ece_is_zero_when_confidence_matches_accuracy_and_large_when_not() -> None:
    proba = np.array([[0.75, 0.25]] * 4)
    assert ece(["a", "a", "a", "b"], proba, ["a", "b"]) == pytest.approx(0.0)
    assert ece(["b", "b", "b", "b"], proba, ["a", "b"]) == pytest.approx(0.75)
    rows = [StanceRow("t", "r", "agree", "g1"), StanceRow("t", "r", "query", "g2")]
    s = score_rows(rows, np.eye(4)[[0, 3]], LABELS)
    assert s["macro_f1"] == 1.0 and s["precision"]["query"] == 1.0 and s["recall"]["disagree"] == 0.0


def test_student_keeps_the_chosen_layers_and_loads_as_a_pair_model(tmp_path: Path) -> None:
    import torch
    from transformers import BertTokenizer

    from discourse.stages.stance.pair_model import StancePairClassifier, save_folder
    from discourse.train.stance_pair_distill import student_from_teacher

    teacher = _tiny_net(layers=4)
    student = student_from_teacher(teacher, [0, 2])
    assert student.encoder.config.num_hidden_layers == 2 and teacher.encoder.config.num_hidden_layers == 4
    t, s = teacher.encoder.encoder.layer, student.encoder.encoder.layer
    assert torch.equal(s[1].output.dense.weight, t[2].output.dense.weight)
    assert torch.equal(student.head.weight, teacher.head.weight)
    with pytest.raises(ValueError, match="not layers"):
        student_from_teacher(teacher, [0, 4])
    save_folder(
        student,
        BertTokenizer(vocab=_tiny_vocab()),
        tmp_path / "s",
        {"labels": LABELS, "max_length": 64, "cue_rule": CUE_RULE},
    )
    assert json.loads((tmp_path / "s" / "config.json").read_text())["num_hidden_layers"] == 2
    clf = StancePairClassifier("s", folder=tmp_path / "s")
    p = clf.predict_pairs([("the stadium", "i agree"), ("debt", "why")])
    assert p.shape == (2, 4) and np.allclose(p.sum(1), 1, atol=1e-5)


def test_distillation_pulls_the_student_toward_the_teacher() -> None:
    import torch

    from discourse.stages.stance.pair_input import PairIds
    from discourse.stages.stance.pair_net import collate
    from discourse.train.stance_pair_fit import Epoch, Soft, train_epoch

    teacher = _tiny_net(layers=2, seed=5)
    student = _tiny_net(layers=1, seed=9, spread=1.0)
    encs = [PairIds([2, 5 + (i % 7), 3, 12 + (i % 5), 3], [0, 0, 0, 1, 1]) for i in range(48)]
    with torch.no_grad():
        t_logp = torch.log_softmax(teacher(*collate(encs, range(48))), -1)

    def kl() -> float:
        student.eval()
        with torch.no_grad():
            s = torch.log_softmax(student(*collate(encs, range(48))), -1)
        return float(torch.nn.functional.kl_div(s, t_logp, log_target=True, reduction="batchmean"))

    before = kl()
    y = [0] * 48  # gold labels carry no signal here: only the teacher term can lower the KL
    for seed in range(10):
        epoch = Epoch(5e-3, seed, "global")
        train_epoch(student, encs, y, torch.ones(48), epoch, lambda _: None, False, Soft(t_logp, 1.0, 1.0))
    assert kl() < before / 2


@pytest.mark.skipif(shared_data() is None, reason="needs ../shared/data")
def test_held_out_rows_are_the_cards_groups() -> None:
    from discourse.train.stance_pair_eval import held_out_rows

    root = shared_data()
    assert root is not None
    test = held_out_rows(root / "labeled")
    card = json.loads(Path("models/stance-pair-minilm-v1/model.json").read_text())["metrics"]
    assert {ds: len(rows) for ds, rows in test.items()} == {ds: card[ds]["n"] for ds in test}


def test_compare_puts_models_side_by_side(tiny_pair: Path) -> None:
    from discourse.train.stance_pair_eval import compare

    test = {
        "rumoureval2019-reddit-train": [StanceRow(*r) for r in ROWS[:4]],
        "rumoureval2019-twitter-train": [StanceRow(*r) for r in ROWS[4:]],
    }
    result = evaluate(predict(str(tiny_pair), test), test)
    pooled = result["scores"]["with_cue_rule"]["rumoureval reddit+twitter"]
    assert pooled["n"] == len(ROWS)
    table = compare([result, result]).splitlines()
    assert len(table) == 4 and table[2] == table[3]
    assert f"| {pooled['f1']['query']:.3f} | {result['cost']['ms_per_pair']} (" in table[2]


def test_shipping_a_student_registers_it_with_both_models_scores(tiny_pair: Path, tmp_path: Path) -> None:
    from discourse.core.modelfiles import locate
    from discourse.train.stance_pair_distill_ship import ship

    student = tmp_path / "student"
    student.mkdir()
    for f in tiny_pair.iterdir():
        (student / f.name).write_bytes(f.read_bytes())
    meta = json.loads((tiny_pair / "model.json").read_text())
    meta["distillation"] = {"teacher": "t", "layers_kept": [0, 1], "alpha": {"stageB": 0.5}, "temperature": 2.0}
    meta["distillation"] |= {"stages": ["stageB"], "command": "cmd"}
    (student / "model.json").write_text(json.dumps(meta))
    test = {"rumoureval2019-twitter-train": [StanceRow(*r) for r in ROWS]}
    evals = []
    for name in ("teacher", "student"):
        evals.append(tmp_path / f"{name}.json")
        evals[-1].write_text(json.dumps(evaluate(predict(str(tiny_pair), test), test)))
    models = tmp_path / "models"
    out = ship(student, evals[0], evals[1], "| cost |", name="tiny-l2", models=models)
    folder, record = locate("tiny-l2", models)
    assert folder == out and record.version == "1.0.0"
    shipped = json.loads((out / "model.json").read_text())
    assert shipped["kind"] == "stance_pair" and shipped["metrics"]["rumoureval2019-twitter-train"]["n"] == len(ROWS)
    card = (out / "MODEL_CARD.md").read_text()
    assert "| cost |" in card and "stage B one epoch" in card and card.count(f"| {tiny_pair.name} | 2 |") == 2

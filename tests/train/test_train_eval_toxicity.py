"""Measuring a toxicity model (discourse.train.eval_toxicity) on small labelled files written here."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from discourse.train import eval_toxicity as ev
from discourse.train.toxicity_report import markdown, table

ABUSIVE = ["you idiot i hate you", "kill them all idiot", "i hate this idiot"]
NORMAL = ["thank you for the data", "the vote is on tuesday", "good points about the town"]


class KeywordModel:
    """A toxicity 'model': toxic when the text has an abusive word, insult a little less often."""

    name = "keywords"

    def predict_batch(self, texts: list[str]) -> list[dict[str, float]]:
        out = []
        for t in texts:
            hits = sum(w in t.split() for w in ("idiot", "hate", "kill"))
            out.append({"toxic": min(1.0, 0.3 * hits + 0.05), "insult": 0.2 * ("idiot" in t)})
        return out


def write_data(root: Path, copies: int = 4) -> Path:
    hx = root / ev.HATEXPLAIN
    hx.parent.mkdir(parents=True)
    with open(hx, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for k in range(copies):
            w.writerows([[f"{t} {k}", str(1 + (i % 2))] for i, t in enumerate(ABUSIVE)])
            w.writerows([[f"{t} {k}", "0"] for t in NORMAL])
    jg = root / ev.JIGSAW
    jg.parent.mkdir(parents=True)
    with open(jg, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["comment_text", *ev.JIGSAW_LABELS])
        w.writerows([[t, "1", "0", "0", str(int("kill" in t)), "1", "0"] for t in ABUSIVE])
        w.writerows([[t, "0", "0", "0", "0", "0", "0"] for t in NORMAL])
    return root


def test_binary_metrics_of_a_perfect_and_a_useless_score() -> None:
    y = np.array([0, 0, 1, 1, 1])
    m = ev.binary_metrics(y, np.array([0.1, 0.2, 0.6, 0.7, 0.9]))
    assert m["auroc"] == 1.0 and m["f1_at_0.5"] == 1.0 and m["f1_at_best"] == pytest.approx(1.0)
    assert m["best_threshold"] == pytest.approx(0.6)
    assert m["f1_all_positive"] == pytest.approx(2 * 0.6 / 1.6)
    low = ev.binary_metrics(y, np.array([0.4, 0.3, 0.2, 0.1, 0.05]))
    assert low["auroc"] == 0.0 and low["recall_at_0.5"] == 0.0


def test_each_abusive_class_is_scored_against_normal_alone() -> None:
    label = np.array([0, 0, 1, 1, 2, 2])
    overall = np.array([0.1, 0.2, 0.9, 0.8, 0.15, 0.3])  # class 1 separated, class 2 mixed
    out = ev.class_vs_normal(label, overall)
    assert out["1"] == 1.0 and out["2"] == 0.75


def test_hatexplain_and_jigsaw_evaluation(tmp_path: Path) -> None:
    data = write_data(tmp_path)
    h = ev.eval_hatexplain(KeywordModel(), data / ev.HATEXPLAIN)
    assert (h["n"], h["n_abusive"], h["n_normal"]) == (24, 12, 12)
    assert h["class_counts"] == {"0": 12, "1": 8, "2": 4}
    assert h["overall"]["auroc"] == 1.0 and set(h["auroc_per_label"]) == {"toxic", "insult"}
    assert h["auroc_overall"] == h["overall"]["auroc"] and "f1_at_0.5" in h  # keys the model card reads
    assert ev.eval_hatexplain(KeywordModel(), data / ev.HATEXPLAIN, limit=6)["n"] == 6
    j = ev.eval_jigsaw(KeywordModel(), data / ev.JIGSAW)
    assert j["n"] == 6 and j["n_any"] == 3 and j["positives"]["threat"] == 1
    assert set(j["auroc_per_label"]) == {"toxic", "insult"}  # labels the model has and that have both classes
    assert j["auroc_overall_vs_any"] == 1.0


def test_grouped_oof_keeps_duplicate_posts_in_one_fold() -> None:
    """Each distinct text (group) has a random label that only its one-hot id tells: a fold that
    trained on a copy of a test text would recall its label."""
    rng = np.random.default_rng(0)
    n_groups = 30
    y = np.repeat(rng.integers(0, 2, n_groups), 3)
    groups = np.repeat([f"text {i}" for i in range(n_groups)], 3)
    X = np.repeat(np.eye(n_groups), 3, axis=0)
    oofs = ev.grouped_oof_binary(X, y, groups, Cs=(100.0,))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, oofs[100.0]) < 0.7


def test_minilm_head_alternative_with_a_stand_in_encoder(tmp_path: Path) -> None:
    data = write_data(tmp_path, copies=6)

    class Encoder:
        model = "stand-in"

        def encode(self, texts: list[str]) -> SimpleNamespace:
            rng = np.random.default_rng(len(texts))
            abusive = np.array([[float(any(w in t for w in ("idiot", "hate", "kill")))] for t in texts])
            return SimpleNamespace(vectors=np.hstack([abusive, rng.normal(size=(len(texts), 3))]))

    overall = np.array([float(int(r["label"]) > 0) for r in ev.read_csv(data / ev.HATEXPLAIN)])
    m = ev.eval_minilm_head(data, overall, Cs=(0.1, 1.0), encoder=Encoder())
    assert m["encoder"] == "stand-in" and m["C"] in (0.1, 1.0) and set(m["auroc_by_C"]) == {"0.1", "1.0"}
    assert m["n_groups"] == 36 and m["hatexplain_grouped_oof"]["auroc"] == 1.0
    assert m["toxblock_same_rows_auroc"] == 1.0 and m["jigsaw_sample_auroc_vs_any"] == 1.0


def test_model_specs_name_shipped_or_folder_models() -> None:
    from discourse.core.modelfiles import models_dir

    shipped = ev.toxicity_model({"name": "tox-block-0.1.2", "batch_size": 8})
    assert shipped.name == "tox-block-0.1.2" and shipped.batch_size == 8
    folder = ev.toxicity_model({"path": str(models_dir() / "tox-block-0.1.2")})
    assert folder.predict_batch(["I hate you, idiot"])[0]["toxic"] > 0.5
    with pytest.raises(TypeError):
        ev.toxicity_model({"name": "tox-block-0.1.2", "colour": "red"})


def test_main_writes_the_report(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data")
    argv = ["--data", str(data), "--out", str(tmp_path / "out"), "--batch-size", "16"]
    assert ev.main(argv) == 0
    result = json.loads((tmp_path / "out" / "toxicity.json").read_text(encoding="utf-8"))
    assert list(result) == [
        "model",
        "model_spec",
        "hatexplain",
        "jigsaw_test_sample",
        "model_files",
        "environment",
        "command",
    ]
    assert result["model"] == "tox-block-0.1.2" and result["model_spec"]["batch_size"] == 16
    assert result["command"] == ev.COMMAND + " " + " ".join(argv)
    assert "model.safetensors" in result["model_files"]
    text = (tmp_path / "out" / "toxicity.md").read_text(encoding="utf-8")
    assert text.startswith("# Toxicity: held-out measurements of `tox-block-0.1.2`")
    assert table(result) in text and "## Alternative considered" not in text
    result["minilm_head"] = {
        "hatexplain_grouped_oof": {"auroc": 0.8, "f1_at_0.5": 0.7},
        "encode_texts_per_second": 100.0,
        "C": 0.1,
        "auroc_by_C": {"0.1": 0.8},
        "n_groups": 20,
        "toxblock_same_rows_auroc": 0.6,
        "jigsaw_sample_auroc_vs_any": 0.9,
    }
    assert "| MiniLM head, grouped out-of-fold (in-domain) | 0.800 | 0.700 |" in markdown(result)

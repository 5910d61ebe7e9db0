"""discourse train / evaluate / calibrate for toxicity on tiny synthetic data (CI never trains the
real model): weights, the fitted blend's export round trip, leave-one-source-out, the whole
training run into a temporary models folder, and a site's calibration written and read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from discourse import testing
from discourse.commands.toxicity import calibrate, evaluate
from discourse.core.config import load_config
from discourse.core.modelfiles import resolve
from discourse.stages.toxicity.head import FEATURE_LABELS, ToxicityHead
from discourse.train import toxicity_features, toxicity_train
from discourse.train.toxicity_data import Table
from discourse.train.toxicity_fit import Data, ece, fit_blend, loso, select, train_weights
from discourse.train.toxicity_train import Settings

DIM = 8


def synthetic(n_per: int = 300, seed: int = 0) -> Data:
    """Three sources; the label shifts the vectors and the tox-block scores."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (src, rate) in enumerate((("a", 0.5), ("b", 0.2), ("c", 0.6))):
        y = (rng.random(n_per) < rate).astype(np.int64)
        vec = rng.normal(size=(n_per, DIM)) + y[:, None] * 0.8
        tox = 1 / (1 + np.exp(-(rng.normal(-2, 1, (n_per, 6)) + 2.5 * y[:, None])))
        parts.append((vec, tox, y, np.array([src] * n_per), np.array([f"{src}{i // 2}" for i in range(n_per)])))
        del k
    return Data(*(np.concatenate([p[i] for p in parts]) for i in range(5)))


def test_train_weights_balance_sources_and_classes() -> None:
    source = np.array(["a"] * 80 + ["b"] * 20)
    label = np.array([1] * 20 + [0] * 60 + [1] * 10 + [0] * 10)
    w = train_weights(source, label, cap=50)
    assert w.mean() == pytest.approx(1.0)
    assert w[label == 1].sum() == pytest.approx(w[label == 0].sum())
    # within source a the classes weigh the same before the global rescale
    assert w[:20].sum() / w[20:80].sum() == pytest.approx(w[label == 1].sum() / w[label == 0].sum() * 1, rel=0.5)


def test_blend_export_round_trip(tmp_path: Path) -> None:
    data = synthetic()
    idx = np.arange(len(data.label))
    blend = fit_blend(data, idx, C=0.1)
    z = blend.z(data, idx, 0.25)
    assert np.corrcoef(z, data.label)[0, 1] > 0.5
    meta = {"feature_labels": list(FEATURE_LABELS), "platt": {"a": 1.0, "b": 0.0}}
    hm, hs, tm, ts = blend.stats
    meta["blend"] = {"beta": 0.25, "head_mean": hm, "head_std": hs, "tox_mean": tm, "tox_std": ts}
    toxicity_train.write_model(tmp_path / "m", blend, meta)
    head = ToxicityHead("m", tmp_path / "m")
    tox = [dict(zip(FEATURE_LABELS, row, strict=True)) for row in data.tox]
    assert head.blend_z(data.vectors, tox) == pytest.approx(z, abs=1e-3)  # fp32 weights


def test_select_and_loso_hold_the_source_out() -> None:
    data = synthetic()
    choice = select(data, np.flatnonzero(data.source != "c"), cs=(0.01, 1.0), betas=(0.0, 1.0), min_rows=100)
    assert set(choice["inner"]) == {"C=0.01 beta=0.0", "C=0.01 beta=1.0", "C=1.0 beta=0.0", "C=1.0 beta=1.0"}
    assert choice["C"] in (0.01, 1.0) and choice["beta"] in (0.0, 1.0)
    res = loso(data, ["a", "c"], n_boot=20, min_rows=100)
    for s in ("a", "c"):
        r = res[s]
        assert r["n"] == 300 and len(r["z"]) == 300 and r["auroc"] > 0.8
        assert r["ci"][0] <= r["auroc"] <= r["ci"][1] + 1e-9
    y = np.array([0, 0, 1, 1])
    assert ece(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0 and ece(y, np.full(4, 0.9)) == pytest.approx(0.4)


def _table(data: Data) -> Table:
    t = Table()
    for i, (s, y, g) in enumerate(zip(data.source, data.label, data.group, strict=True)):
        src = {"a": "hatexplain", "b": "stormfront", "c": "ruddit"}[s]
        t.add(("you are an idiot " if y else "thanks for the article ") + str(i), src, int(y), g)
    for k in range(10):
        text = f"what an idiot you are {k}"
        t.add(text, "toxic-spans", 1, f"ts{k}", list(range(8, 13)))
    return t


def test_train_writes_model_card_registry_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = synthetic(200)
    table = _table(data)
    rng = np.random.default_rng(3)
    vec = np.vstack([data.vectors, rng.normal(size=(10, DIM)) + 0.8])
    tox = np.vstack([data.tox, np.full((10, 6), 0.9)])
    monkeypatch.setattr(toxicity_features, "features", lambda texts, *a, **k: (vec, tox))
    models, reports = tmp_path / "models", tmp_path / "reports"
    models.mkdir()
    enc = testing.build_tiny_encoder(tmp_path / "enc", hidden=DIM)
    settings = Settings(models=models, reports=reports, n_boot=10, encoder=str(enc), dtype="fp32", max_length=64)
    result = toxicity_train.train(settings, table)
    folder, record = resolve("tox-minilm-v1", models)
    assert {"model.json", "model.safetensors"} <= set(record.files)
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert meta["kind"] == "toxicity_head" and meta["label_map"]["profanity"] == "obscene"
    assert set(result["loso"]) == {"hatexplain", "stormfront", "ruddit"}
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "research use" in card and "tox-block max alone" in card
    md = (reports / "toxicity.md").read_text(encoding="utf-8")
    assert "Leave-one-source-out" in md and "ECE" in md and "char-F1" in md
    saved = json.loads((reports / "toxicity.json").read_text(encoding="utf-8"))
    assert saved["evidence"]["posts"] == 2 and saved["long_case"]["toxblock_windowed"] > 0.5
    assert saved["long_case"]["toxblock_last_100_words"] < 0.1
    assert 0.0 <= saved["long_case"]["stage_score"] <= 1.0  # the whole stage ran with the new head


# -- a site's labelled comments ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from discourse.stages.toxicity.tests.test_head import build_tiny_head

    root = tmp_path_factory.mktemp("site")
    enc = testing.build_tiny_encoder(root / "encoder", hidden=32)
    head = build_tiny_head(root / "head")
    cfg = root / "site.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "stages": {
                    "encode.v1": {"model": str(enc), "dtype": "fp32", "max_length": 64},
                    "toxicity.v1": {"model": {"path": str(head)}},
                }
            }
        ),
        encoding="utf-8",
    )
    rows = [("you are an idiot and I hate you", 1, 1), ("thank you for the kind words", 0, 0)] * 15
    rows += [("go to hell you moron", 1, 1), ("I agree with the article", 0, 0)] * 10
    csv_path = root / "site.csv"
    lines = ["text,label,insult"] + [f'"{t}",{y},{a}' for t, y, a in rows]
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv_path, cfg


def test_calibrate_writes_a_config_the_stage_applies(site: tuple[Path, Path], tmp_path: Path) -> None:
    csv_path, cfg = site
    out = tmp_path / "cal.yaml"
    r = CliRunner().invoke(calibrate, [str(csv_path), "--config", str(cfg), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "only 50 rows" in r.output and f"wrote {out}" in r.output
    cal = yaml.safe_load(out.read_text(encoding="utf-8"))["stages"]["toxicity.v1"]["calibration"]
    assert set(cal) == {"a", "b", "threshold", "thresholds"} and set(cal["thresholds"]) == {"insult"}
    resolved = load_config(out).stage("toxicity.v1").calibration
    assert resolved.a == pytest.approx(cal["a"]) and resolved.threshold == pytest.approx(cal["threshold"])
    again = CliRunner().invoke(calibrate, [str(csv_path), "--config", str(cfg), "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output


def test_evaluate_prints_metrics(site: tuple[Path, Path]) -> None:
    csv_path, cfg = site
    r = CliRunner().invoke(evaluate, ["toxicity", str(csv_path), "--config", str(cfg), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads(r.output)
    c = m["confusion"]
    assert m["n"] == 50 and m["positives"] == 25 and c["tp"] + c["fn"] == 25 and c["fp"] + c["tn"] == 25
    assert 0.0 <= m["auroc"] <= 1.0 and 0.0 <= m["ece"] <= 1.0 and m["threshold"] == 0.5
    text = CliRunner().invoke(evaluate, ["toxicity", str(csv_path), "--config", str(cfg)])
    assert text.exit_code == 0 and "AUROC" in text.output and "predicted toxic" in text.output
    bad = csv_path.with_name("bad.csv")
    bad.write_text("words,label\nhi,1\n", encoding="utf-8")
    r = CliRunner().invoke(evaluate, ["toxicity", str(bad)])
    assert r.exit_code != 0 and "text,label" in r.output

"""toxicity.v1 with the toxicity head: the kind, the blend, calibration, windows and evidence spans
(a tiny random encoder and a tiny random head; the shipped tox-block as the feature model)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import discourse
from discourse import testing
from discourse.core.errors import ConfigError
from discourse.core.models import ModelSpec, load_model
from discourse.core.thread import Comment, Thread
from discourse.stages.toxicity.head import FEATURE_LABELS, ToxicityHead, logit, sigmoid
from discourse.stages.toxicity.toxblock import single_thread
from discourse.stages.toxicity.windows import char_f1, score_windowed, span_chars, windows, word_spans

DIM = 32


def build_tiny_head(folder: Path, dim: int = DIM, seed: int = 0) -> Path:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    weight = np.concatenate([rng.normal(0, 0.1, dim), np.full(6, 0.5)]).astype(np.float32)
    save_file({"weight": weight, "bias": np.array([0.1], np.float32)}, str(folder / "model.safetensors"))
    meta = {
        "kind": "toxicity_head",
        "feature_model": "tox-block-0.1.2",
        "feature_labels": list(FEATURE_LABELS),
        "blend": {"beta": 0.25, "head_mean": -1.0, "head_std": 2.0, "tox_mean": -4.0, "tox_std": 3.0},
        "platt": {"a": 1.5, "b": -0.5},
    }
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def head_config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("tox_head")
    enc = testing.build_tiny_encoder(root / "encoder", hidden=DIM)
    head = build_tiny_head(root / "head")
    return {
        "pipeline": ["encode.v1", "toxicity.v1"],
        "stages": {
            "encode.v1": {"model": str(enc), "dtype": "fp32", "max_length": 64, "batch_size": 8},
            "toxicity.v1": {"model": {"path": str(head)}},
        },
    }


THREAD = Thread(
    id="t",
    title="a title",
    comments=(
        Comment("c1", "You are an idiot and I hate you"),
        Comment("c2", "Thank you for your kind words", parent_id="c1"),
        Comment("c3", "", parent_id="c1"),
    ),
)


def test_head_predicts_the_documented_blend(tmp_path: Path) -> None:
    folder = build_tiny_head(tmp_path / "h")
    head = load_model(ModelSpec(path=str(folder)), task="toxicity")
    assert head.kind.name == "toxicity_head" and head.kind.inputs == "encoded_text"
    model = head.model
    assert isinstance(model, ToxicityHead) and model.meta_ is None  # lazy
    rng = np.random.default_rng(1)
    vec = rng.normal(size=(3, DIM))
    tox = [dict(zip(FEATURE_LABELS, rng.uniform(0.001, 0.999, 6), strict=True)) for _ in range(3)]
    t = np.array([[r[k] for k in FEATURE_LABELS] for r in tox])
    model._load()
    w = model.weight_
    raw = np.hstack([vec, logit(t)]) @ w + 0.1
    z = 0.75 * (raw + 1.0) / 2.0 + 0.25 * (logit(t.max(axis=1)) + 4.0) / 3.0
    assert model.blend_z(vec, tox) == pytest.approx(z, abs=1e-5)
    assert model.predict(vec, tox) == pytest.approx(sigmoid(1.5 * z - 0.5), abs=1e-6)
    assert model.predict(vec, tox, (2.0, 1.0)) == pytest.approx(sigmoid(2.0 * z + 1.0), abs=1e-6)
    with pytest.raises(Exception, match="weights but"):
        model.blend_z(vec[:, :5], tox)


def test_stage_with_head_scores_labels_and_records(head_config: dict) -> None:
    result = discourse.analyze(THREAD, config=head_config)
    product = {"toxicity", "severe_toxicity", "insult", "threat", "identity_attack", "profanity"}
    for c in THREAD.comments:
        tox = result.toxicity(c.id)
        assert tox is not None and set(tox.labels) == set(FEATURE_LABELS) | product
        assert tox.labels["toxicity"] == tox.score and 0.0 <= tox.score <= 1.0
        assert tox.labels["profanity"] == tox.labels["obscene"]
        assert tox.labels["identity_attack"] == tox.labels["identity_hate"]
        assert tox.model == "head"
    alone = discourse.analyze(
        THREAD, config={"pipeline": ["toxicity.v1"], "stages": {"toxicity.v1": {"model": {"name": "tox-block-0.1.2"}}}}
    )
    for c in THREAD.comments:  # the raw labels are tox-block's own
        assert result.toxicity(c.id).labels["toxic"] == pytest.approx(alone.toxicity(c.id).labels["toxic"])
    names = {m.name for m in result.models}
    assert {"tox-block-0.1.2", "head"} <= names


def test_stage_applies_a_site_calibration(head_config: dict) -> None:
    base = discourse.analyze(THREAD, config=head_config)
    cfg = json.loads(json.dumps(head_config))
    cfg["stages"]["toxicity.v1"]["calibration"] = {"a": 2.0, "b": 1.0}
    site = discourse.analyze(THREAD, config=cfg)
    for c in THREAD.comments:
        z = (logit(np.array(base.toxicity(c.id).score)) + 0.5) / 1.5  # undo the shipped Platt map
        assert site.toxicity(c.id).score == pytest.approx(float(sigmoid(2.0 * z + 1.0)), abs=1e-5)


def test_head_needs_the_encoder_pass(head_config: dict) -> None:
    cfg = {**head_config, "pipeline": ["toxicity.v1"]}
    with pytest.raises(ConfigError, match="put encode.v1 before it"):
        discourse.analyze(THREAD, config=cfg)


def test_windows_cover_long_texts() -> None:
    assert windows("a b c") == [(0, 5)]
    text = " ".join(f"w{i}" for i in range(200))
    spans = windows(text, 80, 40, 90)
    first = [text[b:e].split() for b, e in spans]
    assert first[0][0] == "w0" and first[-1][-1] == "w199"
    assert all(len(w) == 80 for w in first)
    assert [w[0] for w in first] == ["w0", "w40", "w80", "w120"]


def test_score_windowed_picks_the_max_window() -> None:
    text = "bad " + " ".join(["ok"] * 199)

    def predict(pieces: list[str]) -> list[dict[str, float]]:
        return [{"toxic": 0.9 if "bad" in p else 0.1} for p in pieces]

    (best,) = score_windowed(predict, [text])
    assert best.scores == {"toxic": 0.9} and best.span[0] == 0


def test_word_spans_and_char_f1() -> None:
    text = "Honestly, you are an IDIOT. Idiot!! idiots"
    spans = word_spans(text, ["idiot"])
    assert [text[b:e] for b, e in spans] == ["IDIOT", "Idiot"]
    two = "you stupid idiot now"
    assert [two[b:e] for b, e in word_spans(two, ["stupid", "idiot"])] == ["stupid idiot"]
    assert word_spans(text, []) == []
    assert char_f1(span_chars([(0, 4)]), set(range(0, 4))) == 1.0
    assert char_f1(set(), set()) == 1.0 and char_f1({1}, set()) == 0.0
    assert char_f1(span_chars([(0, 2)]), set(range(0, 4))) == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_single_thread_restores_the_thread_count() -> None:
    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


LONG = "You are a pathetic idiot and everyone here hates you. " + " ".join(
    ("The council met on Tuesday to discuss the budget for the coming year and the park " * 20).split()[:260]
)


def test_a_long_comment_is_read_whole() -> None:
    """A toxic sentence followed by 260 ordinary words: tox-block's last 100 words miss it."""
    cfg = {"pipeline": ["toxicity.v1"], "stages": {"toxicity.v1": {"model": {"name": "tox-block-0.1.2"}}}}
    thread = Thread(id="t", title="", comments=(Comment("c1", LONG),))
    tox = discourse.analyze(thread, config=cfg).toxicity("c1")
    assert tox is not None and tox.score > 0.8
    assert "idiot" in tox.evidence
    for b, e in tox.evidence_spans:  # every span is made of evidence words
        assert {w.strip(".,").lower() for w in LONG[b:e].split()} <= set(tox.evidence)
    hit = [LONG[b:e] for b, e in tox.evidence_spans]
    assert any("idiot" in h for h in hit) and all(b < 60 for b, _ in tox.evidence_spans)
    assert tox.to_json()["evidence_spans"] == [[b, e] for b, e in tox.evidence_spans]

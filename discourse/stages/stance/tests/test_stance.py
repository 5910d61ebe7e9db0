"""Stance: explicit cues, pair features, the shipped head and its explicit-cue rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from discourse.core.errors import ModelError
from discourse.core.modelfiles import models_dir
from discourse.models.heads import LinearHead, MLPHead, load_head
from discourse.stages.stance.cues import find_cues
from discourse.stages.stance.features import CUE_FEATURES, feature_names, pair_features
from discourse.stages.stance.model import (
    LABELS,
    StanceClassifier,
    apply_cue_rule,
    evidence_for,
    explicit_cue,
    parse_cue_rule,
)
from discourse.train.heads import export_mlp

EXPLICIT = {
    "I disagree": ("disagree", "I disagree"),
    "Again, I disagree.": ("disagree", "I disagree"),
    "I still disagree": ("disagree", "I still disagree"),
    "I am going to disagree with you": ("disagree", "I am going to disagree"),
    "your points are respected": ("agree", "your points are respected"),
    "Thank you your points are respected.": ("agree", "your points are respected"),
    "Can you give an example?": ("query", "Can you give an example"),
    "I don't agree": ("disagree", "I don't agree"),
}


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# -- cues -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", sorted(EXPLICIT))
def test_explicit_cue(text: str) -> None:
    label, phrase = EXPLICIT[text]
    cue = explicit_cue(find_cues(text))
    assert cue is not None and (cue.label, cue.phrase) == (label, phrase)
    assert cue.strength >= 0.8


def test_negation() -> None:
    assert [(c.label, c.strength) for c in find_cues("I don't agree")] == [("disagree", 1.0)]
    cues = find_cues("I don't disagree")
    assert [c.label for c in cues] == ["concession"]
    assert explicit_cue(cues) is None  # a concession never decides the label


def test_quoted_lines_are_ignored() -> None:
    assert find_cues("> I disagree\nok then") == []
    assert explicit_cue(find_cues("> I agree with all of it\nI disagree.")).label == "disagree"  # type: ignore[union-attr]


def test_equal_explicit_cues_that_conflict_decide_nothing() -> None:
    assert explicit_cue(find_cues("I agree. I disagree.")) is None
    assert explicit_cue(find_cues("Good point, but I disagree.")).label == "disagree"  # type: ignore[union-attr]


def test_evidence_takes_the_label() -> None:
    text = "Thank you your points are respected."
    assert evidence_for(text, "agree") == ["your points are respected"]  # thanks alone is not agreement
    assert evidence_for(text, "disagree") == []
    assert evidence_for(text) == ["your points are respected"]
    assert evidence_for("Thank you John. Putin is to blame.", "agree") == []
    assert evidence_for("Nice weather today.") == []
    assert evidence_for("I don't disagree", "agree") == ["I don't disagree"]
    with pytest.raises(ValueError):
        evidence_for(text, "angry")


def test_conditional_agreement_is_no_stance() -> None:
    assert find_cues("Whether we agree or not Putin has destroyed their motive.") == []
    assert [c.label for c in find_cues("If I agree, what changes")] == []
    assert [c.label for c in find_cues("We agree to disagree.")] == ["disagree"]


# -- features ---------------------------------------------------------------------------------
def test_pair_features_shape_and_order() -> None:
    rng = np.random.default_rng(0)
    r, t = unit(rng, 3, 8), unit(rng, 3, 8)
    texts = ["I disagree", "Can you give an example?", "ok"]
    X = pair_features(r, t, texts)
    assert X.shape == (3, 4 * 8 + len(CUE_FEATURES)) and X.dtype == np.float32
    assert len(feature_names(8)) == X.shape[1]
    np.testing.assert_allclose(X[:, :8], r)
    np.testing.assert_allclose(X[:, 8:16], t)
    np.testing.assert_allclose(X[:, 16:24], r * t, rtol=1e-6)
    np.testing.assert_allclose(X[:, 24:32], np.abs(r - t), rtol=1e-6)
    cues = dict(zip(CUE_FEATURES, X[0, 32:], strict=True))
    assert cues["cue_disagree"] == 1.0 and cues["cue_agree"] == 0.0
    assert X[1, 32 + CUE_FEATURES.index("ends_with_question")] == 1.0
    with pytest.raises(ValueError):
        pair_features(r, t[:2], texts)


# -- the rule on a head that always says neutral ------------------------------------------------
def neutral_head(folder: Path, dim: int = 8, weight: float = 0.6) -> Path:
    n = 4 * dim + len(CUE_FEATURES)
    coef = np.zeros((4, n), dtype=np.float32)
    intercept = np.array([0.0, 0.0, 8.0, 0.0], dtype=np.float32)  # neutral ~ 0.999
    head = LinearHead.from_arrays(
        coef,
        intercept,
        LABELS,
        meta={
            "feature_spec": {"blocks": ["r", "t", "rt", "absdiff"], "dim": dim, "cue_features": list(CUE_FEATURES)},
            "cue_rule": {"weights": {"1": weight, "0.8": weight}},
        },
    )
    return head.save(folder)


def test_cues_override_a_confident_head(tmp_path: Path) -> None:
    clf = StanceClassifier("tiny", folder=neutral_head(tmp_path / "tiny"))
    texts = [*EXPLICIT, "The bus was late."]
    rng = np.random.default_rng(1)
    out = clf.predict_encoded(unit(rng, len(texts), 8), unit(rng, len(texts), 8), texts)
    for text, scores in zip(texts, out, strict=True):
        assert set(scores) == set(LABELS) and abs(sum(scores.values()) - 1) < 1e-6
        want = EXPLICIT.get(text, ("neutral", None))[0]
        assert max(scores, key=scores.__getitem__) == want, text
    assert clf.record().name == "tiny"


def test_apply_cue_rule_blends() -> None:
    proba = np.array([[0.1, 0.1, 0.7, 0.1]])
    out = apply_cue_rule(proba, [find_cues("I disagree")], {1.0: 0.6, 0.8: 0.6})
    np.testing.assert_allclose(out, [[0.04, 0.64, 0.28, 0.04]])


@pytest.mark.parametrize("weights", [{"1": 0.5, "0.8": 0.9}, {"1": 0.9}, {"1": 1.2, "0.8": 0.9}])
def test_cue_weights_must_guarantee_the_cue_label(weights: dict[str, float]) -> None:
    with pytest.raises(ModelError):
        parse_cue_rule({"weights": weights})


# -- the MLP head ---------------------------------------------------------------------------------------
SPEC = {"blocks": ["r", "t", "rt", "absdiff"], "dim": 8, "cue_features": list(CUE_FEATURES)}


@pytest.fixture(scope="module")
def tiny_mlp() -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    """A 6-unit MLPClassifier fitted on 60 random rows, its standardisation and the rows."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 4 * 8 + len(CUE_FEATURES))).astype(np.float32)
    y = np.array(LABELS * 15)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0)
    with pytest.warns(Warning):  # not converged in 50 iterations: fine for a fixture
        clf.fit((X - mean) / scale, y)
    return clf, X, mean, scale


def test_mlp_head_round_trip(tiny_mlp: tuple, tmp_path: Path) -> None:
    clf, X, mean, scale = tiny_mlp
    head = export_mlp(clf, LABELS, mean, scale, {"feature_spec": SPEC})
    head.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert meta["head"] == "mlp" and meta["n_features"] == X.shape[1] and meta["labels"] == list(LABELS)
    back = load_head(tmp_path / "m")
    assert isinstance(back, MLPHead) and back.W1_ is None  # lazy: nothing read yet
    assert back.labels == LABELS
    np.testing.assert_allclose(back.predict_proba(X), head.predict_proba(X), atol=1e-6)
    with pytest.raises(ModelError):
        back.predict_proba(X[:, :5])


def test_stance_classifier_loads_either_head(tiny_mlp: tuple, tmp_path: Path) -> None:
    clf, _, mean, scale = tiny_mlp
    folders = {
        "mlp": export_mlp(
            clf, LABELS, mean, scale, {"feature_spec": SPEC, "cue_rule": {"weights": {"1": 0.6, "0.8": 0.6}}}
        ).save(tmp_path / "mlp"),
        "linear": neutral_head(tmp_path / "linear"),
    }
    legacy = json.loads((folders["linear"] / "model.json").read_text(encoding="utf-8"))
    del legacy["head"]  # written before MLP heads existed: still a linear head
    (folders["linear"] / "model.json").write_text(json.dumps(legacy), encoding="utf-8")
    rng = np.random.default_rng(5)
    texts = [*EXPLICIT, "The bus was late."]
    for kind, folder in folders.items():
        stance = StanceClassifier("tiny", folder=folder)
        out = stance.predict_encoded(unit(rng, len(texts), 8), unit(rng, len(texts), 8), texts)
        assert type(stance._load()) is {"mlp": MLPHead, "linear": LinearHead}[kind]
        for text, scores in zip(texts, out, strict=True):
            assert tuple(scores) == LABELS and abs(sum(scores.values()) - 1) < 1e-5
            if text in EXPLICIT:
                assert max(scores, key=scores.__getitem__) == EXPLICIT[text][0], (kind, text)
    meta = json.loads((folders["mlp"] / "model.json").read_text(encoding="utf-8"))
    meta["head"] = "forest"
    (folders["mlp"] / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="unknown head kind"):
        StanceClassifier("tiny", folder=folders["mlp"]).record()


# -- the shipped head -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped() -> StanceClassifier:
    clf = StanceClassifier()
    clf.record()  # the model ships in models/: failing to load it is a failure, not a skip
    return clf


def test_shipped_head_scores_every_label(shipped: StanceClassifier) -> None:
    rng = np.random.default_rng(2)
    texts = ["I think the article is about trains.", "What?", "", "Totally.", "no"]
    out = shipped.predict_encoded(unit(rng, 5, shipped.dim_), unit(rng, 5, shipped.dim_), texts)
    assert len(out) == 5
    for scores in out:
        assert tuple(scores) == LABELS
        assert abs(sum(scores.values()) - 1) < 1e-5 and all(0 <= v <= 1 for v in scores.values())
    assert shipped.predict_encoded(np.zeros((0, shipped.dim_)), np.zeros((0, shipped.dim_)), []) == []
    assert shipped.name == "stance-minilm-v1" and shipped.record().version


def test_shipped_head_obeys_explicit_cues(shipped: StanceClassifier) -> None:
    texts = list(EXPLICIT)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        dim = shipped.dim_
        out = shipped.predict_encoded(unit(rng, len(texts), dim), unit(rng, len(texts), dim), texts)
        for text, scores in zip(texts, out, strict=True):
            label, phrase = EXPLICIT[text]
            assert max(scores, key=scores.__getitem__) == label, text
            assert shipped.evidence(text, label)[0] == phrase


def test_shipped_model_json_documents_itself(shipped: StanceClassifier) -> None:
    folder = Path(shipped.record().path)
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    assert meta["labels"] == list(LABELS)
    assert meta["feature_spec"]["cue_features"] == list(CUE_FEATURES)
    assert meta["n_features"] == 4 * meta["feature_spec"]["dim"] + len(CUE_FEATURES)
    assert {"training_data", "metrics", "versions", "encoder", "cue_rule"} <= set(meta)
    assert (folder / "README.md").is_file()
    assert (folder / "model.safetensors").stat().st_size < 100_000


def test_corrupted_weights_raise_model_error(shipped: StanceClassifier, tmp_path: Path) -> None:
    src = models_dir()
    shutil.copy(src / "registry.json", tmp_path / "registry.json")
    shutil.copytree(src / "stance-minilm-v1", tmp_path / "stance-minilm-v1")
    weights = tmp_path / "stance-minilm-v1" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        StanceClassifier(root=tmp_path).record()
    weights.write_bytes(b"not a safetensors file")  # bypassing the registry still fails cleanly
    with pytest.raises(ModelError):
        StanceClassifier(folder=tmp_path / "stance-minilm-v1").record()


def test_predict_batch_needs_pairs(shipped: StanceClassifier) -> None:
    with pytest.raises(TypeError):
        shipped.predict_batch(["just a text"])
    assert shipped.predict_batch([]) == []


@pytest.mark.slow
def test_predict_batch_with_the_real_encoder(shipped: StanceClassifier) -> None:
    pairs = [
        ("I still disagree, that is not how vaccines work.", "Vaccines alter your DNA."),
        ("Can you give an example?", "Most studies say the opposite."),
        ("Yes, exactly, well said.", "Masks reduce transmission indoors."),
    ]
    out = shipped.predict_batch(pairs)
    assert [max(s, key=s.__getitem__) for s in out] == ["disagree", "query", "agree"]


# -- the training data (../shared) -------------------------------------------------------------------
def test_training_sets_cover_every_label(shared: Path) -> None:
    from discourse.train.stance_data import load_all

    data = load_all(shared / "labeled")
    labels = {r.label for rows in data.values() for r in rows}
    assert labels == set(LABELS)
    assert all(r.group for rows in data.values() for r in rows)


def test_vectors_gathered_a_slice_at_a_time_score_as_the_copied_arrays(
    shipped: StanceClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage hands the head (reply, parent) vectors of many threads as GatheredRows, read 4,096
    rows at a time instead of copied whole (0.3 GB each at 100,000 comments): same scores."""
    from discourse.stages.stance import model as model_module
    from discourse.stages.stance.model import GatheredRows

    rng = np.random.default_rng(3)
    threads = [unit(rng, n, shipped.dim_) for n in (7, 1, 12)]
    index = np.array([(t, r) for t, a in enumerate(threads) for r in range(len(a))] * 3)
    parents = np.array([(t, (r * 5) % len(threads[t])) for t, r in index])
    copied_reply = np.concatenate([threads[t][[r]] for t, r in index])
    copied_target = np.concatenate([threads[t][[r]] for t, r in parents])
    reply, target = GatheredRows(threads, index), GatheredRows(threads, parents)
    assert reply.shape == copied_reply.shape and np.array_equal(reply[5:40], copied_reply[5:40])
    texts = [f"Comment {k}. I disagree with you." if k % 4 else f"What {k}?" for k in range(len(index))]
    step = [0]
    real = model_module.pair_features
    monkeypatch.setattr(model_module, "pair_features", lambda r, *a: (step.append(len(r)), real(r, *a))[1])
    monkeypatch.setattr(model_module, "STEP", 16)
    assert shipped.predict_encoded(reply, target, texts) == shipped.predict_encoded(copied_reply, copied_target, texts)
    assert max(step) == 16

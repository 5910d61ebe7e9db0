"""The Hugging Face classifier kind, on tiny random models built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from discourse.core.errors import ModelError
from discourse.core.protocols import Classifier
from discourse.models.hf import HFSequenceClassifier

TEXTS = [
    "you are an idiot",
    "thank you",
    "i will kill you and your kind words are bad, this is the reply",
    "good",
    "people think no",
    "yes yes yes yes yes yes yes yes yes yes yes yes",
    "a",
]


# -- tiny Hugging Face models ------------------------------------------------------------------


@pytest.fixture(scope="session")
def single_clf(hf_single: Path) -> HFSequenceClassifier:
    return HFSequenceClassifier(str(hf_single), batch_size=2, max_length=32)


def test_hf_lazy_and_protocol(hf_single: Path) -> None:
    clf = HFSequenceClassifier(str(hf_single))
    assert clf._net is None  # nothing loads in the constructor
    assert clf.labels == ("normal", "offensive", "hate")
    assert isinstance(clf, Classifier)
    rec = clf.record()
    assert rec.name == f"hf:{hf_single}" and rec.version == "local-folder"
    assert {"config.json", "model.safetensors"} <= set(rec.files)


def test_hf_texts_single_label(single_clf: HFSequenceClassifier) -> None:
    out = single_clf.predict_batch(TEXTS)
    assert len(out) == len(TEXTS)
    for row in out:
        assert set(row) == {"normal", "offensive", "hate"}
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-5)
        assert all(0.0 <= v <= 1.0 for v in row.values())
    assert single_clf.predict_batch([]) == []


def test_hf_order_preserved_despite_length_sorting(single_clf: HFSequenceClassifier) -> None:
    batched = single_clf.predict_batch(TEXTS)  # batch_size 2: sorted by length, padded
    alone = [single_clf.predict_batch([t])[0] for t in TEXTS]
    for b, a in zip(batched, alone, strict=True):
        for k in a:
            assert b[k] == pytest.approx(a[k], abs=1e-5)
    # distinct texts give distinct scores, so a shuffled scatter would be caught above
    assert len({round(r["normal"], 6) for r in alone}) > 1


def test_hf_pairs(single_clf: HFSequenceClassifier) -> None:
    pairs = [(t, "this article") for t in TEXTS]
    out = single_clf.predict_batch(pairs)
    assert len(out) == len(pairs)
    assert all(sum(r.values()) == pytest.approx(1.0, abs=1e-5) for r in out)
    texts_only = single_clf.predict_batch(TEXTS)
    assert any(abs(a["normal"] - b["normal"]) > 1e-6 for a, b in zip(out, texts_only, strict=True))
    alone = single_clf.predict_batch([pairs[2]])[0]
    assert out[2]["hate"] == pytest.approx(alone["hate"], abs=1e-5)
    with pytest.raises(TypeError):
        single_clf.predict_batch(["a text", ("a reply", "its target")])


def test_hf_multi_label_sigmoid(hf_multi: Path) -> None:
    clf = HFSequenceClassifier(str(hf_multi), batch_size=3)
    out = clf.predict_batch(TEXTS)
    assert clf.multi_label_
    assert all(set(r) == {"toxic", "obscene", "threat", "insult"} for r in out)
    # independent sigmoids of the logits, not a softmax
    enc = clf._tokenizer([TEXTS[0]], return_tensors="pt")
    with torch.inference_mode():
        expected = torch.sigmoid(clf._net(**enc).logits)[0].tolist()
    assert [out[0][k] for k in clf.labels] == pytest.approx(expected, abs=1e-5)
    assert any(abs(sum(r.values()) - 1.0) > 1e-3 for r in out)


def test_hf_given_labels(hf_single: Path) -> None:
    clf = HFSequenceClassifier(str(hf_single), labels=["ok", "rude", "hateful"])
    assert set(clf.predict_batch(["good"])[0]) == {"ok", "rude", "hateful"}
    with pytest.raises(ModelError, match="3 classes"):
        HFSequenceClassifier(str(hf_single), labels=["a", "b"]).predict_batch(["good"])


def test_hf_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        HFSequenceClassifier(str(tmp_path / "nope")).predict_batch(["x"])
    with pytest.raises(ModelError, match="local Hugging Face cache"):
        HFSequenceClassifier("no-such-org/no-such-model-xyz").predict_batch(["x"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="could not load"):
        HFSequenceClassifier(str(tmp_path / "empty")).predict_batch(["x"])


# -- the toxicity stage's model choice and overall score ------------------------------------------

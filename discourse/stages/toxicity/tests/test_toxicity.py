"""toxicity.v1: the overall-score rule, model kinds, tox-block's port (a tiny random folder for the
preprocessing rules, the shipped weights under ``slow``) and the stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import discourse
from discourse.core.config import build
from discourse.core.errors import ConfigError, ModelError
from discourse.core.modelfiles import models_dir, resolve
from discourse.core.models import ModelSpec, load_model
from discourse.core.thread import Comment, Thread
from discourse.models.hf import HFSequenceClassifier
from discourse.stages.toxicity import ToxicityConfig
from discourse.stages.toxicity.scoring import non_toxic_labels, overall_toxicity
from discourse.stages.toxicity.toxblock import KERAS_FILTERS, ToxBlockClassifier, ToxBlockNet

# -- tiny Hugging Face models ------------------------------------------------------------------


def test_overall_toxicity_rule() -> None:
    assert overall_toxicity({"toxic": 0.2, "insult": 0.7, "threat": 0.1}) == pytest.approx(0.7)
    assert overall_toxicity({"normal": 0.6, "offensive": 0.3, "hate": 0.1}) == pytest.approx(0.4)
    assert overall_toxicity({"non-toxic": 0.9, "toxic": 0.1}) == pytest.approx(0.1)
    assert overall_toxicity({"Neutral": 0.8, "toxic": 0.2}) == pytest.approx(0.2)
    assert overall_toxicity({"LABEL_0": 0.7, "LABEL_1": 0.3}) == pytest.approx(0.3)
    assert overall_toxicity({}) == 0.0
    assert non_toxic_labels(["toxic", "severe_toxic", "obscene"]) == []
    assert non_toxic_labels(["LABEL_0", "toxic"]) == []  # LABEL_0 only among generic names


def test_toxicity_models_resolve_by_their_kind(hf_single: Path) -> None:
    loaded = load_model(ModelSpec(hf_model=str(hf_single)), task="toxicity")
    assert loaded.kind.name == "hf_classifier" and loaded.record is None
    model = loaded.model
    assert isinstance(model, HFSequenceClassifier) and model._net is None  # nothing loaded yet
    scores = model.predict_batch(["you are an idiot"])[0]
    assert overall_toxicity(scores) == pytest.approx(1.0 - scores["normal"])
    shipped = load_model(ModelSpec(name="tox-block-0.1.2"), task="toxicity")
    assert isinstance(shipped.model, ToxBlockClassifier) and shipped.kind.name == "toxblock"
    assert shipped.record is not None and shipped.model.record() is shipped.record  # verified once
    with pytest.raises(ConfigError, match="exactly one of name"):
        build(ToxicityConfig, {"model": {}}, "stages.toxicity.v1")
    with pytest.raises(ConfigError, match="unknown key 'colour'; valid keys: name, path, hf_model"):
        build(ToxicityConfig, {"model": {"hf_model": str(hf_single), "colour": "red"}}, "stages.toxicity.v1")
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        load_model(ModelSpec(name="no-such-model"), task="toxicity")
    with pytest.raises(ConfigError, match="is a stance model"):
        load_model(ModelSpec(name="stance-minilm-v1"), task="toxicity")


def _thread() -> Thread:
    return Thread(
        id="t",
        title="a title",
        comments=(
            Comment("c1", "you are an idiot and i hate you"),
            Comment("c2", "thank you for your kind words", parent_id="c1"),
            Comment("c3", "good", parent_id="c1"),
        ),
    )


def test_toxicity_stage_with_hf_folder(hf_single: Path) -> None:
    cfg = {"pipeline": ["toxicity.v1"], "stages": {"toxicity.v1": {"model": {"hf_model": str(hf_single)}}}}
    result = discourse.analyze(_thread(), config=cfg)
    for cid in ("c1", "c2", "c3"):
        tox = result.toxicity(cid)
        assert tox is not None and tox.model == f"hf:{hf_single}"
        assert set(tox.labels) == {"normal", "offensive", "hate"}
        assert tox.score == pytest.approx(1.0 - tox.labels["normal"])
    assert f"hf:{hf_single}" in {m.name for m in result.models}


@pytest.mark.slow
def test_full_pipeline_with_hf_toxicity(hf_single: Path) -> None:
    """End to end with the default stages and a user's Hugging Face folder for toxicity."""
    cfg = {"stages": {"toxicity.v1": {"model": {"hf_model": str(hf_single)}}}}
    result = discourse.analyze(_thread(), config=cfg)
    alone = HFSequenceClassifier(str(hf_single)).predict_batch([c.text for c in _thread().comments])
    for c, expected in zip(_thread().comments, alone, strict=True):
        tox = result.toxicity(c.id)
        assert tox.labels == pytest.approx(expected, abs=1e-5)  # the same scores as the model alone
        assert tox.score == pytest.approx(overall_toxicity(expected), abs=1e-5)
    names = [m["name"] for m in result.to_json()["models"]]  # no reply-link model: the links are given
    # the encoder, its token probe (evidence for any toxicity model), the user's model, stance
    assert result.stance("c2").target_id == "c1"
    assert names[1:] == ["tox-spans-v1", f"hf:{hf_single}", "stance-pair-minilm-v1"]


# -- tox-block preprocessing, on a tiny random folder with the real model.json rules ---------------
TINY_VOCAB = {w: i for i, w in enumerate(["you", "are", "an", "idiot", "don't", "hate", "kind", "words"], 1)}


@pytest.fixture(scope="session")
def tiny_toxblock(tmp_path_factory: pytest.TempPathFactory) -> ToxBlockClassifier:
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("toxblock")
    meta = json.loads((models_dir() / "tox-block-0.1.2" / "model.json").read_text(encoding="utf-8"))
    meta["architecture"].update(vocab_size=20, embedding_dim=4, lstm_units=3, dense_units=5)
    meta["preprocessing"]["num_words"] = 20
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    vocab = {**TINY_VOCAB, "rare": 25}  # id >= num_words: Keras ignores it
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    torch.manual_seed(0)
    net = ToxBlockNet(20, 4, 3, 5, 6)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.5)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(folder / "model.safetensors"))
    return ToxBlockClassifier("tiny-toxblock", folder=folder)


def test_toxblock_preprocessing(tiny_toxblock: ToxBlockClassifier) -> None:
    v = TINY_VOCAB
    # lower-case; every Keras filter character is a space; the apostrophe is not a filter
    assert tiny_toxblock.known_ids("You,ARE!an\tIDIOT") == [v["you"], v["are"], v["an"], v["idiot"]]
    assert tiny_toxblock.known_ids(KERAS_FILTERS.join(["you", "hate"])) == [v["you"], v["hate"]]
    assert tiny_toxblock.known_ids("DON'T you") == [v["don't"], v["you"]]
    # unknown words are dropped (no OOV id), as are words with ids >= num_words
    assert tiny_toxblock.known_ids("qwzx you rare zzz idiot") == [v["you"], v["idiot"]]
    # pre-padding with 0
    row = tiny_toxblock.encode(["you are"])[0].tolist()
    assert len(row) == 100 and row[-2:] == [v["you"], v["are"]] and set(row[:-2]) == {0}
    # a long text keeps its LAST 100 known words
    words = ["kind", "zzz", "words"] * 60 + ["hate"] * 10 + ["idiot"]
    ids = [v[w] for w in words if w in v]
    row = tiny_toxblock.encode([" ".join(words)])[0].tolist()
    assert row == ids[-100:] and row[-1] == v["idiot"]


def test_toxblock_predict_and_explain_tiny(tiny_toxblock: ToxBlockClassifier) -> None:
    texts = ["you are an idiot", "kind words", "", "zzz qqq"]
    out = tiny_toxblock.predict_batch(texts)
    assert [set(r) for r in out] == [set(tiny_toxblock.labels)] * 4
    assert out[2] == out[3]  # no known words = the all-padding input
    assert tiny_toxblock.predict_batch([("kind words", "a target")]) == [out[1]]
    for text, ev in zip(texts, tiny_toxblock.explain(texts, top_k=2), strict=True):
        assert len(ev) <= 2 and all(w in text.lower().split() for w in ev)


# -- the shipped tox-block weights -----------------------------------------------------------------
REFERENCE = {  # raw outputs of the original package under TensorFlow (shared/STACK.md)
    "You are an idiot and I hate you": {"toxic": 0.995, "insult": 0.946, "threat": 0.012},
    "Thank you for your kind words": {"toxic": 0.0015, "insult": 0.0002, "threat": 0.0001},
    "I will kill you": {"toxic": 0.941, "insult": 0.414, "threat": 0.937},
    "CIA trolls and hasbarats will cry and rage.": {"toxic": 0.184, "insult": 0.015, "threat": 0.008},
}


@pytest.fixture(scope="session")
def toxblock() -> ToxBlockClassifier:
    return ToxBlockClassifier()


@pytest.mark.slow
def test_toxblock_reference_outputs(toxblock: ToxBlockClassifier) -> None:
    out = toxblock.predict_batch(list(REFERENCE))
    for row, (text, ref) in zip(out, REFERENCE.items(), strict=True):
        assert set(row) == set(toxblock.labels)
        for label, value in ref.items():
            assert row[label] == pytest.approx(value, abs=1e-3), (text, label)
    assert toxblock.record().files == resolve("tox-block-0.1.2")[1].files


@pytest.mark.slow
def test_toxblock_real_vocab_preprocessing(toxblock: ToxBlockClassifier) -> None:
    vocab = toxblock._vocab
    expected = [vocab[w] for w in ("you", "are", "an", "idiot")]
    assert toxblock.known_ids("You, ARE an IDIOT!!! qwzxvq") == expected
    long = "hello " * 150 + "you are an idiot"
    row = toxblock.encode([long])[0].tolist()
    assert row[-4:] == [vocab[w] for w in ("you", "are", "an", "idiot")] and row[0] == vocab["hello"]
    assert all(0 < i < 20000 for i in vocab.values())


@pytest.mark.slow
def test_toxblock_explain_words_in_text(toxblock: ToxBlockClassifier) -> None:
    texts = ["You are an idiot and I hate you", "I will kill you", "Thank you for your kind words"]
    ev = toxblock.explain(texts)
    assert "idiot" in ev[0] and "kill" in ev[1]
    for text, words in zip(texts, ev, strict=True):
        assert all(w in text.lower().split() for w in words)


@pytest.mark.slow
def test_toxblock_corrupted_copy_fails_sha256(tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(models_dir() / "tox-block-0.1.2", root / "tox-block-0.1.2")
    shutil.copy(models_dir() / "registry.json", root / "registry.json")
    assert ToxBlockClassifier(root=root).predict_batch(["fine"])  # an intact copy loads
    weights = root / "tox-block-0.1.2" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256 mismatch for model.safetensors"):
        ToxBlockClassifier(root=root).predict_batch(["fine"])


@pytest.mark.slow
def test_toxicity_stage_toxblock_alone() -> None:
    cfg = {"pipeline": ["toxicity.v1"], "stages": {"toxicity.v1": {"model": {"name": "tox-block-0.1.2"}}}}
    result = discourse.analyze(_thread(), config=cfg)
    tox = result.toxicity("c1")
    assert tox is not None and tox.model == "tox-block-0.1.2"
    assert tox.score == pytest.approx(max(tox.labels.values())) and tox.score > 0.9
    assert tox.evidence and all(w in "you are an idiot and i hate you".split() for w in tox.evidence)
    assert result.toxicity("c2").score < 0.2  # type: ignore[union-attr]
    assert np.isfinite([result.toxicity(c).score for c in ("c1", "c2", "c3")]).all()  # type: ignore[union-attr]


@pytest.mark.slow
def test_toxblock_explanations_name_the_insult_not_the_filler(toxblock: ToxBlockClassifier) -> None:
    (words,) = toxblock.explain(["Honestly you are an idiot, go away"])
    assert words and words[0] == "idiot"
    assert not {"an", "are", "honestly"} & set(words)


HEAD = {"pipeline": ["encode.v1", "toxicity.v1"], "stages": {"toxicity.v1": {"model": {"name": "tox-minilm-v1"}}}}


@pytest.mark.slow
def test_toxicity_stage_with_the_head() -> None:
    """The opt-in head: tox-minilm-v1 over the real encoder vectors, tox-block as its feature model."""
    result = discourse.analyze(_thread(), config=HEAD)
    tox = result.toxicity("c1")
    assert tox is not None and tox.model == "tox-minilm-v1"
    assert {"toxicity", "insult", "threat", "identity_attack", "profanity", "severe_toxicity", "toxic"} <= set(
        tox.labels
    )
    assert tox.score == tox.labels["toxicity"] and tox.score > 0.8
    assert result.toxicity("c2").score < tox.score and result.toxicity("c3").score < tox.score  # type: ignore[union-attr]
    text = _thread().comments[0].text
    assert tox.evidence and all(set(text[b:e].lower().split()) <= set(tox.evidence) for b, e in tox.evidence_spans)
    assert {"tox-minilm-v1", "tox-block-0.1.2"} <= {m.name for m in result.models}


@pytest.mark.slow
def test_the_default_reads_a_long_comment_whole() -> None:
    """A toxic sentence followed by 260 ordinary words (tox-block on its last 100 words: 0.0002)."""
    from discourse.train.toxicity_spans import long_case_text

    text = long_case_text()
    thread = Thread(id="t", title="", comments=(Comment("c1", text), Comment("c2", "Thank you for your kind words")))
    for config in ({"pipeline": ["encode.v1", "toxicity.v1"]}, HEAD):  # tox-block alone (default), and the head
        result = discourse.analyze(thread, config=config)
        long, polite = result.toxicity("c1"), result.toxicity("c2")
        assert long is not None and polite is not None
        assert long.labels["toxic"] > 0.8 and long.score > 0.5 and long.score > 5 * polite.score
        assert "idiot" in long.evidence and any("idiot" in text[b:e] for b, e in long.evidence_spans)
        assert all(e <= text.index(".") + 1 for _, e in long.evidence_spans)  # only the toxic sentence

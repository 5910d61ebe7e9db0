"""Converting tox-block (discourse.train.convert_toxblock) without the tox-block package: the
restricted unpickler, the Keras weights file and the weight layout, checked against a numpy
re-implementation of the Keras model."""

from __future__ import annotations

import json
import os
import pickle
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from discourse.train import convert_toxblock as conv
from discourse.train.toxblock_card import REFERENCE, licence_text, model_card


# -- the tokenizer pickle ----------------------------------------------------------------------------
@pytest.fixture
def fake_keras_modules(monkeypatch: pytest.MonkeyPatch) -> tuple[type, type]:
    """Classes under the module names the real pickle refers to, so one can be written here."""
    text = types.ModuleType("keras_preprocessing.text")
    pre = types.ModuleType("tox_block.data_processing.preprocessors")

    class Tokenizer:
        pass

    class TokenSequencer:
        pass

    Tokenizer.__module__, Tokenizer.__qualname__ = text.__name__, "Tokenizer"
    TokenSequencer.__module__, TokenSequencer.__qualname__ = pre.__name__, "TokenSequencer"
    text.Tokenizer, pre.TokenSequencer = Tokenizer, TokenSequencer  # type: ignore[attr-defined]
    for module in (text, pre):
        parts = module.__name__.split(".")
        for k in range(1, len(parts)):  # pickle imports the module by name: its packages too
            monkeypatch.setitem(sys.modules, ".".join(parts[:k]), types.ModuleType(".".join(parts[:k])))
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return Tokenizer, TokenSequencer


def _sequencer(classes: tuple[type, type], **kw: object) -> object:
    tok_cls, seq_cls = classes
    tok = tok_cls()
    tok.__dict__.update(word_index={"idiot": 1, "hate": 2}, split=" ", lower=True, filters="!?", oov_token=None)
    seq = seq_cls()
    seq.__dict__.update({"tokenizer": tok, "max_features": conv.MAX_FEATURES, "max_sequence_length": conv.MAXLEN, **kw})
    return seq


def test_the_tokenizer_pickle_loads_into_inert_stand_ins(fake_keras_modules: tuple, tmp_path: Path) -> None:
    path = tmp_path / "encoder.pkl"
    path.write_bytes(pickle.dumps(_sequencer(fake_keras_modules)))
    tok = conv.load_tokenizer(path)
    assert type(tok) is conv.TokenizerStandIn
    assert tok.word_index == {"idiot": 1, "hate": 2} and tok.split == " " and tok.lower is True


def test_the_tokenizer_pickle_must_match_the_port(fake_keras_modules: tuple, tmp_path: Path) -> None:
    path = tmp_path / "encoder.pkl"
    path.write_bytes(pickle.dumps(_sequencer(fake_keras_modules, max_sequence_length=50)))
    with pytest.raises(SystemExit, match="max_sequence_length"):
        conv.load_tokenizer(path)


def test_any_other_global_in_the_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(os.getcwd))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        conv.load_tokenizer(path)


def test_tokenizer_vocab_keeps_the_embedded_ids() -> None:
    words = {f"w{i}": i for i in range(1, conv.MAX_FEATURES + 5)}
    tok = SimpleNamespace(word_index=words, split=" ", oov_token=None, char_level=False)
    vocab = conv.tokenizer_vocab(tok)  # type: ignore[arg-type]
    assert len(vocab) == conv.MAX_FEATURES - 1 and max(vocab.values()) == conv.MAX_FEATURES - 1
    with pytest.raises(SystemExit, match="OOV"):
        conv.tokenizer_vocab(SimpleNamespace(**{**tok.__dict__, "oov_token": "<unk>"}))  # type: ignore[arg-type]
    with pytest.raises(SystemExit, match="expected 19999 words"):
        conv.tokenizer_vocab(SimpleNamespace(**{**tok.__dict__, "word_index": {"a": 1}}))  # type: ignore[arg-type]


# -- the Keras weights --------------------------------------------------------------------------------
E, H, D, V = 3, 2, 4, 12  # embedding, LSTM units, dense units, vocabulary of the small stand-in


def keras_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays in Keras layout: kernels (in, 4H) with gates i, f, c, o."""
    rng = np.random.default_rng(seed)
    shapes = {
        "emb": (V, E), "fk": (E, 4 * H), "fr": (H, 4 * H), "fb": (4 * H,), "bk": (E, 4 * H), "br": (H, 4 * H),
        "bb": (4 * H,), "d1k": (2 * H, D), "d1b": (D,), "d2k": (D, 6), "d2b": (6,),
    }  # fmt: skip
    return {k: rng.normal(size=s).astype(np.float32) for k, s in shapes.items()}


def keras_forward(g: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    """The Keras model in numpy: Embedding -> BiLSTM(hard_sigmoid) -> max pool -> Dense -> Dense."""

    def hs(x: np.ndarray) -> np.ndarray:
        return np.clip(0.2 * x + 0.5, 0.0, 1.0)

    def lstm(xs: np.ndarray, k: np.ndarray, r: np.ndarray, b: np.ndarray) -> np.ndarray:
        h, c, out = np.zeros(H), np.zeros(H), []
        for x in xs:
            z = x @ k + h @ r + b
            i, f, cc, o = z[:H], z[H : 2 * H], z[2 * H : 3 * H], z[3 * H :]
            c = hs(f) * c + hs(i) * np.tanh(cc)
            h = hs(o) * np.tanh(c)
            out.append(h)
        return np.array(out)

    xs = g["emb"][ids]
    seq = np.concatenate([lstm(xs, g["fk"], g["fr"], g["fb"]), lstm(xs[::-1], g["bk"], g["br"], g["bb"])[::-1]], 1)
    dense = np.maximum(seq.max(axis=0) @ g["d1k"] + g["d1b"], 0.0)
    return 1 / (1 + np.exp(-(dense @ g["d2k"] + g["d2b"])))


def test_torch_state_reproduces_the_keras_model() -> None:
    import torch

    from discourse.stages.toxicity.toxblock import ToxBlockNet

    g = keras_arrays()
    net = ToxBlockNet(vocab_size=V, embedding_dim=E, lstm_units=H, dense_units=D)
    net.load_state_dict(conv.to_torch_state(g), strict=True)  # names and shapes of the runtime model
    ids = [3, 7, 1, 11, 5]
    with torch.no_grad():
        got = net(torch.tensor([ids])).numpy()[0]
    np.testing.assert_allclose(got, keras_forward(g, ids), atol=1e-5)


def keras_config(**change: object) -> dict:
    lstm = {"units": 50, "return_sequences": True, "activation": "tanh", "recurrent_activation": "hard_sigmoid",
            "use_bias": True}  # fmt: skip
    layers = [
        {"class_name": "Embedding", "name": "embedding", "config": {"input_dim": 20000, "output_dim": 50,
                                                                     "mask_zero": False}},
        {"class_name": "Bidirectional", "name": "bidirectional",
         "config": {"merge_mode": "concat", "layer": {"config": {**lstm, **change}}}},
        {"class_name": "GlobalMaxPooling1D", "name": "pool", "config": {}},
        {"class_name": "Dense", "name": "dense", "config": {"activation": "relu", "units": 50}},
        {"class_name": "Dense", "name": "dense_1", "config": {"activation": "sigmoid", "units": 6}},
    ]  # fmt: skip
    return {"config": {"layers": layers}}


def write_h5(path: Path, config: dict, g: dict[str, np.ndarray]) -> Path:
    h5py = pytest.importorskip("h5py")
    names = {
        "emb": "embedding/embedding/embeddings:0",
        "fk": "bidirectional/bidirectional/forward_lstm/kernel:0",
        "fr": "bidirectional/bidirectional/forward_lstm/recurrent_kernel:0",
        "fb": "bidirectional/bidirectional/forward_lstm/bias:0",
        "bk": "bidirectional/bidirectional/backward_lstm/kernel:0",
        "br": "bidirectional/bidirectional/backward_lstm/recurrent_kernel:0",
        "bb": "bidirectional/bidirectional/backward_lstm/bias:0",
        "d1k": "dense/dense/kernel:0",
        "d1b": "dense/dense/bias:0",
        "d2k": "dense_1/dense_1/kernel:0",
        "d2b": "dense_1/dense_1/bias:0",
    }
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config).encode("utf-8")
        f.attrs["keras_version"] = b"2.2.4-tf"
        for key, name in names.items():
            f.create_dataset(f"model_weights/{name}", data=g[key])
    return path


def test_keras_weights_are_read_from_the_h5_file(tmp_path: Path) -> None:
    g = keras_arrays(1)
    got, info = conv.load_keras_weights(write_h5(tmp_path / "m.h5", keras_config(), g))
    assert info == {"keras_version": "2.2.4-tf"}
    assert set(got) == set(g) and all(np.array_equal(got[k], g[k]) for k in g)


def test_another_architecture_is_refused(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "m.h5", keras_config(recurrent_activation="sigmoid"), keras_arrays())
    with pytest.raises(SystemExit, match="unexpected Keras model config"):
        conv.load_keras_weights(path)


# -- checking the port and the documents ----------------------------------------------------------------
def test_reference_outputs_must_round_to_the_recorded_digits() -> None:
    exact = {t: dict(ref) for t, ref in REFERENCE.items()}
    assert conv.reference_errors(exact) == (0.0, [])
    close = {t: {k: v + 4e-4 if v > 0.1 else v for k, v in ref.items()} for t, ref in REFERENCE.items()}
    err, off = conv.reference_errors(close)
    assert err == pytest.approx(4e-4) and off == []  # 0.995 + 0.0004 still rounds to 0.995
    wrong = {t: {k: v + 0.01 for k, v in ref.items()} for t, ref in REFERENCE.items()}
    assert len(conv.reference_errors(wrong)[1]) == sum(len(r) for r in REFERENCE.values())


def test_model_meta_and_card(tmp_path: Path) -> None:
    (tmp_path / "m.h5").write_bytes(b"h5")
    (tmp_path / "e.pkl").write_bytes(b"pkl")
    tok = SimpleNamespace(lower=True, filters="!?", split=" ")
    meta = conv.model_meta(tok, "2.2.4-tf", tmp_path / "m.h5", tmp_path / "e.pkl", "https://example.org")  # type: ignore[arg-type]
    assert meta["kind"] == "toxblock" and meta["labels"] == list(conv.LABELS)
    assert meta["source"]["file"] == "tox_block/trained_models/m.h5" and len(meta["source"]["h5_sha256"]) == 64
    repro = {t: {k: v for k, v in ref.items()} for t, ref in REFERENCE.items()}
    card = model_card(meta, repro, 1e-4, None)
    assert "Run `scripts/eval_toxicity.py`" in card and meta["source"]["h5_sha256"] in card
    report = {
        "jigsaw_test_sample": {"auroc_per_label": {"toxic": 0.9}, "n_any": 13, "auroc_overall_vs_any": 0.95},
        "hatexplain": {"n": 10, "auroc_overall": 0.66, "f1_at_0.5": 0.6, "precision_at_0.5": 0.7,
                       "recall_at_0.5": 0.5},
    }  # fmt: skip
    assert "AUROC **0.660**" in model_card(meta, repro, 1e-4, report)


def test_licence_falls_back_to_the_mit_text(tmp_path: Path) -> None:
    dist = SimpleNamespace(files=[], metadata={"Author": "Pascal Bliem"})
    text = licence_text(dist, tmp_path)  # type: ignore[arg-type]
    assert text.startswith("MIT License") and "Copyright (c) 2020 Pascal Bliem" in text
    (tmp_path / "LICENSE").write_text("the package's own licence\n", encoding="utf-8")
    assert licence_text(dist, tmp_path) == "the package's own licence\n"  # type: ignore[arg-type]

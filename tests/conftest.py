from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data() -> Path | None:
    env = os.environ.get("DISCOURSE_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data"]:
        if (cand / "README.md").exists():
            return cand
    return None


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_data()
    if path is None:
        pytest.skip("../shared/data is not present (set DISCOURSE_SHARED_DATA to run this test)")
    return path


@pytest.fixture(scope="session")
def reference_thread(shared: Path) -> Path:
    return shared / "threads" / "idlib_patrol_thread.txt"


# -- tiny random models: the whole pipeline in tests without the real encoder ---------------------
TINY_WORDS = (
    "the a an is are was i you we he she it they not no yes and or but to of in on for with this that "
    "agree disagree think vote stadium money jobs public private town thank hello priya marco dan "
    "points respected again still data parking debt years visitors spend bike lanes script alert "
    "onerror img src idiot hate kill good bad why how what when can give example"
).split()


def _tiny_vocab() -> dict[str, int]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    punct = list(".,!?;:'\"()<>/=-@#&")
    return {w: i for i, w in enumerate([*specials, *punct, *TINY_WORDS])}


def build_tiny_encoder(folder: Path, hidden: int = 32) -> Path:
    """A 2-layer random BERT with a fast tokenizer (offsets needed), saved like a hub folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    vocab_file = folder / "vocab.txt"
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file.write_text("\n".join(_tiny_vocab()) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    cfg = BertConfig(
        vocab_size=len(_tiny_vocab()),
        hidden_size=hidden,
        num_hidden_layers=2,  # type: ignore[call-arg]
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(0)
    BertModel(cfg).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_tiny_classifier(folder: Path, labels: list[str], hidden: int = 16) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(_tiny_vocab()) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True)
    cfg = BertConfig(
        vocab_size=len(_tiny_vocab()),
        hidden_size=hidden,
        num_hidden_layers=2,  # type: ignore[call-arg]
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=256,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={k: i for i, k in enumerate(labels)},
    )
    torch.manual_seed(1)
    BertForSequenceClassification(cfg).eval().save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A config running every stage with tiny random models (encoder and stance) and the
    shipped tox-block (4 MB, fast): exercises the real code paths in well under a second."""
    root = tmp_path_factory.mktemp("tiny_models")
    enc = build_tiny_encoder(root / "encoder")
    stance = build_tiny_classifier(root / "stance", ["agree", "disagree", "neutral", "query"])
    return {
        "stages": {
            "encode.v1": {"model": str(enc), "dtype": "fp32", "max_length": 64, "batch_size": 8},
            "stance.v1": {"model": {"hf_model": str(stance)}},
        },
    }

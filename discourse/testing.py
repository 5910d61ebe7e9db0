"""Test helpers for discourse and its plug-ins: tiny random models built in a few hundred
milliseconds (so a test runs the real code paths without the real encoder), and a sample
thread in the scraped flat style of the reference thread. Nothing here is used at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

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
    from transformers import BertConfig, BertModel, BertTokenizerFast  # type: ignore[attr-defined]

    vocab_file = folder / "vocab.txt"
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file.write_text("\n".join(_tiny_vocab()) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)  # transformers 5 ignores vocab_file=
    cfg = BertConfig(
        vocab_size=len(_tiny_vocab()),
        hidden_size=hidden,
        num_hidden_layers=2,
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
    from transformers import (  # type: ignore[attr-defined]
        BertConfig,
        BertForSequenceClassification,
        BertTokenizerFast,
    )

    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(_tiny_vocab()) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)  # transformers 5 ignores vocab_file=
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


CLASSIFIER_WORDS = (
    "you are an idiot and i hate thank for your kind words will kill the a is good bad "
    "this comment reply article people think no yes"
).split()


def tiny_bert_classifier(folder: Path, labels: list[str], multi_label: bool = False, seed: int = 0) -> Path:
    """A 2-layer random BERT sequence classifier over a small word vocabulary, saved like a hub folder."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *CLASSIFIER_WORDS])}
    tokenizer = BertTokenizer(vocab=vocab)
    config = BertConfig(  # type: ignore[call-arg]
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={k: i for i, k in enumerate(labels)},
        problem_type="multi_label_classification" if multi_label else "single_label_classification",
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_config(root: Path) -> dict:
    """A user config running every stage with tiny random models (encoder and stance, built
    under ``root``) and the shipped tox-block (4 MB, fast)."""
    enc = build_tiny_encoder(root / "encoder")
    stance = build_tiny_classifier(root / "stance", ["agree", "disagree", "neutral", "query"])
    return {
        "stages": {
            "encode.v1": {"model": str(enc), "dtype": "fp32", "max_length": 64, "batch_size": 8},
            "stance.v1": {"model": {"hf_model": str(stance)}},
            "toxicity.v1": {"model": {"name": "tox-block-0.1.2"}},  # the default head needs the real encoder
            "reply_graph.v1": {"model": {"name": "reply-links-v1"}},  # reply-links-v2 needs real similarities
        },
    }


def shared_data(repo: Path | None = None) -> Path | None:
    """``../shared/data`` beside the checkout (or ``$DISCOURSE_SHARED_DATA``), if present."""
    repo = repo or Path(__file__).resolve().parents[1]
    env = os.environ.get("DISCOURSE_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [repo.parent / "shared" / "data", repo.parents[1] / "shared" / "data"]:
        if (cand / "README.md").exists():
            return cand
    return None


# -- a sample thread -----------------------------------------------------------------------------


DEBATE = """Town Votes On New Stadium

The town will vote next week on funding a new stadium.


Priya Raman

Public money should never pay for private stadiums.


Hello Priya. I am going to disagree with you. Stadiums bring jobs and visitors.

Priya Raman

Marco thank you. The studies show the jobs are temporary and low paid.


Okay, thank you for your reply. I still disagree, the visitors spend money in town.

Priya Raman

Thank you Marco. Maybe, but the debt stays for thirty years.


Again, I disagree. We will let this go for now.

Priya Raman

Your points are respected.

Dan Osei

Does anyone know when the vote is exactly?
"""

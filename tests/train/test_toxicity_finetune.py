"""The end-to-end toxicity fine-tuning experiment (discourse.train.toxicity_finetune), on a tiny random
BERT: folds never train on the held-out source or jigsaw-sample, sampling caps and balances each
source, training is seeded and learns, the fp16 weights reload to the same scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discourse.testing import build_tiny_encoder
from discourse.train.toxicity_data import Table
from discourse.train.toxicity_finetune import (
    Settings,
    blended,
    folds,
    load_fp16,
    load_net,
    predict,
    sample_rows,
    save_fp16,
    tokenize,
    tokenizer,
    train,
)
from discourse.train.toxicity_fit import auroc

TOXIC = ["you idiot", "i hate you", "kill them", "you are bad", "idiot and hate"]
CIVIL = ["thank you", "i agree with you", "hello priya", "good points", "i still disagree"]


def _table() -> Table:
    t = Table()
    for src in ("hatexplain", "ruddit", "stormfront", "jigsaw-sample"):
        for i in range(20):
            t.add(TOXIC[i % 5] if i % 2 else CIVIL[i % 5], src, i % 2, f"{i // 2}")
    for i in range(12):
        t.add(TOXIC[i % 5], "toxic-spans", 1, str(i))
    return t


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> str:
    from transformers import BertTokenizerFast  # type: ignore[attr-defined]

    folder = build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"))
    # transformers 5 ignores ``vocab_file=``: the helper's tokenizer reads every word as [UNK]
    BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True).save_pretrained(folder)
    assert 1 not in tokenizer(str(folder))("you idiot")["input_ids"]  # 1 = [UNK]
    return str(folder)


def _fit(tiny: str, s: Settings) -> tuple[object, list, np.ndarray]:
    import torch

    torch.set_num_threads(1)
    t = _table()
    src, lab, _ = t.arrays()
    tr = folds(t, ["hatexplain"], s)[0].train_idx
    encs, _ = tokenize(tokenizer(tiny), t.text, s.max_length)
    net = load_net(tiny, s.seed)
    train(net, [encs[i] for i in tr], lab[tr], np.ones(len(tr)), s, lambda m: None)
    return net, encs, lab


def test_folds_hold_out_the_source_and_never_train_on_jigsaw() -> None:
    t = _table()
    src, lab, _ = t.arrays()
    for f in folds(t, ["hatexplain", "ruddit", "stormfront"], Settings(per_source=8)):
        trained = set(src[f.train_idx].tolist())
        assert f.held_out not in trained and "jigsaw-sample" not in trained
        assert (src[f.test_idx] == f.held_out).all() and len(f.test_idx) == 20  # scored on all its rows
        for s in trained - {"toxic-spans"}:  # at most 4 of each class, balanced
            assert np.bincount(lab[f.train_idx][src[f.train_idx] == s]).tolist() == [4, 4]
        assert (src[f.train_idx] == "toxic-spans").sum() == 4
    a = sample_rows(t, ["ruddit"], 8, 0)
    assert a.tolist() == sample_rows(t, ["ruddit"], 8, 0).tolist() != sample_rows(t, ["ruddit"], 8, 1).tolist()


def test_long_texts_keep_their_first_tokens(tiny: str) -> None:
    tok = tokenizer(tiny)
    long = " ".join(["hello"] * 10 + ["idiot"] * 30)
    encs, cut = tokenize(tok, ["thank you", long], 16)
    assert cut.tolist() == [False, True]
    ids = encs[1].input_ids
    assert len(ids) == 16 and ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert tok.convert_ids_to_tokens(ids[1:11]) == ["hello"] * 10 and encs[1].token_type_ids == [0] * 16


def test_training_is_seeded_learns_and_the_fp16_weights_reload(tiny: str, tmp_path: Path) -> None:
    s = Settings(lr=2e-3, batch_size=4, bf16=False, max_length=16)
    net, encs, lab = _fit(tiny, s)
    again, _, _ = _fit(tiny, s)
    other, _, _ = _fit(tiny, Settings(lr=2e-3, batch_size=4, bf16=False, max_length=16, seed=1))
    z = predict(net, encs, bf16=False)
    assert np.array_equal(z, predict(again, encs, bf16=False))
    assert not np.allclose(z, predict(other, encs, bf16=False))
    held = np.arange(20)  # the hatexplain rows: never trained on, same texts as the others
    assert auroc(lab[held], z[held]) > 0.9
    save_fp16(net, tmp_path / "w.safetensors")
    back = load_fp16(load_net(tiny, 5), tmp_path / "w.safetensors")
    np.testing.assert_allclose(predict(back, encs, bf16=False), z, atol=0.02)


def test_the_blend_is_a_mix_of_z_scores() -> None:
    ft, tox = np.array([0.0, 2.0, 4.0]), np.array([1.0, 1.0, 3.0])
    stats = (2.0, 2.0, 1.0, 0.5)
    assert blended(ft, tox, stats, 0.0).tolist() == [-1.0, 0.0, 1.0]
    assert blended(ft, tox, stats, 0.5).tolist() == [-0.5, 0.0, 2.5]

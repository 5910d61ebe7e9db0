"""The tiny random models that tests and plug-in authors build read their words (transformers 5
ignores ``BertTokenizerFast(vocab_file=...)``: every word was [UNK], so the tests that use them
compared one embedding with itself)."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from discourse.testing import TINY_WORDS, build_tiny_classifier, build_tiny_encoder


def test_tiny_tokenizers_know_their_words(tmp_path: Path) -> None:
    for folder in (build_tiny_encoder(tmp_path / "enc"), build_tiny_classifier(tmp_path / "cls", ["a", "b"])):
        tok = AutoTokenizer.from_pretrained(str(folder))
        ids = tok(" ".join(TINY_WORDS[:20]), add_special_tokens=False)["input_ids"]
        assert len(ids) == 20 and tok.unk_token_id not in ids

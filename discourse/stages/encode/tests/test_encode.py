"""encode.v1: the shared encoder pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discourse.stages.encode.encoder import SentenceEncoder, token_batches
from discourse.stages.encode.store import StoreWriter
from discourse.testing import DEBATE as BASE_DEBATE
from discourse.text import sentence_spans

REPO = Path(__file__).resolve().parents[1]

# The reply-graph tests' debate, with markup in the last comment that must never run in the report.
DEBATE = BASE_DEBATE.replace(
    "Does anyone know when the vote is exactly?",
    "<script>alert('x')</script> <img src=x onerror=alert(1)> why is this vote so quiet?",
)
assert DEBATE != BASE_DEBATE


def test_encoding_in_slices_matches_one_pass(tiny_config: dict) -> None:
    enc = SentenceEncoder(**tiny_config["stages"]["encode.v1"])
    texts = [("hello priya. " * (k % 7 + 1)) + f"vote {k}. why?" for k in range(23)]
    whole, sliced = enc.encode(texts), enc.encode(texts, slice_size=5)
    assert np.allclose(whole.vectors, sliced.vectors, atol=1e-5)
    assert list(whole.sentence_spans) == list(sliced.sentence_spans)
    assert whole.sentence_spans[3] == [(s, e) for s, e in sentence_spans(texts[3])]
    pairs = zip(whole.sentence_vectors, sliced.sentence_vectors, strict=True)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in pairs)
    assert list(whole.n_tokens) == list(sliced.n_tokens) and whole.capped == sliced.capped


def test_a_big_pass_moves_sentence_vectors_off_the_heap_and_reads_back_the_same(tiny_config: dict) -> None:
    enc = SentenceEncoder(**tiny_config["stages"]["encode.v1"])
    texts = [f"Point {k}. " * (k % 5) + "Why? Because." for k in range(40)]
    kept = enc.encode(texts)
    assert not kept.sentences.spilled
    spilled = enc.encode(texts, slice_size=7, spill_bytes=1024)
    assert spilled.sentences.spilled
    assert isinstance(spilled.sentence_vectors[0], np.memmap)
    assert isinstance(spilled.sentences._spans, np.memmap)  # the spans too (a token store is mostly spans)
    for k in range(len(texts)):
        assert spilled.sentence_spans[k] == kept.sentence_spans[k]
        assert np.allclose(spilled.sentence_vectors[k], kept.sentence_vectors[k], atol=2e-3)
    part = spilled.rows(10, 20)  # one thread's rows of a group's pass
    assert len(part.sentence_spans) == 10 and part.sentence_spans[0] == kept.sentence_spans[10]
    assert np.array_equal(part.sentence_vectors[-1], spilled.sentence_vectors[19])


def test_store_keeps_texts_without_sentences_and_any_text_order() -> None:
    w = StoreWriter(4, 3, spill_bytes=0)  # spills at once
    w.add([2, 0], [[(0, 3), (4, 9)], []], [np.ones((2, 3)), np.zeros((0, 3))])
    w.add([3, 1], [[(1, 2)], [(0, 1)]], [np.full((1, 3), 2.0), np.full((1, 3), 3.0)])
    store = w.build()
    assert store.spilled and len(store) == 4
    assert store.spans(0) == [] and store.vectors(0).shape == (0, 3)
    assert store.spans(2) == [(0, 3), (4, 9)] and store.vectors(2).tolist() == [[1.0] * 3] * 2
    assert store.vectors(1).tolist() == [[3.0] * 3] and store.vectors(3).tolist() == [[2.0] * 3]
    with pytest.raises(IndexError):
        store.span_lists()[4]


def test_batches_are_bounded_by_count_and_by_padded_tokens() -> None:
    widths = [258] * 40 + [100] * 100 + [12] * 10
    batches = token_batches(widths, max_count=64, max_tokens=8192)
    assert [k for b in batches for k in b] == list(range(150))  # every item once, in order
    for b in batches:
        assert len(b) <= 64 and (len(b) == 1 or len(b) * widths[b[0]] <= 8192)
    assert len(batches[0]) == 31 and max(len(b) for b in batches) == 64
    assert token_batches([9000, 10], max_count=64, max_tokens=8192) == [[0], [1]]  # an over-long item alone


def test_a_comment_gets_the_same_vectors_whatever_shares_its_pass(tiny_config: dict) -> None:
    enc = SentenceEncoder(**tiny_config["stages"]["encode.v1"])
    texts = [f"Reply number {k}. " + "more words here " * (k % 9) for k in range(30)]
    together = enc.encode(texts)
    for k in (0, 7, 29):  # alone, and beside a different crowd: bit for bit, not only close
        alone = enc.encode([texts[k]])
        assert np.array_equal(alone.vectors[0], together.vectors[k])
        assert np.array_equal(alone.sentence_vectors[0], together.sentence_vectors[k])
    other = enc.encode(texts[10:] + ["a much longer text " * 40])
    assert np.array_equal(other.vectors[:20], together.vectors[10:])

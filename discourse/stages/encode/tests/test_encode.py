"""encode.v1: the shared encoder pass."""

from __future__ import annotations

from pathlib import Path

from discourse.testing import DEBATE as BASE_DEBATE

REPO = Path(__file__).resolve().parents[1]

# The reply-graph tests' debate, with markup in the last comment that must never run in the report.
DEBATE = BASE_DEBATE.replace(
    "Does anyone know when the vote is exactly?",
    "<script>alert('x')</script> <img src=x onerror=alert(1)> why is this vote so quiet?",
)
assert DEBATE != BASE_DEBATE


def test_encoding_in_slices_matches_one_pass(tiny_config: dict) -> None:
    import numpy as np

    from discourse.stages.encode.encoder import SentenceEncoder

    enc = SentenceEncoder(**tiny_config["stages"]["encode.v1"])
    texts = [("hello priya. " * (k % 7 + 1)) + f"vote {k}. why?" for k in range(23)]
    whole, sliced = enc.encode(texts), enc.encode(texts, slice_size=5)
    assert np.allclose(whole.vectors, sliced.vectors, atol=1e-5)
    assert whole.sentence_spans == sliced.sentence_spans
    pairs = zip(whole.sentence_vectors, sliced.sentence_vectors, strict=True)
    assert all(np.allclose(a, b, atol=1e-5) for a, b in pairs)
    assert list(whole.n_tokens) == list(sliced.n_tokens) and whole.capped == sliced.capped

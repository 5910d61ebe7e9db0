"""OpenVINO bf16 against torch with the real MiniLM (slow): vectors, batch invariance, and the
reference thread's labels."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import discourse
from discourse.core.models import ModelSpec
from discourse.stages.encode import TOKEN_PROBE, load_token_probe
from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def _real_comments(shared: Path, n: int) -> list[str]:
    texts: list[str] = []
    with open(shared / "labeled" / "debagreement-dev" / "dev.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            texts += [r["body_parent"], r["body_child"]]
    return [t for t in dict.fromkeys(" ".join(t.split()) for t in texts) if t][:n]


def _encoder(backend: str, dtype: str, threads: int | None = None) -> SentenceEncoder:
    probe = load_token_probe(ModelSpec(name=TOKEN_PROBE), DEFAULT_ENCODER)
    assert probe is not None
    return SentenceEncoder(dtype=dtype, backend=backend, threads=threads, token_probe=probe[0])


def test_openvino_bf16_matches_torch_fp32_and_is_batch_invariant_on_real_comments(shared: Path) -> None:
    texts = _real_comments(shared, 300)
    ref = _encoder("torch", "fp32").encode(texts)
    enc = _encoder("openvino", "bf16")
    out = enc.encode(texts)
    assert enc.backend_version.endswith("-bf16")
    cos = (out.vectors * ref.vectors).sum(axis=1)
    assert cos.min() >= 0.999
    assert out.tokens is not None and ref.tokens is not None
    probe_diff = max(
        np.abs(np.asarray(x, np.float32) - np.asarray(y, np.float32)).max(initial=0)
        for x, y in zip(out.tokens.vector_lists(), ref.tokens.vector_lists(), strict=True)
    )
    assert probe_diff < 0.1  # the layer-3 evidence probe's logits: same layer, bf16 rounding only
    for k in (0, 17, 299):  # alone: the same bits
        alone = enc.encode([texts[k]])
        assert np.array_equal(alone.vectors[0], out.vectors[k])
        assert np.array_equal(np.asarray(alone.tokens.vectors(0)), np.asarray(out.tokens.vectors(k)))  # type: ignore[union-attr]
    assert np.array_equal(enc.encode(texts[100:]).vectors, out.vectors[100:])


def labels(a: discourse.Analysis) -> dict[str, Any]:
    """Every label of an analysis (no scores): reply links, stance, evidence spans, chains, attention."""
    d = a.to_json()
    return {
        "comments": [
            (
                c["id"],
                c["author"],
                c["parent_id"],
                (c.get("stance") or {}).get("label"),
                (c.get("stance") or {}).get("target_id"),
                [tuple(s) for s in (c.get("toxicity") or {}).get("evidence_spans", [])],
            )
            for c in d["comments"]
        ],
        "chains": [(ch["comment_ids"], ch["outcome"], [t["stance"] for t in ch["turns"]]) for ch in d["chains"]],
        "attention": [(x["comment_id"], x["codes"], x["target"]) for x in d["attention"]],
    }


def test_no_label_of_the_reference_thread_changes_with_openvino(reference_thread: Path) -> None:
    torch_run = discourse.analyze(reference_thread, {"stages": {"encode.v1": {"backend": "torch"}}})
    ov_run = discourse.analyze(reference_thread, {"stages": {"encode.v1": {"backend": "openvino"}}})
    assert [m.version for m in ov_run.models if m.name.startswith("encoder:")][0].startswith("openvino-")
    assert labels(ov_run) == labels(torch_run)

"""The encoder's backends: OpenVINO matches torch fp32, stays batch-invariant, keeps its conversion,
and never shares cached vectors with torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from discourse.core.cache import ResultCache
from discourse.core.errors import ModelError
from discourse.stages.encode import backends
from discourse.stages.encode.backends import choose_backend
from discourse.stages.encode.cached import encode_texts, encoder_identity
from discourse.stages.encode.encoder import Encoded, SentenceEncoder, TokenProbe

TEXTS = [
    "You are an idiot and I hate you.",
    "Thank you, your points are respected. I still disagree about the vote.",
    "no",
    "",
    "Why? " + "The patrols will not bring peace while the annexation goes on. " * 9,  # 2 windows at max_length 64
    *[f"Reply number {k}. " + "more words here " * (k % 9) for k in range(25)],
]


@pytest.fixture(autouse=True)
def _own_ir_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Converted models go to a folder of this test session, not the user's cache."""
    monkeypatch.setenv("DISCOURSE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "ir-cache"))


PROBE = TokenProbe(1)  # the normalised states of layer 1, taken inside the same pass (one conversion for all tests)


def _settings(tiny_config: dict, **extra: object) -> dict:
    s = {k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"}
    return {**s, **extra}


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)


def _bits_equal(a: Encoded, b: Encoded) -> bool:
    same = np.array_equal(a.vectors, b.vectors) and all(
        np.array_equal(x, y) for x, y in zip(a.sentence_vectors, b.sentence_vectors, strict=True)
    )
    if a.tokens is not None and b.tokens is not None:
        same = same and all(np.array_equal(a.tokens.vectors(k), b.tokens.vectors(k)) for k in range(len(a.tokens)))
    return same


@pytest.mark.parametrize("dtype", ["fp32", "bf16"])
def test_openvino_vectors_and_probe_rows_match_torch_fp32(tiny_config: dict, dtype: str) -> None:
    ref = SentenceEncoder(**_settings(tiny_config, dtype="fp32", backend="torch"), token_probe=PROBE).encode(TEXTS)
    enc = SentenceEncoder(**_settings(tiny_config, dtype=dtype, backend="openvino"), token_probe=PROBE)
    out = enc.encode(TEXTS)
    assert enc.backend_version.startswith("openvino-") and enc.backend_version.endswith(
        "bf16" if dtype == "bf16" else "f32"
    )
    real = [k for k, t in enumerate(TEXTS) if t]
    assert _cosines(out.vectors, ref.vectors)[real].min() >= 0.999
    for k in real:
        assert _cosines(out.sentence_vectors[k], ref.sentence_vectors[k]).min() >= 0.999
        assert out.tokens is not None and ref.tokens is not None
        assert out.tokens.spans(k) == ref.tokens.spans(k)
        a, b = (np.asarray(x.vectors(k), np.float32) for x in (out.tokens, ref.tokens))
        assert _cosines(a, b).min() >= 0.999  # the probe reads the same layer, not another
    assert list(out.n_tokens) == list(ref.n_tokens) and out.capped == ref.capped


def test_openvino_gives_a_comment_the_same_bits_whatever_shares_its_pass_and_however_many_threads(
    tiny_config: dict,
) -> None:
    threads = torch.get_num_threads()
    try:
        two = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="openvino", threads=2), token_probe=PROBE)
        together = two.encode(TEXTS)
        forward = two._forward
        assert isinstance(forward, backends.OpenVINOForward)
        assert not forward.requests.held  # a pass hands back its request (290 MB for MiniLM) when it ends
        for k in (0, 4, 7, len(TEXTS) - 1):  # alone, bit for bit, each in a new request
            assert _bits_equal(two.encode([TEXTS[k]]), together.rows(k, k + 1))
        other = two.encode(TEXTS[10:] + ["a much longer text " * 40])  # beside a different crowd
        assert _bits_equal(other.rows(0, len(TEXTS) - 10), together.rows(10, len(TEXTS)))
        one = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="openvino", threads=1), token_probe=PROBE)
        assert _bits_equal(one.encode(TEXTS), together)
    finally:
        torch.set_num_threads(threads)


def test_the_conversion_is_kept_and_a_later_encoder_skips_the_torch_weights(
    tiny_config: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOURSE_CACHE_DIR", str(tmp_path))
    loads: list[int] = []
    load_torch = SentenceEncoder._torch_model
    monkeypatch.setattr(SentenceEncoder, "_torch_model", lambda self: (loads.append(1), load_torch(self))[1])
    first = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="openvino"), token_probe=PROBE)
    a = first.encode(TEXTS)
    assert loads == [1] and first._model is None  # converted from the torch model, which is then dropped
    [entry] = list((tmp_path / "openvino").iterdir())
    assert not entry.name.startswith(".") and (entry / "model.xml").is_file()  # renamed into place, no temp left
    later = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="openvino"), token_probe=PROBE)
    assert _bits_equal(later.encode(TEXTS), a) and loads == [1]  # read back: the torch weights never load


def test_a_damaged_conversion_is_built_again_and_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    ov = backends.import_openvino()
    import openvino.opset13 as ops

    built: list[int] = []

    def build() -> Any:
        built.append(1)
        x = ops.parameter([2], ov.Type.f32)
        return ov.Model([ops.relu(x)], [x])

    first = backends.cached_ir("k", build, tmp_path)
    backends.cached_ir("k", build, tmp_path)
    assert len(built) == 1 and first.outputs[0].get_partial_shape() == ov.PartialShape([2])
    (tmp_path / "k" / "model.xml").write_text("<not a model", encoding="utf-8")
    backends.cached_ir("k", build, tmp_path)
    assert len(built) == 2 and [p.name for p in tmp_path.iterdir()] == ["k"]
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")  # a file where the cache folder should be
    assert backends.cached_ir("k", build, blocked / "sub") is not None and len(built) == 3


def test_cached_vectors_of_one_backend_are_never_served_to_another(tiny_config: dict, tmp_path: Path) -> None:
    torch_enc = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="torch"), token_probe=PROBE)
    ov_enc = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="openvino"), token_probe=PROBE)
    assert encoder_identity(torch_enc) != encoder_identity(ov_enc)
    assert torch_enc.record().version == "bf16-autocast" and ov_enc.record().version.startswith("openvino-")
    encode_texts(torch_enc, TEXTS, ResultCache.open(tmp_path))
    cache = ResultCache.open(tmp_path)
    out = encode_texts(ov_enc, TEXTS, cache)
    assert cache.hits == 0 and cache.misses == len(set(TEXTS))
    assert np.array_equal(out.vectors, ov_enc.encode(TEXTS).vectors)


def test_auto_is_openvino_only_where_it_is_installed_and_the_cpu_has_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(backends, "openvino_installed", lambda: True)
    assert choose_backend("auto", "auto") == "openvino" and choose_backend("auto", "bf16") == "openvino"
    assert choose_backend("auto", "fp32") == "torch"  # the fp32 reference stays torch
    assert choose_backend("torch", "auto") == "torch" and choose_backend("openvino", "fp32") == "openvino"
    monkeypatch.setattr(backends, "openvino_installed", lambda: False)
    assert choose_backend("auto", "auto") == "torch"
    monkeypatch.setattr(backends, "openvino_installed", lambda: True)
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: False)
    assert choose_backend("auto", "auto") == "torch"
    with pytest.raises(ModelError, match="backend 'onnx' is not one of auto, torch, openvino"):
        choose_backend("onnx", "auto")


def test_auto_falls_back_to_torch_when_openvino_fails_and_an_explicit_choice_says_why(
    tiny_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discourse.stages.encode import encoder as encoder_module

    def broken(*args: object, **kwargs: object) -> None:
        raise ModelError("OpenVINO could not run the encoder: no plugin")

    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(backends, "openvino_installed", lambda: True)
    monkeypatch.setattr(encoder_module, "openvino_forward", broken)
    auto = SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="auto"))
    assert auto.backend_version == "bf16-autocast" and auto.encode(["still encoded"]).vectors.shape[0] == 1
    with pytest.raises(ModelError, match="no plugin"):
        SentenceEncoder(**_settings(tiny_config, dtype="bf16", backend="openvino")).encode(["x"])

"""Evidence from the shared encoder pass: the token probe inside encode.v1, the span model's
stacker, character offsets into the verbatim text, and no model run per word."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import discourse
from discourse.core.engine import Pipeline
from discourse.core.errors import ModelError
from discourse.core.thread import Comment, Thread
from discourse.stages.encode.encoder import SentenceEncoder, TokenProbe
from discourse.stages.toxicity.evidence import SpanModel, selected_spans, token_evidence, word_index, word_strings
from discourse.stages.toxicity.toxblock import ToxBlockClassifier
from discourse.train.toxicity_spans import long_case_text

TINY_DIM = 32  # discourse.testing's tiny encoder


def build_tiny_span_model(folder: Path, encoder: str, dim: int = TINY_DIM, layer: int = 1) -> Path:
    """A span model for the tiny encoder: a random probe, and a stacker driven by the lexicon
    (``idiot`` and ``hate`` are almost always inside a human span)."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    save_file(
        {
            "probe_weight": (rng.standard_normal(dim) * 0.01).astype(np.float32),
            "probe_bias": np.zeros(1, dtype=np.float32),
            "stacker_weight": np.array([0.1, 8.0, 0.0, 0.0, 0.0], dtype=np.float32),
            "stacker_bias": np.array([-4.0], dtype=np.float32),
            "toxblock_word": np.array([0.01], dtype=np.float16),
        },
        str(folder / "model.safetensors"),
    )
    (folder / "lexicon.json").write_text(json.dumps({"idiot": [9, 10], "hate": [8, 10], "you": [1, 10]}))
    meta = {
        "kind": "token_evidence",
        "token_probe": {"encoder": encoder, "layer": layer, "dim": dim},
        "stacker": {"threshold": 0.5, "toxblock": "tox-block-0.1.2"},
    }
    (folder / "model.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="module")
def span_config(tiny_config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    enc = tiny_config["stages"]["encode.v1"]["model"]
    folder = build_tiny_span_model(tmp_path_factory.mktemp("tiny_spans"), enc)
    stages = dict(tiny_config["stages"])
    stages["encode.v1"] = {**stages["encode.v1"], "token_probe": {"path": str(folder)}}
    stages["toxicity.v1"] = {**stages["toxicity.v1"], "evidence_model": {"path": str(folder)}, "explain_above": 0.0}
    return {"stages": stages}


def test_probe_runs_inside_the_one_pass_on_the_layer_it_names(tiny_config: dict) -> None:
    import torch

    cfg = tiny_config["stages"]["encode.v1"]
    w = np.random.default_rng(1).standard_normal((TINY_DIM, 2)).astype(np.float32)
    probe = TokenProbe(1, w, np.array([0.5, -0.5], dtype=np.float32))
    enc = SentenceEncoder(**cfg, token_probe=probe)
    texts = ["  Hello priya, you IDIOT!! i hate this.", "thank you", "", "vote " * 70 + "no"]  # last: 2 windows
    out = enc.encode(texts)
    plain = SentenceEncoder(**cfg).encode(texts)
    assert np.allclose(out.vectors, plain.vectors, atol=1e-6)  # the probe changes nothing else
    assert out.tokens is not None and plain.tokens is None
    tok, model = enc._tokenizer, enc._model
    for i, t in enumerate(texts[:3]):
        ids = tok(t, add_special_tokens=True, return_offsets_mapping=True)
        assert out.tokens.spans(i) == [tuple(o) for o in ids["offset_mapping"][1:-1]]
        with torch.inference_mode():
            hs = model(input_ids=torch.tensor([ids["input_ids"]]), output_hidden_states=True).hidden_states[1][0]
        h = hs[1:-1].numpy()
        want = h / np.linalg.norm(h, axis=1, keepdims=True) @ w + probe.bias
        assert np.allclose(out.tokens.vectors(i), want, atol=2e-2)  # stored as float16
    assert len(out.tokens.spans(3)) == out.n_tokens[3] > 62  # every window's tokens, in order
    starts = [a for a, _ in out.tokens.spans(3)]
    assert starts == sorted(starts)
    sliced = enc.encode(texts, slice_size=2)
    assert sliced.tokens is not None
    assert all(sliced.tokens.spans(i) == out.tokens.spans(i) for i in range(4))
    assert out.rows(1, 3).tokens.spans(0) == out.tokens.spans(1)  # one thread's rows of a group


def test_a_probe_for_another_width_is_a_one_line_error(tiny_config: dict) -> None:
    enc = SentenceEncoder(**tiny_config["stages"]["encode.v1"], token_probe=TokenProbe(1, np.zeros((384, 1))))
    with pytest.raises(ModelError, match="reads layer 1 of width 384; encoder .* has 2 layers of width 32"):
        enc.encode(["hello"])


def test_token_evidence_selects_whole_words_and_fills_spaces() -> None:
    text = "You  utter idiot-face, go away"
    # tokens as a word-piece tokenizer gives them: "idiot" "-" "face" are separate words; "utt" "er" one word
    offs = np.array([[0, 3], [5, 8], [8, 10], [11, 16], [16, 17], [17, 21], [21, 22], [23, 25], [26, 30]])
    wid = word_index(text, offs)
    assert wid.tolist() == [0, 1, 1, 2, 3, 4, 5, 6, 7]
    assert word_strings(text, offs, wid)[1] == "utter"
    sel = np.zeros(len(offs), dtype=bool)
    sel[[1, 3]] = True  # one piece of "utter" selects the whole word
    assert selected_spans(text, offs, wid, sel) == [(5, 16)]
    model = SpanModel("t", np.array([0, 10.0, 0, 0, 0]), -5.0, 0.5, {"idiot": (5, 5), "utter": (4, 4)}, np.zeros(1), "")
    words, spans = token_evidence(model, text, offs, np.zeros(len(offs)), lambda w: [])
    assert set(words) == {"idiot", "utter"} and spans == ((5, 16),)
    words, spans = token_evidence(model, text, offs, np.zeros(len(offs)), lambda w: [], within=(11, 30))
    assert words == ("idiot",) and spans == ((11, 16),)  # only the scored window counts


def test_stage_evidence_is_offsets_into_the_verbatim_text_without_runs_per_word(
    span_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows: list[int] = []
    forward = ToxBlockClassifier._forward
    monkeypatch.setattr(ToxBlockClassifier, "_forward", lambda self, ids: rows.append(len(ids)) or forward(self, ids))

    def no_occlusion(self: object, *a: object, **k: object) -> None:
        raise AssertionError("occlusion re-runs tox-block once per word")

    monkeypatch.setattr(ToxBlockClassifier, "explain", no_occlusion)
    passes: list[int] = []
    encode = SentenceEncoder._encode
    monkeypatch.setattr(SentenceEncoder, "_encode", lambda self, t: passes.append(len(t)) or encode(self, t))
    texts = [
        "  Hello Priya,\tyou IDIOT!! i hate this vote.",
        "thank you for the data 🙂 you idiot",
        "the stadium money is good",
    ]
    thread = Thread(id="t", title="Vote", comments=tuple(Comment(f"c{k}", t) for k, t in enumerate(texts)))
    analysis = discourse.analyze(thread, config=span_config)
    assert len(passes) == 1 and sum(rows) == len(texts)  # one encoder pass, one tox-block row per comment
    first = analysis.toxicity("c0")
    assert [texts[0][b:e] for b, e in first.evidence_spans] == ["IDIOT", "hate"]
    assert set(first.evidence) == {"idiot", "hate"}
    second = analysis.toxicity("c1")
    assert [texts[1][b:e] for b, e in second.evidence_spans] == ["idiot"]
    assert analysis.toxicity("c2").evidence_spans == ()
    assert sum(m.name.startswith("tiny_spans") for m in analysis.models) == 1  # recorded once


def test_without_the_probe_the_layer_is_empty_and_occlusion_explains(tiny_config: dict) -> None:
    thread = Thread(id="t", title="Vote", comments=(Comment("c0", "you are an idiot and i hate you"),))
    doc = Pipeline(tiny_config).run(thread)  # the shipped probe is for MiniLM, not the tiny encoder
    assert doc.annotations.value("token_scores").store is None
    tox = discourse.analyze(thread, config=tiny_config).toxicity("c0")
    assert tox.evidence and "idiot" in tox.evidence
    assert all(0 <= b < e <= len(thread.comments[0].text) for b, e in tox.evidence_spans)


@pytest.mark.slow
def test_real_models_put_a_long_comments_evidence_on_its_toxic_words() -> None:
    text = long_case_text()  # a toxic sentence, then 260 ordinary words
    toxic_end = text.index(".") + 1
    thread = Thread(id="long", title="", comments=(Comment("c1", text),))
    tox = discourse.analyze(thread, config={"pipeline": ["encode.v1", "toxicity.v1"]}).toxicity("c1")
    assert tox.score > 0.5
    assert tox.evidence_spans and all(e <= toxic_end for _, e in tox.evidence_spans)
    assert "idiot" in tox.evidence
    assert any("idiot" in text[b:e] for b, e in tox.evidence_spans)

"""The built-in stages, registered under versioned names.

Each is a factory ``(stage config, resources) -> fn(doc)``; models come from
``Resources`` so a batch loads each one once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from discourse.annotations import StanceResult, ToxicityResult
from discourse.model import Thread
from discourse.pipeline import Doc, Resources, stage
from discourse.stages.attention import rank_attention
from discourse.stages.chains import find_chains
from discourse.stages.reply_graph import infer_structure
from discourse.stages.stance_cues import MAX_SCAN_CHARS
from discourse.stages.summarize import summarize_chain

STANCE_LABELS = ("agree", "disagree", "neutral", "query")


def _all_have(key: str):  # type: ignore[no-untyped-def]
    def check(doc: Doc) -> str | None:
        missing = [c.id for c in doc.thread.comments if doc.annotations.get(c.id, key) is None]
        return f"no {key} for {', '.join(missing[:5])}" if missing else None

    return check


# -- encode ---------------------------------------------------------------------------
def _check_encoded(doc: Doc) -> str | None:
    if doc.encoded is None or doc.encoded.vectors.shape[0] != len(doc.thread.comments) + 1:
        return "encoded vectors do not match the comments"
    return None


def encoder_texts(thread: Thread) -> list[str]:
    """What the one encoder pass reads for a thread: the article (or title), then every comment."""
    return [thread.article or thread.title or ""] + [c.text for c in thread.comments]


@stage("encode.v1", requires=("text",), assigns=("embeddings",), check=_check_encoded)
def encode_stage(cfg: Mapping[str, Any], res: Resources):  # type: ignore[no-untyped-def]
    def run(doc: Doc) -> None:
        enc = res.encoder()
        t = doc.thread
        if doc.encoded is None:  # Pipeline.run_many encodes many threads in one pass beforehand
            doc.encoded = enc.encode(encoder_texts(t))
        rec = enc.record()
        doc.models[rec.name] = rec
        for k, capped in enumerate(doc.encoded.capped[1:]):
            if capped:
                c = t.comments[k]
                doc.warnings.append(
                    f"comment {c.id} is long ({len(c.text):,} characters); only its first "
                    f"{enc.max_tokens_per_text} tokens were encoded and its first {MAX_SCAN_CHARS:,} characters"
                    " read for stance cues (text kept whole)"
                )

    return run


# -- reply graph ------------------------------------------------------------------------
@stage("reply_graph.v1", requires=("embeddings",), assigns=("structure",))
def reply_graph_stage(cfg: Mapping[str, Any], res: Resources):  # type: ignore[no-untyped-def]
    from discourse.stages.reply_graph import load_reply_weights

    name = cfg.get("model") or None
    overrides = cfg.get("weights") or {}
    max_depth = int(cfg.get("max_depth", 40))

    def run(doc: Doc) -> None:
        if doc.thread.structure_known:
            return
        weights, rec = res.get(
            f"reply_links:{name}:{sorted(overrides.items())}", lambda: load_reply_weights(name, overrides)
        )
        if rec is not None:
            doc.models[rec.name] = rec
        assert doc.encoded is not None
        v = doc.encoded.vectors
        doc.thread = infer_structure(
            doc.thread, v[1:], v[0] if doc.thread.article else None, weights, max_depth=max_depth
        )

    return run


# -- toxicity ---------------------------------------------------------------------------
@stage("toxicity.v1", requires=("text",), assigns=("toxicity",), check=_all_have("toxicity"))
def toxicity_stage(cfg: Mapping[str, Any], res: Resources):  # type: ignore[no-untyped-def]
    from discourse.stages.toxicity import build_toxicity_model, overall_toxicity

    spec = dict(cfg.get("model") or {"name": "tox-block-0.1.2"})
    if "batch_size" in cfg:
        spec.setdefault("batch_size", int(cfg["batch_size"]))
    explain_above = float(cfg.get("explain_above", 0.2))

    def run(doc: Doc) -> None:
        model = res.get(f"toxicity:{sorted(spec.items())}", lambda: build_toxicity_model(spec))
        texts = [c.text for c in doc.thread.comments]
        scores = model.predict_batch(texts) if texts else []
        overall = [overall_toxicity(s) for s in scores]
        evidence: list[tuple[str, ...]] = [()] * len(texts)
        hot = [k for k, o in enumerate(overall) if o >= explain_above]
        if hot and hasattr(model, "explain"):
            for k, ev in zip(hot, model.explain([texts[k] for k in hot]), strict=True):
                evidence[k] = tuple(ev)
        rec = model.record()
        doc.models[rec.name] = rec
        for c, s, o, ev in zip(doc.thread.comments, scores, overall, evidence, strict=True):
            doc.annotations.set(c.id, "toxicity", ToxicityResult(o, dict(s), model.name, ev))

    return run


# -- stance -------------------------------------------------------------------------------
@stage("stance.v1", requires=("structure", "embeddings"), assigns=("stance",), check=_all_have("stance"))
def stance_stage(cfg: Mapping[str, Any], res: Resources):  # type: ignore[no-untyped-def]
    spec = dict(cfg.get("model") or {"name": "stance-minilm-v1"})

    def build():  # type: ignore[no-untyped-def]
        if "hf_model" in spec:
            from discourse.models.hf import HFSequenceClassifier

            return HFSequenceClassifier(spec["hf_model"], labels=spec.get("labels"))
        from discourse.models.stance import StanceClassifier

        return StanceClassifier(spec.get("name", "stance-minilm-v1"))

    def run(doc: Doc) -> None:
        model = res.get(f"stance:{sorted(spec.items())}", build)
        t = doc.thread
        if not t.comments:
            return
        byidx = {c.id: k for k, c in enumerate(t.comments)}
        texts = [c.text for c in t.comments]
        targets = [c.parent_id for c in t.comments]
        if hasattr(model, "predict_encoded"):
            assert doc.encoded is not None
            v = doc.encoded.vectors
            rows = np.array([0 if p is None else byidx[p] + 1 for p in targets])
            scores = model.predict_encoded(v[1:], v[rows], texts)
        else:
            root = t.article or t.title
            pairs = [(c.text, root if c.parent_id is None else t.comments[byidx[c.parent_id]].text) for c in t.comments]
            scores = model.predict_batch(pairs)
        rec = model.record()
        doc.models[rec.name] = rec
        for c, s in zip(t.comments, scores, strict=True):
            label = max(s, key=lambda k: s[k])
            ev = tuple(model.evidence(c.text, label)) if hasattr(model, "evidence") else ()
            doc.annotations.set(c.id, "stance", StanceResult(label, dict(s), c.parent_id, model.name, ev))

    return run


# -- chains -------------------------------------------------------------------------------
@stage("chains.v1", requires=("structure", "embeddings", "stance", "toxicity"), assigns=("chains",))
def chains_stage(cfg: Mapping[str, Any], res: Resources):  # type: ignore[no-untyped-def]
    min_replies = int(cfg.get("min_replies", 2))
    threshold = float(cfg.get("toxic_threshold", 0.5))

    def run(doc: Doc) -> None:
        t = doc.thread
        assert doc.encoded is not None
        sentences = {
            c.id: (doc.encoded.sentence_spans[k + 1], doc.encoded.sentence_vectors[k + 1])
            for k, c in enumerate(t.comments)
        }
        doc.chains = tuple(
            summarize_chain(sk, t, doc.annotations, sentences, threshold) for sk in find_chains(t, min_replies)
        )

    return run


# -- attention ------------------------------------------------------------------------------
@stage("attention.v1", requires=("toxicity",), assigns=("attention",))
def attention_stage(cfg: Mapping[str, Any], res: Resources):  # type: ignore[no-untyped-def]
    def run(doc: Doc) -> None:
        doc.attention = rank_attention(
            doc.thread,
            doc.annotations,
            doc.chains,
            float(cfg.get("flag_threshold", 0.5)),
            float(cfg.get("watch_threshold", 0.2)),
            int(cfg.get("max_items", 25)),
        )

    return run

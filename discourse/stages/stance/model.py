"""Stance of a reply toward its target: agree / disagree / neutral / query.

The target is the reply's parent comment, or the article for a top-level comment.
The shipped model ``stance-minilm-v1`` is a class-balanced head over
:func:`~discourse.stages.stance.features.pair_features` (the shared MiniLM vectors of
reply and target, ``[r, t, r*t, |r-t|]``, plus the reply's lexical cue features):
a multinomial logistic regression (:class:`~discourse.models.heads.LinearHead`) or a
one-hidden-layer MLP (:class:`~discourse.models.heads.MLPHead`), whichever grouped CV
picked; ``head`` in ``model.json`` says which. It is trained by
``scripts/train_stance.py``; scores and data are in its model card.

**The explicit-cue rule.** A phrase in which the writer states a stance outright
decides the label, whatever the head says. A cue is *explicit* when
:func:`~discourse.stages.stance.cues.find_cues` gives it strength >= 0.8 and its label
is agree, disagree or query (a first-person stance verb, 1.0: "I disagree", "I still
disagree", "I am going to disagree with you", "I don't agree"; or an unambiguous
formula, 0.8: "your points are respected", "you're wrong", "can you give an
example"). The strongest explicit cue wins; when two explicit cues of the same
strength disagree, no cue decides and the head alone is used. Concessions ("I don't
disagree", "fair enough") are never explicit: they stay head features.

For a text with an explicit cue of label ``c`` and tier strength ``s`` the scores are
``(1 - w_s) * head + w_s * onehot(c)``. Both weights exceed 0.5 (enforced when
loading), so ``c`` is always the arg-max and every score stays a probability; the
values (``cue_rule.weights`` in ``model.json``) were chosen by grouped
cross-validation log-loss on the training data. Cue-decided labels carry the cue
phrase as their first piece of evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord, locate
from discourse.models.heads import Head, load_head
from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder
from discourse.stages.stance.cues import Cue, find_cues
from discourse.stages.stance.features import CUE_FEATURES, pair_features

DEFAULT_NAME = "stance-minilm-v1"
LABELS: tuple[str, ...] = ("agree", "disagree", "neutral", "query")
EXPLICIT_LABELS = ("agree", "disagree", "query")
EXPLICIT_MIN_STRENGTH = 0.8
FEATURE_BLOCKS = ("r", "t", "rt", "absdiff")
# which cue labels count as support for a predicted label (evidence)
SUPPORT: Mapping[str, tuple[str, ...]] = {
    "agree": ("agree", "concession"),
    "disagree": ("disagree",),
    "query": ("query",),
    "neutral": (),
}


def explicit_cue(cues: Sequence[Cue]) -> Cue | None:
    """The cue that decides the label by the explicit-cue rule, or None."""
    strong = [c for c in cues if c.label in EXPLICIT_LABELS and c.strength >= EXPLICIT_MIN_STRENGTH]
    if not strong:
        return None
    top = max(c.strength for c in strong)
    best = [c for c in strong if c.strength == top]
    if len({c.label for c in best}) > 1:
        return None  # "I agree ... I disagree": let the head decide
    return best[0]


def apply_cue_rule(
    proba: np.ndarray, cues: Sequence[Sequence[Cue]], weights: Mapping[float, float], labels: Sequence[str] = LABELS
) -> np.ndarray:
    """Blend head probabilities (n, k) with the one-hot label of each row's explicit cue."""
    out = np.array(proba, dtype=np.float64, copy=True)
    for i, row_cues in enumerate(cues):
        cue = explicit_cue(row_cues)
        if cue is None:
            continue
        w = weights[_tier(cue.strength)]
        out[i] *= 1.0 - w
        out[i, list(labels).index(cue.label)] += w
    return out


def _tier(strength: float) -> float:
    return 1.0 if strength >= 1.0 else EXPLICIT_MIN_STRENGTH


def evidence_for(text: str, label: str | None = None, cues: Sequence[Cue] | None = None) -> list[str]:
    """Cue phrases of ``text`` that support ``label``, the deciding explicit cue first,
    then by strength and position. ``label=None`` means the explicit-cue label (and
    ``[]`` when the text has no explicit cue)."""
    cues = find_cues(text) if cues is None else list(cues)
    decisive = explicit_cue(cues)
    if label is None:
        if decisive is None:
            return []
        label = decisive.label
    if label not in SUPPORT:
        raise ValueError(f"unknown stance label {label!r} (expected one of {', '.join(LABELS)})")
    # weak cues (thanks, any question: strength < 0.5) feed the head but are not shown as evidence:
    # politeness is not agreement
    ok = [c for c in cues if c.label in SUPPORT[label] and (c.strength >= 0.5 or c is decisive)]
    ok.sort(key=lambda c: (c is not decisive, -c.strength, c.start))
    return list(dict.fromkeys(c.phrase for c in ok))


STEP = 4096
"""Rows the head reads at once (its feature matrix is 4 x dim wide: built a slice at a time)."""


class GatheredRows:
    """Rows of several 2-d arrays, ``index[k] = (array, row)``, gathered a slice at a time: the
    (reply, parent) vectors of a group of threads without copying them all (0.3 GB each at
    100,000 comments)."""

    def __init__(self, arrays: Sequence[np.ndarray], index: np.ndarray) -> None:
        self.arrays, self.index = list(arrays), np.asarray(index, dtype=np.int64).reshape(-1, 2)

    @property
    def shape(self) -> tuple[int, int]:
        width = int(self.arrays[0].shape[1]) if self.arrays else 0
        return (len(self.index), width)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, part: slice) -> np.ndarray:
        idx = self.index[part]
        if not len(idx):
            return np.zeros((0, self.shape[1]), dtype=np.float32)
        out = np.empty((len(idx), self.shape[1]), dtype=np.float32)
        for a in np.unique(idx[:, 0]).tolist():
            mine = idx[:, 0] == a
            out[mine] = self.arrays[a][idx[mine, 1]]
        return out


class StanceClassifier:
    """The shipped stance model behind the :class:`~discourse.core.protocols.Classifier` protocol.

    Parameters are stored only; the folder is checksummed against ``models/registry.json``
    and the head loads on first use. ``folder`` bypasses the registry (training and
    tests); ``encoder`` is used only by :meth:`predict_batch`.
    """

    def __init__(
        self,
        name: str = DEFAULT_NAME,
        root: Path | None = None,
        folder: Path | None = None,
        encoder: SentenceEncoder | None = None,
        record: ModelRecord | None = None,
    ) -> None:
        self.name = name
        self.root = root
        self.folder = folder
        self.verified = record
        self.encoder = encoder
        self.labels: tuple[str, ...] = LABELS
        self._head: Head | None = None
        self._record: ModelRecord | None = None
        self._weights: dict[float, float] = {}

    # -- loading ------------------------------------------------------------------
    def _load(self) -> Head:
        if self._head is not None:
            return self._head
        folder, record = locate(self.name, self.root, self.folder, self.verified)
        try:
            head = load_head(folder)
            meta = head.meta
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged file surfaces as any error type
            raise ModelError(f"model {self.name}: could not load the head in {folder}: {exc}") from exc
        if set(head.labels) != set(LABELS):
            raise ModelError(f"model {self.name}: labels {head.labels} are not {LABELS}")
        spec = meta.get("feature_spec", {})
        if list(spec.get("cue_features", [])) != list(CUE_FEATURES) or list(spec.get("blocks", [])) != list(
            FEATURE_BLOCKS
        ):
            raise ModelError(
                f"model {self.name}: its feature spec does not match this version's "
                f"pair_features (blocks {list(FEATURE_BLOCKS)}, cues {list(CUE_FEATURES)}); "
                "retrain it"
            )
        self.dim_ = int(spec.get("dim", 0))
        if head.n_features != len(FEATURE_BLOCKS) * self.dim_ + len(CUE_FEATURES):
            raise ModelError(
                f"model {self.name}: {head.n_features} weights per label, but the feature spec says dim {self.dim_}"
            )
        self._weights = parse_cue_rule(meta.get("cue_rule"), self.name)
        self.labels = head.labels
        self.encoder_name_ = str(meta.get("encoder", {}).get("name", DEFAULT_ENCODER))
        self._record = record
        self._head = head
        return head

    def record(self) -> ModelRecord:
        self._load()
        assert self._record is not None
        return self._record

    # -- prediction -----------------------------------------------------------------
    def predict_encoded(
        self, reply_vecs: np.ndarray | GatheredRows, target_vecs: np.ndarray | GatheredRows, texts: Sequence[str]
    ) -> list[dict[str, float]]:
        """Scores for every label from encoder vectors already computed by the shared pass (arrays,
        or :class:`GatheredRows` read a slice at a time)."""
        head = self._load()
        if len(texts) == 0:
            return []
        shape = tuple(reply_vecs.shape)
        if len(shape) != 2 or shape[1] != self.dim_:
            raise ModelError(f"model {self.name} expects {self.dim_}-d encoder vectors, got {shape}")
        step = STEP
        proba = np.concatenate(
            [
                head.predict_proba(
                    pair_features(
                        np.asarray(reply_vecs[s : s + step], dtype=np.float32),
                        np.asarray(target_vecs[s : s + step], dtype=np.float32),
                        texts[s : s + step],
                    )
                )
                for s in range(0, len(texts), step)
            ]
        )
        proba = apply_cue_rule(proba, [find_cues(t) for t in texts], self._weights, self.labels)
        return [dict(zip(self.labels, map(float, row), strict=True)) for row in proba]

    def predict_batch(self, inputs: Sequence[Any]) -> list[dict[str, float]]:
        """Standalone use: encode (reply, target) pairs with a :class:`SentenceEncoder`
        (each distinct text once), then :meth:`predict_encoded`. The pipeline never
        calls this; it reuses its one encoder pass."""
        self._load()
        pairs = [_pair_of(x) for x in inputs]
        if not pairs:
            return []
        if self.encoder is None:
            self.encoder = SentenceEncoder(self.encoder_name_)
        uniq = list(dict.fromkeys(t for pair in pairs for t in pair))
        vecs = self.encoder.encode(uniq).vectors
        at = {t: i for i, t in enumerate(uniq)}
        reply = vecs[[at[r] for r, _ in pairs]]
        target = vecs[[at[t] for _, t in pairs]]
        return self.predict_encoded(reply, target, [r for r, _ in pairs])

    def evidence(self, text: str, label: str | None = None) -> list[str]:
        """Cue phrases in ``text`` that support ``label`` (pass the predicted label).
        Without a label: the explicit cue that decides the label, if any."""
        return evidence_for(text, label)


def parse_cue_rule(rule: Any, name: str = DEFAULT_NAME) -> dict[float, float]:
    """``{"weights": {"1.0": w, "0.8": w}}`` -> ``{1.0: w, 0.8: w}``; every weight in (0.5, 1]."""
    try:
        weights = {float(k): float(v) for k, v in dict(rule["weights"]).items()}
    except (TypeError, KeyError, ValueError) as exc:
        raise ModelError(f"model {name}: model.json has no valid cue_rule.weights") from exc
    for tier in (1.0, EXPLICIT_MIN_STRENGTH):
        w = weights.get(tier)
        if w is None or not 0.5 < w <= 1.0:
            raise ModelError(
                f"model {name}: cue_rule weight for strength {tier} must be in (0.5, 1], got {w}"
                " (explicit cues must decide the label)"
            )
    return weights


def _pair_of(x: Any) -> tuple[str, str]:
    if isinstance(x, tuple | list) and len(x) == 2 and all(isinstance(s, str) for s in x):
        return str(x[0]), str(x[1])
    raise TypeError(f"stance needs (reply, target) pairs, got {type(x).__name__}")

"""Training rows for the stance cross-encoder ``stance-pair-minilm-v1`` (training only).

Stage B (the target domain, with held-out groups): DEBAGREEMENT dev, subreddit-agreement and
RumourEval 2019 Reddit from :mod:`discourse.train.stance_data`, plus RumourEval 2019 Twitter
(the only sizeable source of ``query``), grouped by thread; its target is the reply's parent tweet
(SDQC is toward the source claim, so deep replies are noisy), @handles -> ``@user``, URLs -> ``http``.

Stage A (pair and NLI data, mapped to our labels, all used for training, never scored):
FNC-1 (headline -> body; ``unrelated`` dropped: random pairings are not a reply relation),
PERSPECTRUM (support/undermine), Debatepedia argument relations (support/attack), IBM
claim stance (pro/con toward the motion), SNLI dev+test from e-SNLI (entailment/contradiction/
neutral). SICK is left out: its licence is non-commercial. Each set is subsampled label-balanced
(round-robin over labels, seeded) to ``STAGE_A_SIZES``.

Held-out split: the first fold of ``StratifiedGroupKFold(5, shuffle=True, random_state=0)`` over
each dataset's groups: exactly the split of ``reports/stance.md`` for the three older sets.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from discourse.train.stance_data import (
    DEBAGREEMENT,
    DEFAULT_ROOT,
    RUMOUREVAL,
    SDQC_LABELS,
    SUBREDDIT,
    StanceRow,
    load_debagreement,
    load_rumoureval,
    load_subreddit_agreement,
)

NAME = "stance-pair-minilm-v1"
LABELS = ("agree", "disagree", "neutral", "query")
TWITTER = "rumoureval2019-twitter-train"
STAGE_B = (DEBAGREEMENT, SUBREDDIT, RUMOUREVAL, TWITTER)
STAGE_A_SIZES: Mapping[str, int] = {
    "fnc1": 800,
    "perspectrum": 2500,
    "debatepedia-argrel": 2500,
    "ibm-claim-stance": 2393,
    "snli-dev-test-esnli": 2500,
}
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+")

Rows = dict[str, list[StanceRow]]


def _tweet(text: str) -> str:
    return re.sub(r"\s+", " ", _URL.sub("http", _MENTION.sub("@user", text))).strip()


def load_twitter(root: Path = DEFAULT_ROOT) -> list[StanceRow]:
    with open(root / TWITTER / "tweets_flat.jsonl", encoding="utf-8") as fh:
        tweets = [json.loads(line) for line in fh if line.strip()]
    by_id = {t["tweet_id"]: t for t in tweets}
    rows = []
    for t in tweets:
        parent = None if t["is_source"] else by_id.get(t["parent_id"])
        if parent is not None:
            label = SDQC_LABELS[t["sdqc"]]
            rows.append(StanceRow(_tweet(parent["text"]), _tweet(t["text"]), label, "tw:" + t["thread_id"]))
    return rows


def load_stage_b(root: Path = DEFAULT_ROOT) -> Rows:
    return {
        DEBAGREEMENT: load_debagreement(root),
        SUBREDDIT: load_subreddit_agreement(root),
        RUMOUREVAL: load_rumoureval(root),
        TWITTER: load_twitter(root),
    }


def held_out_mask(rows: Sequence[StanceRow], folds: int = 5, seed: int = 0) -> np.ndarray:
    """True for the held-out rows of ONE dataset (the first fold of a stratified grouped k-fold)."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.array([r.label for r in rows])
    groups = np.array([r.group for r in rows])
    _, test = next(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(y, y, groups))
    mask = np.zeros(len(rows), dtype=bool)
    mask[test] = True
    return mask


def split(data: Mapping[str, Sequence[StanceRow]]) -> tuple[Rows, Rows]:
    """(train, held-out) rows per dataset; no group is on both sides."""
    train: Rows = {}
    test: Rows = {}
    for ds, rows in data.items():
        mask = held_out_mask(rows)
        train[ds] = [r for r, h in zip(rows, mask, strict=True) if not h]
        test[ds] = [r for r, h in zip(rows, mask, strict=True) if h]
        assert not {r.group for r in train[ds]} & {r.group for r in test[ds]}
    return train, test


# -- stage A ----------------------------------------------------------------------------------------
def _detok(s: str) -> str:
    s = re.sub(r" ([.,!?;:%)'])", r"\1", s)
    s = re.sub(r"([($]) ", r"\1", s)
    return s.replace(" n't", "n't").replace(" 's", "'s").strip()


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_fnc1(root: Path) -> list[StanceRow]:
    rows = []
    labels = {"agree": "agree", "disagree": "disagree", "discuss": "neutral"}
    for bodies, stances, tag in (
        ("train_bodies.csv", "train_stances.csv", "tr"),
        ("competition_test_bodies.csv", "competition_test_stances.csv", "te"),
    ):
        body = {r["Body ID"]: r["articleBody"] for r in _csv(root / "fnc1" / bodies)}
        for r in _csv(root / "fnc1" / stances):
            if r["Stance"] in labels:  # target = the headline (the claim), reply = the body
                rows.append(StanceRow(r["Headline"], body[r["Body ID"]], labels[r["Stance"]], f"{tag}:{r['Body ID']}"))
    return rows


def load_perspectrum(root: Path) -> list[StanceRow]:
    rows = []
    with open(root / "perspectrum" / "perspectrum_claim_perspective_pairs.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            label = {"SUPPORT": "agree", "UNDERMINE": "disagree"}.get(r["stance_3"])
            if label:
                rows.append(StanceRow(r["claim"], r["perspective"], label, str(r["claim_id"])))
    return rows


def load_debatepedia(root: Path) -> list[StanceRow]:
    rows = []
    for name in ("debate_normative_pairs-bi.csv", "debate_causal_pairs-bi.csv"):
        for r in _csv(root / "debatepedia-argrel" / name):
            label = {"1": "agree", "-1": "disagree"}.get(r["relation"].strip())
            if label:
                rows.append(StanceRow(r["text_to"], r["text_from"], label, name[:10] + r["argid"]))
    return rows


def load_ibm_claim_stance(root: Path) -> list[StanceRow]:
    rows = []
    for r in _csv(root / "ibm-claim-stance" / "claim_stance_dataset_v1.repaired.csv"):
        label = {"PRO": "agree", "CON": "disagree"}.get(r["claims.stance"].strip())
        if label:
            rows.append(StanceRow(r["topicText"], r["claims.claimCorrectedText"], label, r["topicId"]))
    return rows


def load_snli(root: Path) -> list[StanceRow]:
    rows = []
    labels = {"entailment": "agree", "contradiction": "disagree", "neutral": "neutral"}
    with open(root / "snli-dev-test-esnli" / "snli_dev_test_esnli.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["label"] in labels:
                premise = _detok(r["premise"])
                rows.append(StanceRow(premise, _detok(r["hypothesis"]), labels[r["label"]], premise))
    return rows


STAGE_A_LOADERS: Mapping[str, Callable[[Path], list[StanceRow]]] = {
    "fnc1": load_fnc1,
    "perspectrum": load_perspectrum,
    "debatepedia-argrel": load_debatepedia,
    "ibm-claim-stance": load_ibm_claim_stance,
    "snli-dev-test-esnli": load_snli,
}


def balanced_sample(rows: Sequence[StanceRow], n: int, rng: random.Random) -> list[StanceRow]:
    """Up to ``n`` rows, round-robin over the labels (as balanced as the set allows)."""
    by: dict[str, list[StanceRow]] = {}
    for r in rows:
        by.setdefault(r.label, []).append(r)
    for v in by.values():
        rng.shuffle(v)
    pick: list[StanceRow] = []
    i = 0
    while len(pick) < min(n, len(rows)):
        for label in sorted(by):
            if i < len(by[label]) and len(pick) < n:
                pick.append(by[label][i])
        i += 1
    return pick


def load_stage_a(root: Path = DEFAULT_ROOT, sizes: Mapping[str, int] = STAGE_A_SIZES, seed: int = 0) -> Rows:
    rng = random.Random(seed)
    return {name: balanced_sample(STAGE_A_LOADERS[name](root), n, rng) for name, n in sizes.items()}

"""Loaders for the labelled stance pairs in ../shared/data/labeled (training only).

Every loader returns :class:`StanceRow` tuples ``(target_text, reply_text, label,
group)`` with labels in our vocabulary (agree / disagree / neutral / query).
``group`` is what a grouped split must keep together:

* DEBAGREEMENT dev: the Reddit ``submission_id``.
* subreddit-agreement: there are no thread or comment ids in the CSVs, so the group
  is a hash of the file name plus ``quote_text`` (all replies to one quote stay
  together). Different quotes from one thread can still land on both sides of a
  split; nothing in the data lets us prevent that.
* RumourEval 2019 Reddit train: the thread id. SDQC labels are toward the thread's
  source claim, but our target is the reply's PARENT (the source post for top-level
  comments), which is an approximation for deeper replies.

Replies or targets whose body is ``[deleted]``, ``[removed]`` or empty are skipped.
The data is read where it lies; nothing is copied into the repository.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
from pathlib import Path
from typing import NamedTuple

DEFAULT_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data" / "labeled"

DEBAGREEMENT = "debagreement-dev"
SUBREDDIT = "subreddit-agreement"
RUMOUREVAL = "rumoureval2019-reddit-train"
DATASETS = (DEBAGREEMENT, SUBREDDIT, RUMOUREVAL)

AGREEMENT_LABELS = {"0": "disagree", "1": "neutral", "2": "agree"}  # DEBAGREEMENT and subreddit-agreement
SDQC_LABELS = {"query": "query", "support": "agree", "deny": "disagree", "comment": "neutral"}
SUBREDDIT_FILES = ("SubReddit-CovidVaccine.csv", "SubReddit-MaskMandate.csv")
_GONE = {"", "[deleted]", "[removed]"}


class StanceRow(NamedTuple):
    target_text: str
    reply_text: str
    label: str
    group: str


def _usable(text: str | None) -> bool:
    return text is not None and text.strip() not in _GONE


def load_debagreement(root: Path = DEFAULT_ROOT) -> list[StanceRow]:
    path = root / DEBAGREEMENT / "dev.csv"
    rows: list[StanceRow] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            parent, child = r["body_parent"], r["body_child"]
            if _usable(parent) and _usable(child):
                rows.append(StanceRow(parent, child, AGREEMENT_LABELS[r["label"].strip()], r["submission_id"]))
    return rows


def load_subreddit_agreement(root: Path = DEFAULT_ROOT) -> list[StanceRow]:
    rows: list[StanceRow] = []
    for name in SUBREDDIT_FILES:
        # Windows-1252, not UTF-8 (see PROVENANCE.txt).
        with open(root / SUBREDDIT / name, encoding="cp1252", newline="") as fh:
            for r in csv.DictReader(fh):
                quote, response = r["quote_text"], r["response_text"]
                if not (_usable(quote) and _usable(response)):
                    continue
                group = "sra:" + hashlib.sha256(f"{name}\n{quote}".encode()).hexdigest()[:16]
                rows.append(StanceRow(quote, response, AGREEMENT_LABELS[r["relation"].strip()], group))
    return rows


def _reddit_body(data: dict) -> str:
    return html.unescape(str(data.get("body") or ""))


def _source_text(post: dict) -> str:
    title = html.unescape(str(post.get("title") or "")).strip()
    body = html.unescape(str(post.get("selftext") or "")).strip()
    return title if not _usable(body) else f"{title}\n\n{body}"


def load_rumoureval(root: Path = DEFAULT_ROOT) -> list[StanceRow]:
    base = root / RUMOUREVAL
    key: dict[str, str] = json.loads((base / "train-key.json").read_text(encoding="utf-8"))["subtaskaenglish"]
    rows: list[StanceRow] = []
    for thread in sorted(p for p in (base / "reddit-training-data").iterdir() if p.is_dir()):
        source_file = thread / "source-tweet" / f"{thread.name}.json"
        post = json.loads(source_file.read_text(encoding="utf-8"))["data"]["children"][0]["data"]
        texts = {thread.name: _source_text(post)}
        parents: dict[str, str] = {}
        for f in sorted((thread / "replies").glob("*.json")):
            data = json.loads(f.read_text(encoding="utf-8"))["data"]
            texts[data["id"]] = _reddit_body(data)
            parents[data["id"]] = str(data.get("parent_id", "")).split("_", 1)[-1]
        for cid in sorted(parents):
            label = key.get(cid)
            target = texts.get(parents[cid])
            if label is None or not (_usable(texts[cid]) and _usable(target)):
                continue
            rows.append(StanceRow(str(target), texts[cid], SDQC_LABELS[label], f"re:{thread.name}"))
    return rows


LOADERS = {DEBAGREEMENT: load_debagreement, SUBREDDIT: load_subreddit_agreement, RUMOUREVAL: load_rumoureval}


def load_all(root: Path = DEFAULT_ROOT) -> dict[str, list[StanceRow]]:
    """All three sets, keyed by dataset name."""
    return {name: LOADERS[name](root) for name in DATASETS}

"""The five labelled toxicity sources as one table (for ``discourse train toxicity``).

Labelling decisions (the model card repeats them):

* hatexplain     1 = offensive or hate, 0 = normal; group = normalised text (no ids in the CSV).
* ruddit         1 = offensiveness_score > 0; group = post_id (the Reddit thread).
* stormfront     1 = hate, 0 = noHate ('relation' and 'idk/skip' dropped); group = comment_id.
* jigsaw-sample  1 = any of the six labels; group = the row.
* toxic-spans    every post was rated toxic (PROVENANCE): all 1, also those with no span (implicit
                 toxicity, not non-toxic); its character spans are kept for the evidence measure.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SOURCES = ("hatexplain", "ruddit", "stormfront", "jigsaw-sample", "toxic-spans")
HELD_OUT = ("hatexplain", "ruddit", "stormfront", "jigsaw-sample")
"""The sources with both classes: each is held out in turn (toxic-spans is all positive)."""

FILES = {
    "hatexplain": "hatexplain/hatexplain.csv",
    "ruddit": "ruddit-with-text/ruddit_with_text.clean.csv",
    "stormfront": "stormfront-hate/stormfront_sentences.csv",
    "jigsaw-sample": "jigsaw-sample/test_examples.csv",
    "toxic-spans": "toxic-spans-train-trial/SemEval2021/data",
}
JIGSAW_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
_DROP = re.compile(r"<user>|<number>|[^a-z0-9]+")


@dataclass
class Table:
    """One row per labelled text, in source order."""

    text: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    spans: list[list[int] | None] = field(default_factory=list)  # toxic-spans' gold character offsets

    def add(self, text: str, source: str, label: int, group: str, spans: list[int] | None = None) -> None:
        self.text.append(text)
        self.source.append(source)
        self.label.append(int(label))
        self.group.append(f"{source}:{group}")
        self.spans.append(spans)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(source, label, group) as numpy arrays."""
        return np.array(self.source), np.array(self.label, dtype=np.int64), np.array(self.group)


def norm_key(text: str) -> str:
    """Lower-cased alphanumeric words only: near-duplicates share a key (and a group)."""
    return " ".join(_DROP.sub(" ", text.lower()).split())


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(fh)


def _hatexplain(t: Table, path: Path) -> None:
    for r in _rows(path):
        t.add(r["text"], "hatexplain", r["label"] != "0", norm_key(r["text"]))


def _ruddit(t: Table, path: Path) -> None:
    for r in _rows(path):
        t.add(r["txt"], "ruddit", float(r["offensiveness_score"]) > 0, r["post_id"])


def _stormfront(t: Table, path: Path) -> None:
    for r in _rows(path):
        if r["label"] in ("hate", "noHate"):
            t.add(r["text"], "stormfront", r["label"] == "hate", r["comment_id"])


def _jigsaw(t: Table, path: Path) -> None:
    for i, r in enumerate(_rows(path)):
        t.add(r["comment_text"], "jigsaw-sample", any(r[k] == "1" for k in JIGSAW_LABELS), str(i))


def _toxic_spans(t: Table, folder: Path) -> None:
    for split in ("train", "trial"):
        for r in _rows(folder / f"tsd_{split}.csv"):
            t.add(r["text"], "toxic-spans", 1, norm_key(r["text"]), json.loads(r["spans"]))


LOADERS = {
    "hatexplain": _hatexplain,
    "ruddit": _ruddit,
    "stormfront": _stormfront,
    "jigsaw-sample": _jigsaw,
    "toxic-spans": _toxic_spans,
}


def load_table(labeled: Path) -> Table:
    """Every source under ``labeled`` (``../shared/data/labeled``), in :data:`SOURCES` order."""
    table = Table()
    for name in SOURCES:
        LOADERS[name](table, labeled / FILES[name])
    return table

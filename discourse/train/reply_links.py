"""Fit the reply-link weights on real threads whose structure is known (needs ../shared/data).

    python scripts/fit_reply_links.py [--shared ../shared/data] [--no-save]

:func:`main` writes ``models/reply-links-v1/model.json`` (registered with its sha256) and
``reports/reply_graph.md`` + ``reports/reply_graph.json``.

Threads with true parent links (RumourEval 2019 Reddit threads, Wikipedia talk-page
conversations from WikiConv, one r/nfl thread) are rendered as flat text and parsed
back; every comment's candidate parents (the article and the preorder path) get
:class:`~discourse.stages.reply_graph.links.Candidates` features, and the weights are chosen
to maximise the accuracy of greedy decoding, exactly as the stage decodes.

Splits are by thread, never by comment; the r/nfl thread is kept out of fitting as a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.reddit import parse_reddit
from discourse.formats.render_flat import render_flat
from discourse.stages.encode.encoder import DEFAULT_ENCODER
from discourse.stages.reply_graph.links import LINK_FEATURES, Candidates, ReplyWeights
from discourse.train import REPO, SHARED_DATA
from discourse.train.structure_eval import evaluate, match_key, renderable

NAME = "reply-links-v1"
FIT_SETS = ("rumoureval", "wikiconv")
TEST_SET = "reddit-nfl"


# -- data ----------------------------------------------------------------------------------
def reddit_threads(paths: Sequence[Path]) -> list[Thread]:
    out = []
    for p in paths:
        for t in parse_reddit(p.read_text(encoding="utf-8"), p.parent.name):
            out.append(
                Thread(
                    id=p.parent.name,
                    title=t.title,
                    comments=t.comments,
                    article=t.article,
                    source_format=t.source_format,
                )
            )
    return out


def wikiconv_threads(path: Path, min_comments: int = 3) -> list[Thread]:
    """WikiConv conversations: the section heading is the title, COMMENT_ADDING nodes are the
    comments (modifications and comments under a missing parent are left out)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out: list[Thread] = []
    for k, conv in enumerate(data):
        nodes = sorted(conv.values(), key=lambda u: (u.get("timestamp", ""), u["id"]))
        heads = [u for u in nodes if u.get("comment_type") == "SECTION_CREATION"]
        title = heads[0]["content"].strip(" =") if heads else f"conversation {k}"
        head_ids = {u["id"] for u in heads}
        keep: dict[str, Comment] = {}
        for u in nodes:
            if u.get("comment_type") != "COMMENT_ADDING" or not (u.get("content") or "").strip():
                continue
            pid = u.get("parent_id") or None
            if pid in head_ids or pid is None:
                parent = None
            elif pid in keep and pid != u["id"]:
                parent = pid
            else:
                continue
            keep[u["id"]] = Comment(
                id=u["id"], text=u["content"].strip(), author=u.get("user_text") or None, parent_id=parent
            )
        if len(keep) >= min_comments:
            out.append(Thread(id=f"wikiconv-{k}", title=title, comments=tuple(keep.values()), source_format="wikiconv"))
    return out


def load_known(shared: Path) -> dict[str, list[Thread]]:
    re_dir = shared / "labeled" / "rumoureval2019-reddit-train" / "reddit-training-data"
    return {
        "rumoureval": reddit_threads(sorted(re_dir.glob("*/raw.json"))),
        "wikiconv": wikiconv_threads(shared / "formats" / "wikidetox-talk" / "conversations_job2_x1000.json"),
        "reddit-nfl": reddit_threads([shared / "formats" / "reddit-nfl-thread" / "comments.json"]),
    }


# -- embeddings (cached: the encoder is the slow part) ---------------------------------------
class CachedEmbedder:
    """Texts -> L2-normalised MiniLM vectors, cached on disk by text hash."""

    def __init__(self, cache: Path, encoder: object | None = None, model: str = DEFAULT_ENCODER) -> None:
        self.cache = cache
        self._encoder = encoder
        self.model = model
        self._vecs: dict[str, np.ndarray] = {}
        if cache.exists():
            with np.load(cache) as z:
                self._vecs = {k: z[k] for k in z.files}
        self._dirty = False

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8", "replace")).hexdigest() for t in texts]
        todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in self._vecs}.items())
        if todo:
            if self._encoder is None:
                from discourse.stages.encode.encoder import SentenceEncoder

                self._encoder = SentenceEncoder(self.model)
            enc = self._encoder.encode([t for _, t in todo])  # type: ignore[attr-defined]
            for (k, _), v in zip(todo, enc.vectors, strict=True):
                self._vecs[k] = v
            self._dirty = True
        return np.stack([self._vecs[k] for k in keys])

    def save(self) -> None:
        if self._dirty:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache.with_suffix(".tmp.npz")
            np.savez(tmp, **self._vecs)  # type: ignore[arg-type]
            tmp.replace(self.cache)
            self._dirty = False


# -- prepared threads --------------------------------------------------------------------------
Prepared = tuple[Candidates, list[int | None]]
"""Candidate features of a thread rendered flat and parsed back, and its true parents."""


def prepare(thread: Thread, embed: CachedEmbedder | None) -> Prepared | None:
    """None when the flat parse does not give back every comment in order (then the
    thread cannot be aligned with its truth)."""
    truth = renderable(thread)
    parsed = parse_flat(render_flat(truth), thread.id)
    if len(parsed.comments) != len(truth.comments) or any(
        match_key(a.text) != match_key(b.text) for a, b in zip(parsed.comments, truth.comments, strict=True)
    ):
        return None
    index = {c.id: k for k, c in enumerate(truth.comments)}
    parents = [None if c.parent_id is None else index[c.parent_id] for c in truth.comments]
    vecs = art = None
    if embed is not None:
        v = embed([parsed.article or parsed.title] + [c.text for c in parsed.comments])
        vecs, art = v[1:], (v[0] if parsed.article else None)
    return Candidates(parsed.comments, [c.author for c in parsed.comments], vecs, art), parents


def greedy_accuracy(w: np.ndarray, threads: Sequence[Prepared]) -> float:
    """Share of comments whose greedily decoded parent is the true one (as the stage decodes)."""
    ok = n = 0
    for cands, truth in threads:
        parents: list[int | None] = []
        for i in range(len(truth)):
            options, f = cands.features(i, parents)
            j = options[int(np.argmax(f @ w))]
            parents.append(j)
            ok += j == truth[i]
            n += 1
    return ok / n if n else float("nan")


def fit(
    train: Sequence[Sequence[Prepared]],
    start: ReplyWeights | None = None,
    steps: Sequence[float] = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0),
    rounds: int = 3,
) -> tuple[ReplyWeights, float]:
    """Coordinate ascent on greedy-decoding accuracy, averaged over the datasets in ``train``
    (so a big dataset does not drown a small one).

    Why not maximum likelihood: a conditional logit fitted under teacher forcing (true earlier
    links) decoded greedily worse than the hand-set prior (RumourEval 0.60 vs 0.71), since
    decoding compounds its own mistakes; searching the decoding accuracy directly does not.
    """

    def objective(w: np.ndarray) -> float:
        return float(np.mean([greedy_accuracy(w, s) for s in train]))

    w = (start or ReplyWeights()).vector()
    best = objective(w)
    for _ in range(rounds):
        improved = False
        for d in range(len(w)):
            for step in steps:
                trial = w.copy()
                trial[d] += step
                score = objective(trial)
                if score > best + 1e-4:
                    best, w, improved = score, trial, True
        if not improved:
            break
    return ReplyWeights(**{n: round(float(v), 4) for n, v in zip(LINK_FEATURES, w, strict=True)}), best


def split_by_thread(items: Sequence[Prepared], folds: int, seed: int = 0) -> list[list[Prepared]]:
    order = np.random.default_rng(seed).permutation(len(items))
    return [[items[i] for i in order[f::folds]] for f in range(folds)]


# -- the run ---------------------------------------------------------------------------------
def cross_validate(
    prepared: Mapping[str, Sequence[Prepared]], prior: ReplyWeights, folds: int = 2, seed: int = 0
) -> dict[str, list[float]]:
    """Greedy parent accuracy per fitting set, fold by fold: weights fitted on the other folds
    of every fitting set, scored on this fold of each (folds split by thread)."""
    split = {name: split_by_thread(prepared[name], folds, seed) for name in FIT_SETS}
    cv: dict[str, list[float]] = {name: [] for name in FIT_SETS}
    for f in range(folds):
        train = [[p for g in range(folds) if g != f for p in split[n][g]] for n in FIT_SETS]
        w, _ = fit(train, prior)
        for n in FIT_SETS:
            cv[n].append(greedy_accuracy(w.vector(), split[n][f]))
    return cv


def evaluation_table(
    known: Mapping[str, Sequence[Thread]], weights: ReplyWeights, prior: ReplyWeights, embed: CachedEmbedder
) -> list[dict[str, Any]]:
    """Fitted and prior weights on every set, with and without 25% of author lines dropped."""
    table = []
    for name in (*FIT_SETS, TEST_SET):
        for drop in (0.0, 0.25):
            for label, w in (("fitted", weights), ("prior", prior)):
                r = evaluate(known[name], drop, seed=0, embed=embed, weights=w).rates()
                table.append({"dataset": name, "authors_dropped": drop, "weights": label, **r})
    return table


REPORT_COLUMNS = (
    "recovered_whole",
    "parent_accuracy",
    "parent_accuracy_top_level",
    "parent_accuracy_nested",
    "author_accuracy_kept",
    "author_accuracy_dropped",
    "author_precision_inferred",
    "baseline_all_top_level",
    "baseline_previous_comment",
)


def report_markdown(cv: Mapping[str, Sequence[float]], table: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "# Reply links and authors from flat text",
        "",
        "Threads whose true structure is known are rendered as scraped flat text (preorder, author",
        "line / blank / text), optionally with 25% of author lines dropped at random (seed 0), parsed",
        "back, and the reply graph inferred with MiniLM similarity. The r/nfl thread",
        "(`formats/reddit-nfl-thread`, 200 comments, depth 8) is never used for fitting.",
        "",
        "Reproduce: `python scripts/fit_reply_links.py` (needs ../shared/data).",
        "",
        "2-fold cross-validated parent accuracy (split by thread): "
        + ", ".join(f"{n} {np.mean(v):.3f}" for n, v in cv.items()),
        "",
        "| dataset | authors dropped | weights | comments | recovered whole | parent acc. | top-level | nested |"
        " author acc. (kept) | author acc. (dropped) | inferred-author precision | baseline: all top-level"
        " | baseline: previous |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['dataset']} | {r['authors_dropped']:.0%} | {r['weights']} | {r['comments']} | "
            + " | ".join(f"{r[c]:.3f}" for c in REPORT_COLUMNS)
            + " |"
        )
    lines += [
        "",
        "Author accuracy (dropped) is the share of lost author lines named correctly; inferred-author",
        "precision is the share of inferred names that are right (an author is inferred only from a reply",
        "that names the comment it answers, or from turn-taking inside an established exchange).",
        "",
        "Fitted and prior on the fitting sets are in-sample; use the cross-validated figures above and the",
        "r/nfl rows as the honest ones. Reddit users rarely address each other by name, so authors whose",
        "line was dropped are seldom recoverable there; news-site threads like the reference one, where",
        'replies open with "Hello X" / "X thank you", are where author inference works.',
        "",
    ]
    return "\n".join(lines)


def model_meta(results: Mapping[str, Any], train_acc: float, encoder: str) -> dict[str, Any]:
    return {
        "name": NAME,
        "kind": "reply_links",
        "features": list(LINK_FEATURES),
        "weights": results["weights"],
        "fitted_on": {n: results["aligned_threads"][n] for n in FIT_SETS},
        "objective": "greedy-decoding parent accuracy, mean over datasets",
        "cv_parent_accuracy": results["cv_parent_accuracy"],
        "train_parent_accuracy": round(train_acc, 4),
        "encoder": encoder,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Fit the reply-link weights and measure reply-link and author recovery.")
    ap.add_argument("--shared", type=Path, default=SHARED_DATA)
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "reply_links_emb.npz")
    ap.add_argument("--no-save", action="store_true", help="measure only; do not write the model")
    ap.add_argument("--encoder", default=DEFAULT_ENCODER, help="sentence encoder (a package:, folder or cached id)")
    ap.add_argument("--reports", type=Path, default=REPO / "reports", help="where reply_graph.md/.json go")
    ap.add_argument("--models", type=Path, default=REPO / "models", help="the models folder holding registry.json")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from discourse.core.modelfiles import register
    from discourse.report.atomic import atomic_write_text

    args = parse_args(argv)
    known = load_known(args.shared)
    embed = CachedEmbedder(args.cache, model=args.encoder)
    prepared = {name: [p for p in (prepare(t, embed) for t in threads) if p] for name, threads in known.items()}
    embed.save()
    prior = ReplyWeights()
    cv = cross_validate(prepared, prior)
    weights, train_acc = fit([prepared[n] for n in FIT_SETS], prior)
    print("fitted weights:", json.dumps({k: getattr(weights, k) for k in LINK_FEATURES}))
    table = evaluation_table(known, weights, prior, embed)
    embed.save()
    results: dict[str, Any] = {
        "cv_parent_accuracy": {n: round(float(np.mean(v)), 4) for n, v in cv.items()},
        "evaluations": table,
        "weights": {k: getattr(weights, k) for k in LINK_FEATURES},
        "threads": {n: len(known[n]) for n in known},
        "aligned_threads": {n: len(prepared[n]) for n in prepared},
    }
    text = report_markdown(cv, table)
    atomic_write_text(args.reports / "reply_graph.md", text)
    atomic_write_text(args.reports / "reply_graph.json", json.dumps(results, indent=2, default=float) + "\n")
    print(text)
    if not args.no_save:
        folder = args.models / NAME
        meta = model_meta(results, train_acc, args.encoder)
        atomic_write_text(folder / "model.json", json.dumps(meta, indent=2) + "\n")
        register(NAME, folder, version="1.0.0", root=args.models, kind="reply_links")
        print(f"saved {folder}")
    return 0

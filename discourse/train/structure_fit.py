"""Fit the learned reply-link scorer (``models/reply-links-v2``) on known trees rendered flat.

Every thread of every fitting source is rendered as scrapers flatten it (depth first, siblings
oldest first, a share of author lines dropped), parsed back and aligned with its truth; each
comment's candidates on the TRUE path give one feature row each (label: is it the parent). A
small MLP (scikit-learn) is fitted on the rows of the training threads, each source weighted
equally; a temperature is fitted on the dev threads' candidate softmax, then a calibration map
from the probability of each decoded link to how often such links are right (isotonic, on the
dev threads decoded by the beam). Splits are by thread (a hash of the id): 60% fit, 10% dev,
30% test; ``reddit-nfl`` is never fitted on.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from discourse.core.thread import Thread
from discourse.formats.flat import parse_flat
from discourse.formats.render_flat import render_flat
from discourse.stages.reply_graph.decode import beam_decode
from discourse.stages.reply_graph.features import FEATURES, Node, PathFeatures
from discourse.stages.reply_graph.scorer import LinkScorer, prior_terms, scorer_from_arrays
from discourse.train.structure_eval import match_key, renderable

Embed = Callable[[Sequence[str]], np.ndarray]


def split_of(thread_id: str) -> str:
    """``fit`` / ``dev`` / ``test`` by a stable hash of the thread id."""
    h = int(hashlib.sha1(thread_id.encode()).hexdigest()[:8], 16) % 10
    return "fit" if h < 6 else "dev" if h == 6 else "test"


@dataclass(frozen=True)
class Example:
    """A known tree rendered flat and parsed back, aligned comment by comment."""

    source: str
    truth: Thread
    parsed: Thread
    parents: list[int | None]
    vecs: np.ndarray | None
    article: np.ndarray | None
    title: np.ndarray | None = None

    def features(self, authors: Sequence[str | None] | None = None) -> PathFeatures:
        a = [c.author for c in self.parsed.comments] if authors is None else authors
        return PathFeatures(self.parsed.comments, a, self.vecs, self.article, title_vec=self.title)


def make_example(thread: Thread, source: str, drop: float, seed: int, embed: Embed | None) -> Example | None:
    truth = renderable(thread)
    if not truth.comments:
        return None
    rng = random.Random(f"{seed}:{thread.id}")
    dropped = {c.id for c in truth.comments if rng.random() < drop}
    parsed = parse_flat(render_flat(truth, drop_author=lambda c: c.id in dropped), thread.id)
    if len(parsed.comments) != len(truth.comments) or any(
        match_key(a.text) != match_key(b.text) for a, b in zip(parsed.comments, truth.comments, strict=True)
    ):
        return None
    index = {c.id: k for k, c in enumerate(truth.comments)}
    parents = [None if c.parent_id is None else index[c.parent_id] for c in truth.comments]
    vecs = art = title = None
    if embed is not None:
        v = embed([parsed.article or parsed.title] + [c.text for c in parsed.comments])
        vecs, art, title = v[1:], (v[0] if parsed.article else None), (None if parsed.article else v[0])
    return Example(source, truth, parsed, parents, vecs, art, title)


def teacher_rows(ex: Example) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of every comment's candidates on the true path: (X, y, group)."""
    feats = ex.features()
    nodes: list[Node] = []
    xs, ys, gs = [], [], []
    for i, p in enumerate(ex.parents):
        top = nodes[i - 1] if i else None
        cands, rows = feats.rows(i, top)
        want = [k for k, c in enumerate(cands) if (c.index if c is not None else None) == p]
        if not want:  # deeper than max_depth: not learnable here
            nodes.append(Node(i, nodes[p] if p is not None else None, nodes[p].depth + 1 if p is not None else 0))
            continue
        y = np.zeros(len(cands))
        y[want[0]] = 1.0
        xs.append(rows)
        ys.append(y)
        gs.append(np.full(len(cands), i))
        nodes.append(Node(i, nodes[p] if p is not None else None, nodes[p].depth + 1 if p is not None else 0))
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(gs)


@dataclass(frozen=True)
class Rows:
    x: np.ndarray
    y: np.ndarray
    group: np.ndarray  # a unique id per (thread, comment)
    source: np.ndarray


def collect_rows(examples: Sequence[Example]) -> Rows:
    xs, ys, gs, ss = [], [], [], []
    offset = 0
    for ex in examples:
        x, y, g = teacher_rows(ex)
        if not len(y):
            continue
        xs.append(x)
        ys.append(y)
        gs.append(g + offset)
        offset += len(ex.parents)
        ss.append(np.full(len(y), ex.source, dtype=object))
    return Rows(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), np.concatenate(ss))


def source_weights(rows: Rows) -> np.ndarray:
    """Each source counts the same in total, whatever its number of rows."""
    w = np.ones(len(rows.y))
    for s in set(rows.source.tolist()):
        m = rows.source == s
        w[m] = len(rows.y) / (m.sum() * len(set(rows.source.tolist())))
    return w


def fit_mlp(rows: Rows, hidden: tuple[int, ...] = (32, 16), seed: int = 0, max_iter: int = 200) -> LinkScorer:
    from sklearn.neural_network import MLPClassifier

    mean = rows.x.mean(axis=0)
    scale = rows.x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    clf = MLPClassifier(
        hidden_layer_sizes=hidden, alpha=1e-3, max_iter=max_iter, random_state=seed, early_stopping=True, tol=1e-5
    )
    clf.fit((rows.x - mean) / scale, rows.y, sample_weight=source_weights(rows))
    layers = list(zip(clf.coefs_, clf.intercepts_, strict=True))
    return scorer_from_arrays(mean, scale, layers)


def conditional_nll(scorer: LinkScorer, rows: Rows, temperature: float = 1.0) -> float:
    z = scorer.logits(rows.x) * scorer.temperature / temperature
    order = np.argsort(rows.group, kind="stable")
    g, z, y = rows.group[order], z[order], rows.y[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    mx = np.maximum.reduceat(z, starts)
    lse = np.log(np.add.reduceat(np.exp(z - np.repeat(mx, np.diff(np.r_[starts, len(z)]))), starts)) + mx
    picked = np.add.reduceat(z * y, starts)
    return float(np.mean(lse - picked))


def fit_temperature(scorer: LinkScorer, rows: Rows) -> LinkScorer:
    grid = np.exp(np.linspace(np.log(0.3), np.log(4.0), 40))
    t = float(min(grid, key=lambda t: conditional_nll(scorer, rows, t)))
    return replace(scorer, temperature=t)


def decoded_links(scorer: LinkScorer, examples: Sequence[Example], beam: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(probability of each decoded link, whether it is right) over the examples."""
    ps: list[float] = []
    ok: list[int] = []
    for ex in examples:
        dec = beam_decode(ex.features(), scorer.log_probs, beam=beam)
        ps.extend(dec.probs)
        ok.extend(int(a == b) for a, b in zip(dec.parents, ex.parents, strict=True))
    return np.array(ps), np.array(ok, dtype=float)


def fit_calibration(p: np.ndarray, right: np.ndarray, knots: int = 12) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """An increasing piecewise-linear map probability -> share right (isotonic, thinned to knots)."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, right)
    xs = np.unique(np.r_[0.0, np.quantile(p, np.linspace(0, 1, knots)), 1.0])
    ys = np.maximum.accumulate(iso.predict(xs))
    return tuple(round(float(x), 4) for x in xs), tuple(round(float(y), 4) for y in ys)


def with_calibration(scorer: LinkScorer, cal: tuple[tuple[float, ...], tuple[float, ...]]) -> LinkScorer:
    return replace(scorer, calibration=cal)


def ece(conf: np.ndarray, right: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over equal-width confidence bins."""
    if not len(conf):
        return float("nan")
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            total += m.sum() / len(conf) * abs(conf[m].mean() - right[m].mean())
    return float(total)


def by_split(examples: Mapping[str, Sequence[Example]]) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {"fit": [], "dev": [], "test": []}
    for exs in examples.values():
        for ex in exs:
            out[split_of(ex.truth.id)].append(ex)
    return out


def fit_listwise(
    rows: Rows,
    hidden: tuple[int, ...] = (32, 16),
    epochs: int = 30,
    seed: int = 0,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    prior: Sequence[float] = (),
) -> LinkScorer:
    """The MLP fitted as a conditional logit: softmax over each comment's candidates, the true
    parent's log-probability maximised (each source weighted equally), as the decoder uses it.
    With a ``prior`` (weights of the linear prior's terms) the network learns a correction added
    to the prior's score, so where the data says little the prior decides."""
    import torch

    torch.manual_seed(seed)
    mean = rows.x.mean(axis=0)
    scale = rows.x.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    order = np.argsort(rows.group, kind="stable")
    g = rows.group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, len(g)])
    m = int(sizes.max())
    n_groups = len(starts)
    x = np.zeros((n_groups, m, rows.x.shape[1]), dtype=np.float32)
    mask = np.zeros((n_groups, m), dtype=bool)
    target = np.zeros(n_groups, dtype=np.int64)
    xs = ((rows.x - mean) / scale)[order]
    ys = rows.y[order]
    offs = (prior_terms(rows.x) @ np.asarray(prior))[order] if len(prior) else np.zeros(len(order))
    offset = np.zeros((len(starts), int(sizes.max())), dtype=np.float32)
    for k, (s, n) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        x[k, :n] = xs[s : s + n]
        offset[k, :n] = offs[s : s + n]
        mask[k, :n] = True
        target[k] = int(np.argmax(ys[s : s + n]))
    src = rows.source[order][starts]
    w = np.ones(n_groups, dtype=np.float32)
    kinds = sorted(set(src.tolist()))
    for s in kinds:
        sel = src == s
        w[sel] = n_groups / (sel.sum() * len(kinds))
    dims = [rows.x.shape[1], *hidden, 1]
    mods: list[torch.nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*mods[:-1])
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    tx, tm, tt, tw, to = map(torch.from_numpy, (x, mask, target, w, offset))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(n_groups, generator=gen)
        for b in range(0, n_groups, 256):
            idx = perm[b : b + 256]
            z = (net(tx[idx]).squeeze(-1) + to[idx]).masked_fill(~tm[idx], -1e9)
            loss = (torch.nn.functional.cross_entropy(z, tt[idx], reduction="none") * tw[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    linears = [mod for mod in net if isinstance(mod, torch.nn.Linear)]
    layers = [
        (lin.weight.detach().numpy().T.astype(np.float64), lin.bias.detach().numpy().astype(np.float64))
        for lin in linears
    ]
    return scorer_from_arrays(mean, scale, layers, prior=prior)


def own_path_rows(ex: Example, scorer: LinkScorer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the states greedy decoding under ``scorer`` actually reaches (DAgger): a comment
    whose true parent is still a candidate is labelled with it; one whose parent the decoder has
    already popped off the path is left out."""
    feats = ex.features()
    top: Node | None = None
    xs, ys, gs = [], [], []
    for i, p in enumerate(ex.parents):
        cands, rows = feats.rows(i, top)
        idx = [c.index if c is not None else None for c in cands]
        if p in idx:
            y = np.zeros(len(cands))
            y[idx.index(p)] = 1.0
            xs.append(rows)
            ys.append(y)
            gs.append(np.full(len(cands), i))
        k = int(np.argmax(scorer.log_probs(rows)))
        c = cands[k]
        top = Node(i, c, 0 if c is None else c.depth + 1)
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(gs)


def collect_own_rows(examples: Sequence[Example], scorer: LinkScorer) -> Rows:
    xs, ys, gs, ss = [], [], [], []
    offset = 0
    for ex in examples:
        x, y, g = own_path_rows(ex, scorer)
        if not len(y):
            continue
        xs.append(x)
        ys.append(y)
        gs.append(g + offset)
        offset += len(ex.parents)
        ss.append(np.full(len(y), ex.source, dtype=object))
    return Rows(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), np.concatenate(ss))


def join_rows(a: Rows, b: Rows) -> Rows:
    shift = int(a.group.max()) + 1 if len(a.group) else 0
    return Rows(
        np.vstack([a.x, b.x]),
        np.concatenate([a.y, b.y]),
        np.concatenate([a.group, b.group + shift]),
        np.concatenate([a.source, b.source]),
    )

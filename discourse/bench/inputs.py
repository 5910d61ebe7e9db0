"""The benchmark's input: real comments of about 100 MiniLM tokens arranged in threads.

Threads are rendered as scraped flat text (the hardest input: parse, reply-link and author
inference before the model stages). The comment texts depend only on a comment's global index, so
one thread of N comments and N/5 threads of 5 hold the same texts and one bare encode of them
serves both shapes.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from pathlib import Path

USERS = [
    f"{a} {b}"
    for a in ("Ann", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo")
    for b in ("Lee", "Ray", "Dunn", "Park", "Moss")
]
STRIDE = 7919  # a prime: consecutive comments draw distant pool entries


def labelled_texts(shared: Path, rumoureval: bool = True) -> list[str]:
    """Every comment text of the Reddit stance sets (DEBAGREEMENT dev, subreddit-agreement and,
    with ``rumoureval``, the RumourEval Reddit replies), as stored."""
    texts: list[str] = []
    with open(shared / "labeled" / "debagreement-dev" / "dev.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            texts += [r["body_parent"], r["body_child"]]
    for name in ("SubReddit-CovidVaccine.csv", "SubReddit-MaskMandate.csv"):
        with open(shared / "labeled" / "subreddit-agreement" / name, encoding="cp1252", newline="") as fh:
            for r in csv.DictReader(fh):
                texts += [r["quote_text"], r["response_text"]]
    for f in sorted((shared / "labeled" / "rumoureval2019-reddit-train").rglob("replies/*.json")) if rumoureval else ():
        texts.append(str(json.loads(f.read_text(encoding="utf-8"))["data"].get("body") or ""))
    return texts


def real_comments(shared: Path, lo: int = 60, hi: int = 95) -> list[str]:
    """Real comments of lo..hi words (about 75-125 MiniLM tokens), de-duplicated, in a fixed order."""
    seen: set[str] = set()
    out = []
    for t in labelled_texts(shared):
        t = " ".join(t.split())
        if lo <= len(t.split()) <= hi and t not in seen and "[deleted]" not in t:
            seen.add(t)
            out.append(t)
    return out


def comment_text(pool: Sequence[str], g: int) -> str:
    """The text of global comment ``g``: pool entry ``g * STRIDE`` for the first ``len(pool)``
    comments, then the first half of that entry's words joined to the second half of another's
    (a different partner each round), so no two of ``len(pool)**2`` comments repeat a text (the
    pipeline embeds a repeated text once: repeats would flatter it against the bare encode) and
    lengths stay those of the pool."""
    p = len(pool)
    a = (g * STRIDE) % p
    r = g // p
    if r == 0:
        return pool[a]
    head, tail = pool[a].split(), pool[(a + r) % p].split()
    return " ".join(head[: len(head) // 2] + tail[len(tail) // 2 :])


def build_thread(pool: Sequence[str], n: int, seed: int = 0, first: int = 0, shown: int | None = None) -> str:
    """A flat-text thread of ``n`` comments: a random reply tree (30% answer the article), 5% of
    author lines lost, rendered in preorder like a scraper would. Comment ``k`` reads
    :func:`comment_text` ``(pool, first + k)`` (``first``: the thread's first global comment index).

    ``shown`` renders only the first ``shown`` comments of the same thread (the thread as it was a
    night earlier): every comment keeps its parent, author, text and lost author line, since each
    is drawn from a generator of its own."""
    from discourse.core.thread import Comment, Thread
    from discourse.formats.render_flat import render_flat

    comments: list[Comment] = []
    lost: set[str] = set()
    for k in range(n if shown is None else min(n, shown)):
        rng = random.Random(f"{seed}/{k}")
        parent = None if k == 0 or rng.random() < 0.3 else f"x{rng.randrange(max(0, k - 20), k)}"
        author = rng.choice(USERS)
        if rng.random() < 0.05:
            lost.add(f"x{k}")
        text = comment_text(pool, first + k)
        comments.append(Comment(id=f"x{k}", text=text, author=author, parent_id=parent))
    thread = Thread(
        id=f"bench{seed}-{n}",
        title=f"Benchmark thread {seed} ({n} comments)",
        comments=tuple(comments),
        article=pool[-1],
    )
    return render_flat(thread, drop_author=lambda c: c.id in lost)


def write_one_thread(pool: Sequence[str], n: int, path: Path) -> Path:
    """One thread of ``n`` comments in one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_thread(pool, n), encoding="utf-8")
    return path


def write_threads(
    pool: Sequence[str], n: int, per_thread: int, folder: Path, shown: int | None = None, seed0: int = 1
) -> Path:
    """``n`` comments as ``n / per_thread`` threads of ``per_thread``, one file each (comment texts as in
    :func:`write_one_thread` of ``n``); ``shown`` renders each thread's first ``shown`` comments only."""
    folder.mkdir(parents=True, exist_ok=True)
    for j in range(n // per_thread):
        text = build_thread(pool, per_thread, seed=seed0 + j, first=j * per_thread, shown=shown)
        (folder / f"t{j:05d}.txt").write_text(text, encoding="utf-8")
    return folder

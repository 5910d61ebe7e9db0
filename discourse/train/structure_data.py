"""Threads whose reply tree is known, from every structure source in ../shared/data.

Each loader returns :class:`~discourse.core.thread.Thread` s with true ``parent_id`` s and the
siblings oldest first (how scrapers list them), ready to be rendered flat:

* ``irc``: Ubuntu IRC (Kummerfeld et al. 2019, CC BY 4.0): every hand-annotated conversation is a
  tree (a message's parent is the nearest earlier message it is linked to; a self-link starts a
  conversation). Conversations are grouped into threads of about 60 messages in the order
  they start: the conversation starts are the top-level comments, there is no article.
* ``rumoureval-twitter``: RumourEval 2019 Twitter reply trees; the source tweet is the article.
* ``rumoureval-reddit``: RumourEval 2019 Reddit threads.
* ``wikiconv``: WikiConv talk-page conversations (the section heading is the title).
* ``reddit-nfl``: one r/nfl thread of 200 comments (never used for fitting).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from discourse.core.thread import Comment, Thread
from discourse.train.reply_links import reddit_threads, wikiconv_threads

SOURCES = ("irc", "rumoureval-twitter", "rumoureval-reddit", "wikiconv", "reddit-nfl")
TEST_ONLY = "reddit-nfl"
"""The source never used for fitting: measured only."""

_IRC_LINE = re.compile(r"^\[(\d\d:\d\d)\] <([^>]+)> (.*)$")
_IRC_ACTION = re.compile(r"^\[(\d\d:\d\d)\] \* (\S+) (.*)$")


def _sorted_siblings(thread: Thread, key: dict[str, str]) -> Thread:
    """The same tree with every comment's children in ``key`` order (oldest first)."""
    order = sorted(range(len(thread.comments)), key=lambda k: (key.get(thread.comments[k].id, ""), k))
    comments = tuple(thread.comments[k] for k in order)
    return Thread(
        id=thread.id,
        title=thread.title,
        comments=comments,
        article=thread.article,
        source_format=thread.source_format,
    )


def irc_log_threads(raw: Path, annotation: Path, size: int = 60) -> list[Thread]:
    """One annotated IRC log as threads of about ``size`` messages (see the module doc)."""
    lines = raw.read_text(encoding="utf-8", errors="replace").split("\n")
    msgs: dict[int, tuple[str, str]] = {}
    for k, line in enumerate(lines):
        m = _IRC_LINE.match(line) or _IRC_ACTION.match(line)
        if m and m.group(3).strip():
            msgs[k] = (m.group(2), m.group(3).strip())
    links: dict[int, list[int]] = {}
    for row in annotation.read_text(encoding="utf-8").split("\n"):
        parts = row.split()
        if len(parts) < 2:
            continue
        a, b = sorted((int(parts[0]), int(parts[1])))
        links.setdefault(b, []).append(a)
    parent: dict[int, int | None] = {}
    for b in sorted(links):
        if b not in msgs:
            continue
        earlier = [a for a in links[b] if a < b]
        if not earlier:
            if b in links[b]:
                parent[b] = None
            continue
        p = max(earlier)
        if p in parent:  # the parent is an annotated message kept in a tree
            parent[b] = p
    root_of: dict[int, int] = {}
    for b in sorted(parent):
        up = parent[b]
        root_of[b] = b if up is None else root_of[up]
    convs: dict[int, list[int]] = {}
    for b in sorted(parent):
        convs.setdefault(root_of[b], []).append(b)
    out: list[Thread] = []
    group: list[int] = []

    def flush() -> None:
        if len(group) >= 3:
            comments = tuple(
                Comment(
                    id=f"m{b}",
                    text=msgs[b][1],
                    author=msgs[b][0],
                    parent_id=None if parent[b] is None else f"m{parent[b]}",
                )
                for b in sorted(group)
            )
            out.append(
                Thread(
                    id=f"{raw.name.split('.')[0]}-{group[0]}", title="#ubuntu", comments=comments, source_format="irc"
                )
            )
        group.clear()

    for r in sorted(convs):
        group.extend(convs[r])
        if len(group) >= size:
            flush()
    flush()
    return out


def irc_threads(folder: Path, limit: int | None = None) -> list[Thread]:
    raws = sorted(folder.glob("*.raw.txt"))[:limit]
    out: list[Thread] = []
    for raw in raws:
        ann = raw.with_name(raw.name.replace(".raw.txt", ".annotation.txt"))
        if ann.exists():
            out.extend(irc_log_threads(raw, ann))
    return out


def _tweet_time(s: str) -> str:
    try:
        return datetime.strptime(s, "%a %b %d %H:%M:%S %z %Y").isoformat()
    except ValueError:
        return s


def twitter_threads(path: Path) -> list[Thread]:
    """RumourEval Twitter trees: the source tweet is the article, its replies the comments."""
    rows: dict[str, list[dict[str, object]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            rows.setdefault(str(r["thread_id"]), []).append(r)
    out: list[Thread] = []
    for tid, tweets in rows.items():
        source = next((t for t in tweets if t["is_source"]), None)
        if source is None:
            continue
        ids = {str(t["tweet_id"]) for t in tweets}
        times = {str(t["tweet_id"]): _tweet_time(str(t["created_at"])) for t in tweets}
        comments = []
        for t in tweets:
            if t["is_source"]:
                continue
            pid = str(t["parent_id"]) if t["parent_id"] else None
            if pid is None or pid not in ids:
                continue
            comments.append(
                Comment(
                    id=str(t["tweet_id"]),
                    text=str(t["text"]),
                    author=str(t["user"]),
                    parent_id=None if pid == tid else pid,
                    created=times[str(t["tweet_id"])],
                )
            )
        if len(comments) >= 2:
            th = Thread(
                id=f"tw-{tid}",
                title=f"{source['user']}: {str(source['event'])}",
                comments=tuple(comments),
                article=str(source["text"]),
                source_format="twitter",
            )
            out.append(_sorted_siblings(th, times))
    return out


def oldest_first(thread: Thread) -> Thread:
    """The same tree with siblings in the order of their ``created`` time (as scrapers list them)."""
    return _sorted_siblings(thread, {c.id: c.created or "" for c in thread.comments})


def _by_created(threads: Iterable[Thread]) -> list[Thread]:
    return [oldest_first(t) for t in threads]


def load_sources(shared: Path, irc_logs: int | None = 60, sources: Sequence[str] = SOURCES) -> dict[str, list[Thread]]:
    """Every structure source by name (``irc_logs``: how many training logs of IRC to read;
    the IRC dev logs are added after them)."""
    out: dict[str, list[Thread]] = {}
    for name in sources:
        if name == "irc":
            base = shared / "structure" / "irc-disentanglement" / "data"
            out[name] = irc_threads(base / "train", irc_logs) + irc_threads(base / "dev")
        elif name == "rumoureval-twitter":
            out[name] = twitter_threads(shared / "labeled" / "rumoureval2019-twitter-train" / "tweets_flat.jsonl")
        elif name == "rumoureval-reddit":
            d = shared / "labeled" / "rumoureval2019-reddit-train" / "reddit-training-data"
            out[name] = _by_created(reddit_threads(sorted(d.glob("*/raw.json"))))
        elif name == "wikiconv":
            out[name] = wikiconv_threads(shared / "formats" / "wikidetox-talk" / "conversations_job2_x1000.json")
        elif name == "reddit-nfl":
            out[name] = _by_created(reddit_threads([shared / "formats" / "reddit-nfl-thread" / "comments.json"]))
        else:
            raise ValueError(f"unknown structure source {name!r}; known: {', '.join(SOURCES)}")
    return out

"""ConvoKit corpora as input: a corpus folder, or its ``utterances.jsonl`` alone.

A ConvoKit corpus (Cornell's Conversational Analysis Toolkit) is a folder of ``utterances.jsonl``
(one utterance per line: ``id``, ``speaker``, ``conversation_id``, ``reply-to``, ``timestamp``,
``text``, ``meta``, ``vectors``), ``speakers.json``, ``conversations.json``, ``corpus.json`` and
``index.json``. Older corpora say ``user`` for ``speaker`` and ``root`` for ``conversation_id``; some
say ``reply_to``: all are read.

Each conversation becomes a Thread (id: the conversation id; title: the conversation's ``title``
meta, else its id) with its utterances as comments in file order: ``reply-to`` gives the parent
(None answers the article), ``speaker`` the author, ``timestamp`` (epoch seconds) the time.
A reply to an utterance not in the conversation answers the article, with a warning.

Corpora written by ``discourse export --to convokit`` (:mod:`discourse.exports.convokit`) come back
exactly: their first utterance per conversation is the article (``meta.discourse_role`` =
"article", holding the title and thread id), and utterance meta keeps what ConvoKit has no field for
(``discourse_id`` when the utterance id had to be prefixed to be unique in the corpus,
``author_known``, ``author_inferred``, ``author_evidence``, ``parent_confidence``,
``parent_evidence``, the verbatim ``created``). Our labels in meta are not read: a new analysis
computes its own. Of a foreign corpus's meta, the fields the report shows are kept (:data:`SITE_META`,
and the conversation's ``subreddit``).

``discourse analyze CORPUS_DIR`` reads the folder as one input (:func:`corpus_inputs`); the
``convokit`` format is also detected from an ``utterances.jsonl`` file's content.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.tabular import assemble, id_str, listing, to_iso

UTTERANCES = "utterances.jsonl"
COMPANIONS = ("speakers.json", "conversations.json", "corpus.json", "index.json")
UNKNOWN_SPEAKER = "[unknown]"
"""Speaker id of an utterance whose author is unknown (ConvoKit needs one), with ``author_known`` false."""
ROLE = "discourse_role"
ARTICLE = "article"
SPEAKER_KEYS = ("speaker", "user")
CONVERSATION_KEYS = ("conversation_id", "root")
REPLY_KEYS = ("reply-to", "reply_to")
SITE_META = ("score", "stickied", "distinguished", "permalink", "url", "removed", "deleted")
"""Utterance meta kept on the comment (the report shows them), as ConvoKit's Reddit corpora have them."""


def _first(row: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for k in keys:
        if k in row:
            return row[k]
    return None


def _is_utterance(row: Any) -> bool:
    return (
        isinstance(row, dict)
        and "id" in row
        and "text" in row
        and any(k in row for k in SPEAKER_KEYS)
        and any(k in row for k in CONVERSATION_KEYS)
    )


def sniff_convokit(sample: str, filename: str) -> bool:
    """An ``utterances.jsonl`` whose first line is an utterance, or any JSONL whose first line has
    every ConvoKit utterance field (``reply-to`` or ``meta`` and ``timestamp`` beside the rest)."""
    line = sample.lstrip("\ufeff").lstrip().split("\n", 1)[0]
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError):
        return False
    if not _is_utterance(row):
        return False
    if filename.lower().endswith(UTTERANCES):
        return True
    return "reply-to" in row or ({"meta", "timestamp"} <= set(row) and any(k in row for k in REPLY_KEYS))


def is_corpus(folder: Path) -> bool:
    """A folder holding ``utterances.jsonl`` and at least one of ConvoKit's other corpus files."""
    return (folder / UTTERANCES).is_file() and any((folder / name).is_file() for name in COMPANIONS)


def corpus_inputs(paths: Iterable[str]) -> list[str]:
    """``paths`` with every ConvoKit corpus folder replaced by its ``utterances.jsonl``, so the corpus
    is read as one input (its speakers/conversations/index files are not comment files)."""
    return [str(Path(p) / UTTERANCES) if Path(p).is_dir() and is_corpus(Path(p)) else p for p in paths]


def read_corpus(folder: str | Path) -> list[Thread]:
    """Every conversation of a corpus folder as a Thread; titles from ``conversations.json``."""
    from discourse.formats.reading import read_text

    root = Path(folder)
    if not (root / UTTERANCES).is_file():
        raise InputError(f"{root}: not a ConvoKit corpus (no {UTTERANCES})")
    conversations: dict[str, Any] = {}
    try:
        data = json.loads((root / "conversations.json").read_text(encoding="utf-8"))
        conversations = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        pass
    text, warnings = read_text(root / UTTERANCES)
    threads = parse_convokit(text, root.name, conversations)
    return [t.with_warnings(*warnings) if warnings else t for t in threads]


def parse_convokit(text: str, name: str, conversations: Mapping[str, Any] | None = None) -> list[Thread]:
    """The conversations of an ``utterances.jsonl`` text, in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    conv_of: dict[str, str] = {}  # utterance id -> conversation id
    bad: list[str] = []
    for no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            bad.append(str(no))
            continue
        if not _is_utterance(row) or id_str(row.get("id")) is None:
            bad.append(str(no))
            continue
        uid = str(id_str(row["id"]))
        conv = id_str(_first(row, CONVERSATION_KEYS))
        if conv is None:  # ConvoKit fills it from the reply chain; so do we, when the parent came first
            conv = conv_of.get(str(id_str(_first(row, REPLY_KEYS))), uid)
        conv_of.setdefault(uid, conv)
        groups.setdefault(conv, []).append(row)
    if not groups:
        raise InputError(
            f"{name}: no ConvoKit utterance found (expected lines with id, speaker, conversation_id, text)"
        )
    notes = [f"{len(bad)} line(s) are not ConvoKit utterances and were skipped (lines {listing(bad)})"] if bad else []
    convs = conversations or {}
    threads = [_thread(conv, rows, convs.get(conv)) for conv, rows in groups.items()]
    threads = [t for t in threads if t.comments]
    if not threads:
        raise InputError(f"{name}: the ConvoKit corpus holds no utterance besides its articles")
    if notes:
        threads[0] = threads[0].with_warnings(*notes)
    return threads


def _meta(row: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = row.get("meta")
    return meta if isinstance(meta, Mapping) else {}


def _conversation_meta(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        return {}
    meta = data.get("meta", data)  # ConvoKit 2.x: {"meta": ..., "vectors": ...}; older: the meta itself
    return meta if isinstance(meta, Mapping) else {}


def _thread(conv: str, rows: list[dict[str, Any]], conv_data: Any) -> Thread:
    cmeta = _conversation_meta(conv_data)
    article_row = next((r for r in rows if _meta(r).get(ROLE) == ARTICLE), None)
    ameta = _meta(article_row) if article_row is not None else {}
    article_id = str(id_str(article_row["id"])) if article_row is not None else None
    ours = {str(id_str(r["id"])): str(_meta(r).get("discourse_id") or id_str(r["id"])) for r in rows}
    comments: list[Comment] = []
    for r in rows:
        if r is article_row:
            continue
        meta = _meta(r)
        raw = _first(r, SPEAKER_KEYS)
        speaker = raw if isinstance(raw, str) else id_str(raw)  # an empty name stays a name
        reply = id_str(_first(r, REPLY_KEYS))
        parent = None if reply is None or reply == article_id else ours.get(reply, reply)
        created = meta.get("created") if isinstance(meta.get("created"), str) else to_iso(r.get("timestamp"))
        evidence = meta.get("parent_evidence")
        confidence = meta.get("parent_confidence")
        comments.append(
            Comment(
                id=ours[str(id_str(r["id"]))],
                text=r["text"] if isinstance(r.get("text"), str) else "",
                author=speaker if meta.get("author_known", True) is not False else None,
                author_inferred=meta.get("author_inferred") is True,
                parent_id=parent,
                parent_confidence=float(confidence) if isinstance(confidence, int | float) else 1.0,
                parent_evidence=tuple(str(e) for e in evidence) if isinstance(evidence, list) else (),
                created=created,
                meta=_comment_meta(meta),
            )
        )
    title = ameta.get("title") if isinstance(ameta.get("title"), str) else cmeta.get("title")
    given = ameta.get("thread_id")
    thread_id = given if isinstance(given, str) else conv
    article = article_row.get("text") if article_row is not None else ""
    subreddit = cmeta.get("subreddit")
    return assemble(
        thread_id,
        comments,
        title=title if isinstance(title, str) else conv,
        article=article if isinstance(article, str) else "",
        source_format="convokit",
        meta={"conversation_id": conv, **({"subreddit": subreddit} if isinstance(subreddit, str) else {})},
    )


def _comment_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """What the comment keeps of its utterance meta: the author evidence (ours), and the site's
    score, flags and link (a foreign corpus's), when they are plain values."""
    out = {k: meta[k] for k in SITE_META if isinstance(meta.get(k), str | int | float | bool)}
    if isinstance(meta.get("author_evidence"), str):
        out["author_evidence"] = meta["author_evidence"]
    return out

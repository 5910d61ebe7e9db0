"""Wikipedia talk-page conversations as WikiConv (and the Wikipedia Detox tools) export them.

A JSON list of conversations (or one conversation), each an object mapping an utterance id to
``{id, comment_type, content, timestamp, status, page_title, user_text, parent_id}``; one Thread
per conversation, identified by its root utterance id (as ConvoKit names conversations).

* ``SECTION_CREATION`` (content ``" ==Heading=="``) is the section heading: it titles the thread
  ("page title: heading") and is not a comment; its replies answer the article. A conversation
  with no heading is titled by its page. A second heading in one conversation stays a comment.
* A root that is not a heading (``parent_id`` empty or naming no utterance of the conversation)
  answers the article; a self-parented utterance is a root too (repaired with a warning).
* ``COMMENT_MODIFICATION`` utterances are later edits; WikiConv gives them the parent of the
  text they replace, so they are kept as comments at that place (``meta["comment_type"]``).
* Text (``content``) is kept verbatim, WikiConv's markup placeholders ("[WIKI_LINK: …]") included.
  Utterances without text are skipped unless others answer them. Comments come in time order.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.reading import load_json
from discourse.formats.tabular import assemble, id_str, listing, needed_placeholders, to_iso

SECTION = "SECTION_CREATION"
_HEADING = re.compile(r"^\s*(=+)\s*(.*?)\s*\1\s*$", re.DOTALL)


def looks_like_wikiconv(data: Any) -> bool:
    """A list of conversations (or one): objects whose values are utterances with content and a parent."""
    convs = data if isinstance(data, list) else [data]
    if not convs or not all(isinstance(c, dict) and c for c in convs[:20]):
        return False
    nodes = [n for c in convs[:20] for n in list(c.values())[:5]]
    return any(isinstance(n, dict) and "content" in n and "parent_id" in n for n in nodes)


def parse_wikiconv(text: str, source_name: str = "input") -> list[Thread]:
    file_notes: list[str] = []
    data = load_json(text, source_name, file_notes)
    if not looks_like_wikiconv(data):
        raise InputError(
            f"{source_name}: not a WikiConv export (expected conversations mapping ids to utterances "
            "with content and parent_id)"
        )
    convs = data if isinstance(data, list) else [data]
    threads: list[Thread] = []
    skipped: list[str] = []
    used: set[str] = set()
    for n, conv in enumerate(convs, start=1):
        if not isinstance(conv, dict):
            skipped.append(f"conversation {n}")
            continue
        nodes = []
        for key, node in conv.items():
            if isinstance(node, dict):
                nodes.append((id_str(node.get("id")) or str(key), node))
            else:
                skipped.append(f"{key} (conversation {n})")
        if not nodes:
            continue
        thread = _thread(nodes, n, source_name)
        if thread.id in used:
            thread = replace(thread, id=f"{thread.id}#{n}").with_warnings(
                f"another conversation in the file has the root {thread.id}; this one is named {thread.id}#{n}"
            )
        used.add(thread.id)
        if thread.comments:
            threads.append(thread)
    if skipped:
        file_notes.append(f"skipped {len(skipped)} entry(ies) that are not utterance objects: {listing(skipped)}")
    if threads and file_notes:
        threads[0] = threads[0].with_warnings(*file_notes)
    return threads


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _thread(nodes: list[tuple[str, dict[str, Any]]], n: int, label: str) -> Thread:
    notes: list[str] = []
    ids = {nid for nid, _ in nodes}
    # Time order (the file's order among equals); the first heading that is a root titles the thread.
    order = sorted(range(len(nodes)), key=lambda k: (_str(nodes[k][1].get("timestamp")), k))
    nodes = [nodes[k] for k in order]
    heading_id: str | None = None
    heading = ""
    for nid, node in nodes:
        parent = id_str(node.get("parent_id"))
        if node.get("comment_type") == SECTION and (parent is None or parent not in ids):
            heading_id, heading = nid, _heading(_str(node.get("content")))
            break
    page = next((_str(node.get("page_title")).strip() for _, node in nodes if _str(node.get("page_title")).strip()), "")
    parent_of: dict[str, str | None] = {}
    for nid, node in nodes:
        if nid == heading_id:
            continue
        parent = id_str(node.get("parent_id"))
        parent_of[nid] = None if parent is None or parent == heading_id or not parent.strip() else parent
    empty = {nid for nid, node in nodes if nid != heading_id and not _str(node.get("content")).strip()}
    keep = needed_placeholders(parent_of, empty)
    comments: list[Comment] = []
    for nid, node in nodes:
        if nid == heading_id or (nid in empty and nid not in keep):
            continue
        meta: dict[str, Any] = {
            k: node[k] for k in ("comment_type", "status") if isinstance(node.get(k), str) and node[k]
        }
        if nid in keep:
            meta["placeholder"] = True
        author = _str(node.get("user_text")).strip()
        comments.append(
            Comment(
                id=nid,
                text=_str(node.get("content")),
                author=author or None,
                parent_id=parent_of[nid],
                parent_confidence=1.0,
                created=to_iso(node.get("timestamp")),
                meta=meta,
            )
        )
    if empty - keep:
        notes.append(f"{len(empty - keep)} utterance(s) without text were skipped: {listing(sorted(empty - keep))}")
    if keep:
        notes.append(
            f"{len(keep)} utterance(s) without text were kept as empty placeholders because others "
            f"answer them (ids {listing(sorted(keep))})"
        )
    root = heading_id or (comments[0].id if comments else f"conversation-{n}")
    title = f"{page}: {heading}" if page and heading else (page or heading or root)
    meta = {"page_title": page or None, "section": heading or None, "conversation_id": root, "source": label}
    return assemble(root, comments, title=title, source_format="wikiconv_json", warnings=notes, meta=meta)


def _heading(content: str) -> str:
    m = _HEADING.match(content)
    return (m.group(2) if m else content).strip()

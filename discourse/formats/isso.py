"""isso's generic JSON import format: a list of threads ``{"id", "title", "comments": [...]}``.

Each comment has ``id`` (an integer, unique within its thread), ``author``, ``email``,
``website``, ``remote_addr``, ``created`` ("%Y-%m-%d %H:%M:%S") and ``text``. The format has
no reply field (isso imports every comment as top level), so comments answer the article
unless they carry a ``parent`` id, which is honoured (0 or -1 mean none unless a comment has
that id). Comments are ordered by id, as isso orders them (ids that are not numbers keep file
order, after the numbered ones). Text is kept verbatim unless it holds HTML, which is
converted to plain text with its line breaks kept. Comments without text are skipped unless
others reply to them. The thread ``id`` (the page path) names the Thread; a repeated one gets
``#N`` appended. Titles are kept as written (the isso fixtures carry form-encoded titles such
as "Test+post"). E-mail and IP addresses are not kept.
"""

from __future__ import annotations

from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.disqus import html_to_text, looks_like_html
from discourse.formats.reading import load_json
from discourse.formats.tabular import assemble, id_str, listing, to_iso


def parse_isso(text: str, source_name: str = "input") -> list[Thread]:
    file_notes: list[str] = []
    data = load_json(text, source_name, file_notes)
    if not isinstance(data, list) or not all(isinstance(t, dict) and isinstance(t.get("comments"), list) for t in data):
        raise InputError(
            f'{source_name}: not an isso generic export (expected a list of threads, each with a "comments" list)'
        )
    threads: list[Thread] = []
    used: set[str] = set()
    for n, raw in enumerate(data, start=1):
        tid = id_str(raw.get("id")) or f"thread-{n}"
        notes = [] if id_str(raw.get("id")) else [f"thread {n} has no id; named {tid}"]
        if tid in used:
            notes.append(f"another thread in the file has the id {tid}; this one is named {tid}#{n}")
            tid = f"{tid}#{n}"
        used.add(tid)
        thread = _thread(tid, raw, notes, source_name)
        if thread.comments:
            threads.append(thread)
    if threads and file_notes:
        threads[0] = threads[0].with_warnings(*file_notes)
    return threads


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _order(item: tuple[int, dict[str, Any]]) -> tuple[int, float, int]:
    n, c = item
    raw = c.get("id")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return (0, float(raw), n)
    try:
        return (0, float(str(raw)), n)
    except ValueError:
        return (1, 0.0, n)


def _thread(tid: str, raw: dict[str, Any], notes: list[str], label: str) -> Thread:
    rows = sorted(((n, c) for n, c in enumerate(raw["comments"], start=1) if isinstance(c, dict)), key=_order)
    if len(rows) < len(raw["comments"]):
        notes.append(f"skipped {len(raw['comments']) - len(rows)} entry(ies) that are not comment objects")
    ids = [id_str(c.get("id")) or f"comment-{n}" for n, c in rows]
    numbered = [cid for cid, (_, c) in zip(ids, rows) if id_str(c.get("id")) is None]
    parents = [id_str(c.get("parent")) for _, c in rows]
    parents = [None if p is None or (p in ("0", "-1") and p not in ids) else p for p in parents]
    replied_to = {p for p in parents if p is not None}
    comments: list[Comment] = []
    empty: list[str] = []
    for cid, pid, (_, c) in zip(ids, parents, rows):
        body = _str(c.get("text"))
        meta: dict[str, Any] = {}
        if looks_like_html(body):
            body, links = html_to_text(body, keep_newlines=True)
            if links:
                meta["links"] = tuple(links)
        if not body.strip():
            if cid not in replied_to:
                empty.append(cid)
                continue
            meta["placeholder"] = True
        if isinstance(c.get("website"), str) and c["website"].strip():
            meta["author_url"] = c["website"].strip()
        author = c.get("author")
        comments.append(
            Comment(
                id=cid,
                text=body,
                author=(author.strip() or None) if isinstance(author, str) else None,
                parent_id=pid,
                parent_confidence=1.0,
                created=to_iso(c.get("created")),
                meta=meta,
            )
        )
    if numbered:
        notes.append(f"{len(numbered)} comment(s) had no id and were numbered by position: {listing(numbered)}")
    if empty:
        notes.append(f"skipped {len(empty)} comment(s) without text: {listing(empty)}")
    title = _str(raw.get("title"))
    return assemble(
        tid, comments, title=title.strip() or tid, source_format="isso_json", warnings=notes, meta={"source": label}
    )

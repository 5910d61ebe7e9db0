"""Commento JSON export (``{"version": 1, "comments": [...], "commenters": [...]}``); one Thread per page.

A page is identified by its ``url`` (the page path), prefixed with its ``domain`` when the
export covers several domains. ``parentHex`` "root" (or empty) means the comment answers the
page. Text is the ``markdown`` source, kept verbatim; when only ``html`` is present it is
converted to plain text. Authors come from the ``commenters`` list; ``commenterHex``
"anonymous" is "Anonymous"; an unknown commenter leaves the author empty, with a warning.

Rules: deleted comments are kept as empty placeholders only when others reply to them;
comments in state "flagged" (Commento's spam state) are excluded; "unapproved" ones are kept
with ``meta["approved"]`` False. Comments are kept in file order. E-mail addresses are not kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.disqus import html_to_text
from discourse.formats.reading import load_json
from discourse.formats.tabular import assemble, id_str, listing, needed_placeholders, to_iso

_TOP_LEVEL = ("", "root")


def parse_commento(text: str, source_name: str = "input") -> list[Thread]:
    file_notes: list[str] = []
    data = load_json(text, source_name, file_notes)
    if not isinstance(data, dict) or not isinstance(data.get("comments"), list):
        raise InputError(f'{source_name}: not a Commento export (expected an object with a "comments" list)')
    names = _commenters(data.get("commenters"))
    if data.get("version") not in (None, 1):
        file_notes.append(f"Commento export version {data.get('version')!r}; read as version 1")
    rows = [r for r in data["comments"] if isinstance(r, dict)]
    if len(rows) < len(data["comments"]):
        file_notes.append(f"skipped {len(data['comments']) - len(rows)} entry(ies) that are not comment objects")
    domains = {str(r.get("domain") or "") for r in rows}
    pages: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        url = str(r.get("url") or "")
        domain = str(r.get("domain") or "")
        key = f"{domain}{url}" if len(domains) > 1 else (url or domain or "/")
        pages.setdefault(key, []).append(r)
    threads = [_thread(key, page, names, source_name) for key, page in pages.items()]
    threads = [t for t in threads if t.comments]
    if threads and file_notes:
        threads[0] = threads[0].with_warnings(*file_notes)
    return threads


def _commenters(raw: Any) -> dict[str, str]:
    names = {"anonymous": "Anonymous"}
    for c in raw if isinstance(raw, list) else []:
        if isinstance(c, dict) and c.get("commenterHex") and isinstance(c.get("name"), str) and c["name"].strip():
            names[str(c["commenterHex"])] = c["name"].strip()
    return names


def _thread(key: str, rows: list[dict[str, Any]], names: Mapping[str, str], label: str) -> Thread:
    notes: list[str] = []
    ids = [id_str(r.get("commentHex")) or f"comment-{n}" for n, r in enumerate(rows, start=1)]
    unnamed = [cid for cid, r in zip(ids, rows) if not id_str(r.get("commentHex"))]
    parent_of = {cid: _parent(r) for cid, r in zip(ids, rows)}
    flagged = {cid for cid, r in zip(ids, rows) if str(r.get("state") or "").lower() == "flagged"}
    deleted = {cid for cid, r in zip(ids, rows) if r.get("deleted") is True} - flagged
    keep = needed_placeholders({k: v for k, v in parent_of.items() if k not in flagged}, deleted)
    comments: list[Comment] = []
    unknown: set[str] = set()
    for cid, r in zip(ids, rows):
        if cid in flagged or (cid in deleted and cid not in keep):
            continue
        meta: dict[str, Any] = {}
        body = ""
        if cid in deleted:
            meta["deleted"] = True
        else:
            body = r["markdown"] if isinstance(r.get("markdown"), str) else ""
            if not body.strip() and isinstance(r.get("html"), str) and r["html"].strip():
                body, links = html_to_text(r["html"])
                if links:
                    meta["links"] = tuple(links)
        hexid = str(r.get("commenterHex") or "")
        if hexid and hexid not in names:
            unknown.add(hexid)
        if hexid:
            meta["commenter_hex"] = hexid
        if str(r.get("state") or "").lower() == "unapproved":
            meta["approved"] = False
        if isinstance(r.get("score"), int):
            meta["score"] = r["score"]
        comments.append(
            Comment(
                id=cid,
                text=body,
                author=names.get(hexid),
                parent_id=parent_of[cid],
                parent_confidence=1.0,
                created=to_iso(r.get("creationDate")),
                meta=meta,
            )
        )
    if unnamed:
        notes.append(f"{len(unnamed)} comment(s) had no commentHex and were numbered: {listing(unnamed)}")
    if flagged:
        notes.append(f"excluded {len(flagged)} comment(s) flagged as spam: {listing(sorted(flagged))}")
    if keep:
        notes.append(
            f"{len(keep)} deleted comment(s) kept as empty placeholders because others reply to "
            f"them: {listing(sorted(keep))}"
        )
    if deleted - keep:
        notes.append(
            f"dropped {len(deleted - keep)} deleted comment(s) nobody replies to: {listing(sorted(deleted - keep))}"
        )
    if unknown:
        notes.append(f"{len(unknown)} commenter(s) are not in the commenters list; their authors are left empty")
    meta = {"url": key, "domain": rows[0].get("domain") or None, "source": label}
    return assemble(key, comments, title=key, source_format="commento_json", warnings=notes, meta=meta)


def _parent(row: Mapping[str, Any]) -> str | None:
    p = id_str(row.get("parentHex"))
    return None if p is None or p.strip().lower() in _TOP_LEVEL else p

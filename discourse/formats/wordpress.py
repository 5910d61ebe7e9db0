"""WordPress WXR export: one Thread per <item> (post or page) that has comments.

``<wp:comment_parent>`` 0 (or empty) means the comment answers the post. Spam and trashed
comments are excluded with a warning; pending ones are kept (``meta["approved"]`` is
False). Comment text is kept verbatim unless it holds HTML, which is converted to plain
text with its line breaks kept. E-mail and IP addresses are not kept. A thread is identified
by the item's <link>, else its <guid>, else its post id; a second item with the same link gets
``#N`` (its position) appended, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.disqus import child, child_text, html_to_text, local, looks_like_html, parse_xml
from discourse.formats.tabular import assemble, to_iso

_EXCLUDED_STATUS = {"spam": "spam", "trash": "in the trash", "post-trashed": "in the trash"}


def parse_wordpress(text: str, source_name: str = "input") -> list[Thread]:
    file_notes: list[str] = []
    try:
        root = parse_xml(text, source_name, file_notes)
    except ParseError as exc:
        raise InputError(f"{source_name}: not well-formed XML ({exc})") from None
    if local(root.tag) != "rss":
        raise InputError(f"{source_name}: not a WordPress export (root element <{local(root.tag)}>)")
    channel = child(root, "channel")
    items = [el for el in (channel if channel is not None else root) if local(el.tag) == "item"]
    threads: list[Thread] = []
    used: set[str] = set()
    for n, item in enumerate(items, start=1):
        comments = [c for c in item if local(c.tag) == "comment"]
        if comments:
            thread = _thread(item, n, comments, source_name)
            if thread.id in used:  # two items with one link (a post and its revision, …)
                thread = replace(thread, id=f"{thread.id}#{n}").with_warnings(
                    f"another item in the file has the same link; this one is named {thread.id}#{n}"
                )
            used.add(thread.id)
            threads.append(thread)
    if threads and file_notes:
        threads[0] = threads[0].with_warnings(*file_notes)
    return threads


def _thread(item: Element, n: int, comment_els: list[Element], label: str) -> Thread:
    notes: list[str] = []
    link = child_text(item, "link").strip()
    post_id = child_text(item, "post_id").strip()
    tid = link or child_text(item, "guid").strip() or (f"wp-post-{post_id}" if post_id else f"item-{n}")
    title = child_text(item, "title").strip()
    article, _ = html_to_text(child_text(item, "encoded"))  # <content:encoded>

    comments: list[Comment] = []
    excluded: list[str] = []
    no_id: list[str] = []
    no_time: list[str] = []
    for k, el in enumerate(comment_els, start=1):
        cid = child_text(el, "comment_id").strip()
        if not cid:
            cid = f"comment-{k}"
            no_id.append(cid)
        status = child_text(el, "comment_approved").strip().lower()
        if status in _EXCLUDED_STATUS:
            excluded.append(f"{cid} ({_EXCLUDED_STATUS[status]})")
            continue
        parent = child_text(el, "comment_parent").strip()
        body = child_text(el, "comment_content").strip()
        meta: dict[str, Any] = {}
        if looks_like_html(body):
            body, links = html_to_text(body, keep_newlines=True)
            if links:
                meta["links"] = tuple(links)
        created = _created(el)
        if created is None:
            no_time.append(cid)
        kind = child_text(el, "comment_type").strip()
        if kind and kind != "comment":
            meta["type"] = kind  # pingback, trackback, …
        if status in ("0", "hold", "unapproved"):
            meta["approved"] = False
        url = child_text(el, "comment_author_url").strip()
        if url:
            meta["author_url"] = url
        author = child_text(el, "comment_author").strip()
        comments.append(
            Comment(
                id=cid,
                text=body,
                author=author or None,
                parent_id=None if parent in ("", "0") else parent,
                parent_confidence=1.0,
                created=created,
                meta=meta,
            )
        )
    if no_id:
        notes.append(f"{len(no_id)} comment(s) had no <wp:comment_id> and were numbered: {', '.join(no_id[:5])}")
    if excluded:
        notes.append(f"excluded {len(excluded)} comment(s): {', '.join(excluded[:5])}")
    if no_time:
        notes.append(f"{len(no_time)} comment(s) have no readable date: {', '.join(no_time[:5])}")
    meta = {
        "link": link or None,
        "post_id": post_id or None,
        "source": label,
        "created": _gmt(child_text(item, "post_date_gmt")) or to_iso(child_text(item, "pubDate").strip()),
        "post_author": child_text(item, "creator").strip() or None,
    }
    return assemble(
        tid, comments, title=title or tid, article=article, source_format="wordpress_xml", warnings=notes, meta=meta
    )


def _created(el: Element) -> str | None:
    """Prefer the GMT date (unambiguous); fall back to the local one. WordPress writes 0000-… for none."""
    return _gmt(child_text(el, "comment_date_gmt")) or to_iso(child_text(el, "comment_date").strip())


def _gmt(value: str) -> str | None:
    """A ``*_gmt`` date: UTC, written without an offset (one already there is kept)."""
    iso = to_iso(value.strip())
    return iso if iso is None or re.search(r"(?:[+-]\d\d:\d\d|Z)$", iso) else iso + "+00:00"

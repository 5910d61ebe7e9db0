"""Reddit ``/comments/<id>.json`` responses: ``[post Listing, comment Listing]``.

Comments are read depth first in API order (the order the page shows), so a
parent always comes before its replies. "more" stubs (comments Reddit did not send)
are not comments: they are counted in a warning, listed raw in ``Thread.meta["more"]`` and
as placeholders in ``Thread.meta["missing"]``: one mapping per stub, in reading order, with

* ``parent_id``: the comment the missing replies answer (None: the post), always in the thread;
* ``count``: how many comments Reddit says are behind the stub (replies of replies included);
* ``ids``: the ids of the missing direct replies it lists (empty for "continue this thread");
* ``kind``: "more" (a "load more comments" link) or "continue" (a "continue this thread" link,
  count 0: the replies are there but deeper than the response goes);
* ``stub_id``: the stub's own id.

A deleted comment that only a stub answers is kept as a placeholder too, so no stub loses its parent.
Text fields are HTML-unescaped exactly once (responses fetched without ``raw_json=1``
carry ``&amp;``/``&gt;``). The RumourEval ``raw.json`` files use the same schema.

A "[deleted]" author leaves ``author`` empty (``meta["deleted"]``). A comment whose body is
"[deleted]" or "[removed]" is not the commenter's text: it is kept as an empty placeholder
(``meta["body_deleted"]``/``meta["body_removed"]``) only when a comment in the file replies to
it, and dropped otherwise, with a warning either way. A comment without an id is named
``comment-N`` (N = its position in reading order). A response with no comment in it gives no
thread.
"""

from __future__ import annotations

import html
from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.reading import load_json
from discourse.formats.tabular import assemble, needed_placeholders, to_iso

_GONE = ("[deleted]", "[removed]")
_COMMENT_META = (
    "score",
    "edited",
    "stickied",
    "distinguished",
    "controversiality",
    "is_submitter",
    "permalink",
    "gilded",
    "author_flair_text",
)


def parse_reddit(text: str, source_name: str = "input") -> list[Thread]:
    file_notes: list[str] = []
    data = load_json(text, source_name, file_notes)
    listings = data if isinstance(data, list) else [data]
    if not listings or not all(_is_listing(x) for x in listings):
        raise InputError(f"{source_name}: not a Reddit comments response (expected [post Listing, comment Listing])")
    post: dict[str, Any] = {}
    comment_things: list[Any] = []
    for listing in listings:
        for thing in _list(listing["data"].get("children")):
            if isinstance(thing, dict) and thing.get("kind") == "t3" and not post:
                post = thing["data"] if isinstance(thing.get("data"), dict) else {}
            else:
                comment_things.append(thing)
    thread = _thread(post, comment_things, source_name).with_warnings(*file_notes)
    return [thread] if thread.comments else []


def _is_listing(x: Any) -> bool:
    return isinstance(x, dict) and x.get("kind") == "Listing" and isinstance(x.get("data"), dict)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _unescape(value: Any) -> str:
    return html.unescape(value) if isinstance(value, str) else ""


def _strip_prefix(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    return name.split("_", 1)[1] if name[:3] in ("t1_", "t3_") else name


def _thread(post: dict[str, Any], things: list[Any], label: str) -> Thread:
    notes: list[str] = []
    post_id = _strip_prefix(post.get("name")) or post.get("id")
    comments: list[Comment] = []
    stubs: list[dict[str, Any]] = []
    skipped: list[str] = []
    # Depth-first, API order: a stack of (thing, parent id from the tree) in reverse.
    stack: list[tuple[Any, str | None]] = [(t, None) for t in reversed(things)]
    while stack:
        thing, tree_parent = stack.pop()
        if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
            skipped.append("a malformed entry")
            continue
        kind, d = thing.get("kind"), thing["data"]
        if kind == "more":
            stubs.append(
                {
                    "id": d.get("id"),
                    "parent_id": _parent(d, post_id, tree_parent),
                    "count": _count(d.get("count")),
                    "children": tuple(_list(d.get("children"))),
                }
            )
            continue
        if kind != "t1":
            skipped.append(f"an entry of kind {kind!r}")
            continue
        post_id = post_id or _strip_prefix(d.get("link_id"))
        comment = _comment(d, post_id, tree_parent, len(comments) + 1)
        comments.append(comment)
        replies = d.get("replies")
        if _is_listing(replies):
            for child in reversed(_list(replies["data"].get("children"))):
                stack.append((child, comment.id))
    if skipped:
        notes.append(f"skipped {len(skipped)} entry(ies) that are not comments: {', '.join(sorted(set(skipped)))}")
    comments = _drop_gone_bodies(comments, notes, {s["parent_id"] for s in stubs} - {None})
    _note_stubs(stubs, post.get("num_comments"), len(comments), notes)
    deleted = sum(1 for c in comments if c.meta.get("deleted"))
    if deleted:
        notes.append(f"{deleted} comment(s) have a deleted author ('[deleted]'); author left empty")
    title = _unescape(post.get("title"))
    meta = {
        "source": label,
        "subreddit": post.get("subreddit"),
        "url": post.get("url"),
        "permalink": post.get("permalink"),
        "post_author": post.get("author"),
        "score": post.get("score"),
        "num_comments": post.get("num_comments"),
        "created": to_iso(post.get("created_utc")),
        "more": tuple(stubs),
        "missing": tuple(_placeholder(s, {c.id for c in comments}) for s in stubs),
    }
    if not post:
        notes.append("the response has no post listing; title and article are empty")
    return assemble(
        post_id or "reddit",
        comments,
        title=title,
        article=_unescape(post.get("selftext")),
        source_format="reddit_json",
        warnings=notes,
        meta=meta,
    )


def _parent(d: dict[str, Any], post_id: str | None, tree_parent: str | None) -> str | None:
    raw = d.get("parent_id")
    if isinstance(raw, str) and raw.startswith("t3_"):
        return None
    return _strip_prefix(raw) or tree_parent


def _comment(d: dict[str, Any], post_id: str | None, tree_parent: str | None, n: int) -> Comment:
    author = d.get("author")
    body = _unescape(d.get("body"))
    meta: dict[str, Any] = {k: d[k] for k in _COMMENT_META if d.get(k) not in (None, "", [], {})}
    if author in _GONE:
        meta["deleted"] = True
        author = None
    if body.strip() in _GONE:
        meta["body_" + body.strip().strip("[]")] = True  # body_deleted / body_removed
        body = ""
    return Comment(
        id=str(d.get("id") or _strip_prefix(d.get("name")) or f"comment-{n}"),
        text=body,
        author=author if isinstance(author, str) and author else None,
        parent_id=_parent(d, post_id, tree_parent),
        parent_confidence=1.0,
        created=to_iso(d.get("created_utc")),
        meta=meta,
    )


def _placeholder(stub: dict[str, Any], ids: set[str]) -> dict[str, Any]:
    parent = stub["parent_id"] if stub["parent_id"] in ids else None
    loading = stub["count"] > 0 or stub["children"]
    out = {
        "parent_id": parent,
        "count": stub["count"],
        "ids": tuple(str(x) for x in stub["children"]),
        "kind": "more" if loading else "continue",
        "stub_id": stub["id"],
    }
    if parent != stub["parent_id"]:  # a parent the response does not hold: the stub answers the post
        out["parent_not_in_thread"] = stub["parent_id"]
    return out


def _drop_gone_bodies(comments: list[Comment], notes: list[str], stub_parents: set[str]) -> list[Comment]:
    gone = {c.id for c in comments if c.meta.get("body_deleted") or c.meta.get("body_removed")}
    if not gone:
        return comments
    parent_of: dict[str, str | None] = {c.id: c.parent_id for c in comments}
    parent_of.update({f"more stub under {p}": p for p in stub_parents})  # missing replies count as replies
    keep = needed_placeholders(parent_of, gone)
    if keep:
        notes.append(
            f"{len(keep)} deleted or removed comment(s) kept as empty placeholders because "
            f"others reply to them: {', '.join(sorted(keep)[:5])}"
        )
    dropped = sorted(gone - keep)
    if dropped:
        notes.append(
            f"dropped {len(dropped)} deleted or removed comment(s) nobody replies to: {', '.join(dropped[:5])}"
        )
    return [c for c in comments if c.id not in gone or c.id in keep]


def _note_stubs(stubs: list[dict[str, Any]], claimed: Any, present: int, notes: list[str]) -> None:
    loading = [s for s in stubs if s["count"] > 0 or s["children"]]
    continues = len(stubs) - len(loading)
    if loading:
        listed = sum(len(s["children"]) for s in loading)
        total = f" (the post reports {claimed} comments; {present} are here)" if isinstance(claimed, int) else ""
        notes.append(
            f"{len(loading)} 'load more comments' stub(s) list {listed} comment(s) Reddit did not "
            f"include in this file; they are not in the thread{total} and are listed as placeholders "
            "(parent, count, ids) in meta['missing']"
        )
    if continues:
        notes.append(
            f"{continues} 'continue this thread' link(s): deeper replies are not in this file "
            "(placeholders in meta['missing'])"
        )

"""Disqus XML export: <thread> and <post> elements under <disqus>; one Thread per Disqus thread.

Also home to the two helpers the XML formats share: :func:`parse_xml` (defusedxml, with
recovery from stray text before ``<?xml`` and unquoted attribute values) and
:func:`html_to_text` (HTML message bodies to plain text; nothing is ever executed).

Rules: spam posts are excluded; deleted posts are kept as empty placeholders only when
someone replies to them; posts of deleted threads, posts whose thread is missing, and
posts that stay malformed after repair are dropped; a malformed file from which no element
can be recovered raises InputError. A thread is identified by its
<link> (as isso and remark42 do), else its <id>, else its Disqus id. Warnings about
posts that belong to no returned thread go to the first thread. E-mail and IP
addresses are not kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.reading import replace_surrogates, surrogate_note
from discourse.formats.tabular import assemble, needed_placeholders, to_iso

# -- XML helpers (shared with wordpress.py) -------------------------------------------
_DECL = re.compile(r"<\?xml[^>]*\?>")
_OPAQUE = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)", re.DOTALL)
_TAG = re.compile(r"<[A-Za-z][^<>]*>")
_UNQUOTED = re.compile(r"(\s[\w:.-]+\s*=\s*)([^\s\"'<>=`]+?)(?=\s|/?>$)")
_SURROGATE_REF = re.compile(
    r"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}|0*(?:5529[6-9]|55[3-9]\d\d|56\d{3}|57[0-2]\d\d|573[0-3]\d|5734[0-3]));"
)


def parse_xml(text: str, label: str, warnings: list[str]) -> Element:
    """Parse XML safely; raises ParseError if it stays malformed after the repairs."""
    body = strip_preamble(text, label, warnings)
    try:
        return _parse(body, label)
    except ParseError:
        repaired, n = quote_attributes(body)
        if not n:
            raise
        root = _parse(repaired, label)
        warnings.append(f"{label}: quoted {n} unquoted XML attribute value(s) to read the file")
        return root


def strip_preamble(text: str, label: str, warnings: list[str]) -> str:
    """Drop stray characters before the XML and the declaration (the text is already decoded);
    lone surrogates, raw or as character references, become U+FFFD (XML cannot hold them)."""
    text, bad = replace_surrogates(text)
    text, refs = _SURROGATE_REF.subn("&#xFFFD;", text)
    if bad + refs:
        warnings.append(surrogate_note(label, bad + refs))
    start = text.find("<")
    if start < 0:
        raise InputError(f"{label}: no XML element found")
    junk = text[:start].strip()
    if junk:
        warnings.append(f"{label}: ignored {len(junk)} stray character(s) before the XML ({junk[:20]!r})")
    body = text[start:]
    m = _DECL.match(body)
    if m:
        body = body[m.end() :]
    return body


def quote_attributes(xml: str) -> tuple[str, int]:
    """Quote unquoted attribute values inside tags (never inside CDATA or comments)."""
    count = 0

    def fix_tag(m: re.Match[str]) -> str:
        nonlocal count
        fixed, n = _UNQUOTED.subn(lambda a: f'{a.group(1)}"{a.group(2)}"', m.group(0))
        count += n
        return fixed

    parts = _OPAQUE.split(xml)
    for i in range(0, len(parts), 2):
        parts[i] = _TAG.sub(fix_tag, parts[i])
    return "".join(parts), count


def _parse(xml: str, label: str) -> Element:
    try:
        return SafeET.fromstring(xml, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InputError(
            f"{label}: refused XML entity or external reference: entities and DTDs are never read "
            f"({type(exc).__name__})"
        ) from None


def local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def child(el: Element, name: str) -> Element | None:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def child_text(el: Element, name: str) -> str:
    c = child(el, name)
    return (c.text or "") if c is not None else ""


def attr(el: Element | None, name: str) -> str:
    if el is None:
        return ""
    for k, v in el.attrib.items():
        if local(k) == name:
            return v.strip()
    return ""


# -- HTML to text ---------------------------------------------------------------------
_BLOCK = frozenset("p div blockquote pre ul ol li h1 h2 h3 h4 h5 h6 table tr hr section article".split())
_SKIP = frozenset("script style template noscript iframe object embed svg head title".split())
_HTML_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_TAG.search(text))


class _TextExtractor(HTMLParser):
    def __init__(self, keep_newlines: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.keep_newlines = keep_newlines
        self.out: list[str] = []
        self.links: list[str] = []
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag in _BLOCK:
            self.out.append("\n\n")
            self.pre += tag == "pre"
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.out.append("\n\n")
            self.pre -= tag == "pre" and self.pre > 0

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.pre or self.keep_newlines:
            self.out.append(re.sub(r"[ \t\f\v]+", " ", data) if not self.pre else data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str, *, keep_newlines: bool = False) -> tuple[str, list[str]]:
    """Plain text and link targets of an HTML fragment.

    Tags are stripped, entities unescaped once, paragraphs become blank lines, ``<br>``
    a newline; the content of script/style/iframe elements is dropped. Nothing runs.
    ``keep_newlines`` keeps source line breaks (WordPress comments rely on them).
    """
    parser = _TextExtractor(keep_newlines)
    parser.feed(markup)
    parser.close()
    raw = "".join(parser.out)
    lines = [line.strip() for line in raw.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, parser.links


# -- Disqus ---------------------------------------------------------------------------
_CHUNK = re.compile(r"<(post|thread|category)\b(?:[^<>]*/>|.*?</\1\s*>)", re.DOTALL)
_ROOT = re.compile(r"<disqus\b[^>]*>")
_DEFAULT_ROOT = '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'


def parse_disqus(text: str, source_name: str = "input") -> list[Thread]:
    file_notes: list[str] = []
    elements = list(_elements(text, source_name, file_notes))
    broken = [n for n in file_notes if "not well-formed XML" in n]
    if not elements and broken:
        raise InputError(broken[0].split("; read element")[0] + "; no <thread> or <post> could be recovered")
    threads_xml = {attr(el, "id"): el for kind, el in elements if kind == "thread"}
    posts = [el for kind, el in elements if kind == "post"]

    per_thread: dict[str, list[tuple[Element, str]]] = {}
    orphans: list[str] = []
    unthreaded: list[str] = []
    spam: list[str] = []
    in_deleted: dict[str, int] = {}
    generated: list[str] = []
    for n, post in enumerate(posts, start=1):
        pid = attr(post, "id") or child_text(post, "id").strip()
        if not pid:
            pid = f"post-{n}"
        if not attr(post, "id"):
            generated.append(pid)
        tref = attr(child(post, "thread"), "id")
        flag = child_text(post, "isSpam").strip().lower()
        if flag not in ("false", ""):
            spam.append(pid if flag == "true" else f"{pid} (isSpam={flag!r})")
            continue
        if not tref:
            unthreaded.append(pid)
        elif tref not in threads_xml:
            orphans.append(f"{pid} (thread {tref})")
        elif _true(child_text(threads_xml[tref], "isDeleted")):
            in_deleted[tref] = in_deleted.get(tref, 0) + 1
        else:
            per_thread.setdefault(tref, []).append((post, pid))
    if generated:
        file_notes.append(
            f"{len(generated)} post(s) had no dsq:id attribute and were identified by "
            f"their <id> or position: {', '.join(generated[:5])}"
        )
    if spam:
        file_notes.append(
            f"excluded {len(spam)} post(s) marked as spam or with an unreadable isSpam flag: {', '.join(spam[:5])}"
        )
    if unthreaded:
        file_notes.append(f"dropped {len(unthreaded)} post(s) that name no thread: {', '.join(unthreaded[:5])}")
    if orphans:
        file_notes.append(f"dropped {len(orphans)} post(s) whose thread is not in the file: {', '.join(orphans[:5])}")
    for tref, count in in_deleted.items():
        file_notes.append(f"dropped {count} post(s) of deleted thread {tref}")

    out: list[Thread] = []
    used_ids: set[str] = set()
    for tref, el in threads_xml.items():
        if tref in per_thread:
            out.append(_thread(el, tref, per_thread[tref], used_ids, source_name))
    if out and file_notes:
        out[0] = replace(out[0], warnings=tuple(file_notes) + out[0].warnings)
    return out


def _true(value: str) -> bool:
    return value.strip().lower() == "true"


def _elements(text: str, label: str, notes: list[str]) -> Iterator[tuple[str, Element]]:
    """Top-level (kind, element) pairs; per-element recovery if the whole file is malformed."""
    try:
        root = parse_xml(text, label, notes)
    except ParseError as exc:
        body = strip_preamble(text, label, [])
        body, n = quote_attributes(body)
        if n:
            notes.append(f"{label}: quoted {n} unquoted XML attribute value(s)")
        notes.append(f"{label}: not well-formed XML ({exc}); read element by element")
        m = _ROOT.search(body)
        head = m.group(0) if m else _DEFAULT_ROOT
        for cm in _CHUNK.finditer(_mask_comments(body)):
            chunk = body[cm.start() : cm.end()]
            try:
                el = _parse(f"{head}{chunk}</disqus>", label)[0]
            except (ParseError, IndexError) as err:
                line = body.count("\n", 0, cm.start()) + 1
                notes.append(f"dropped a <{cm.group(1)}> at line {line} that is not well-formed XML ({err})")
                continue
            yield cm.group(1), el
        return
    if local(root.tag) != "disqus":
        raise InputError(f"{label}: not a Disqus export (root element <{local(root.tag)}>)")
    for el in root:
        if local(el.tag) in ("post", "thread"):
            yield local(el.tag), el


def _mask_comments(xml: str) -> str:
    """Blank out comments and CDATA (same length) so chunk matching ignores tags inside them."""
    return _OPAQUE.sub(lambda m: " " * len(m.group(0)), xml)


def _thread(el: Element, tref: str, posts: list[tuple[Element, str]], used_ids: set[str], label: str) -> Thread:
    notes: list[str] = []
    link = child_text(el, "link").strip()
    ident = child_text(el, "id").strip()
    tid = link or ident or f"disqus-thread-{tref}"
    if not ident:
        notes.append(f"thread {tref} has an empty <id>; identified by {'its link' if link else 'its Disqus id'}")
    if tid in used_ids:
        notes.append(f"another thread in the file has the same link; this one is named {tid}#{tref}")
        tid = f"{tid}#{tref}"
    used_ids.add(tid)
    title = child_text(el, "title").strip()
    if not title:
        notes.append(f"thread {tref} has no title; using its link")
    article, _ = html_to_text(child_text(el, "message"))

    deleted = {pid for post, pid in posts if _true(child_text(post, "isDeleted"))}
    parent_of = {pid: attr(child(post, "parent"), "id") or None for post, pid in posts}
    needed = needed_placeholders(parent_of, deleted)

    comments: list[Comment] = []
    dropped_deleted: list[str] = []
    bad_times: list[str] = []
    for post, pid in posts:
        meta: dict[str, Any] = {"dsq_id": attr(post, "id") or None}
        if pid in deleted:
            if pid not in needed:
                dropped_deleted.append(pid)
                continue
            text = ""
            meta["deleted"] = True
        else:
            text, links = html_to_text(child_text(post, "message"))
            if links:
                meta["links"] = tuple(links)
        author_el = child(post, "author")
        name = username = ""
        if author_el is not None:
            name = child_text(author_el, "name").strip()
            username = child_text(author_el, "username").strip()
            if username:
                meta["username"] = username
            if child_text(author_el, "isAnonymous").strip():
                meta["anonymous"] = _true(child_text(author_el, "isAnonymous"))
        raw_time = child_text(post, "createdAt").strip()
        created = to_iso(raw_time)
        if raw_time and created is None:
            bad_times.append(pid)
            meta["created_raw"] = raw_time
        comments.append(
            Comment(
                id=pid,
                text=text,
                author=name or username or None,
                parent_id=parent_of[pid],
                parent_confidence=1.0,
                created=created,
                meta=meta,
            )
        )
    kept_deleted = [pid for pid in deleted if pid in needed]
    if kept_deleted:
        notes.append(
            f"{len(kept_deleted)} deleted post(s) kept as empty placeholders because others "
            f"reply to them: {', '.join(kept_deleted[:5])}"
        )
    if dropped_deleted:
        notes.append(
            f"dropped {len(dropped_deleted)} deleted post(s) nobody replies to: {', '.join(dropped_deleted[:5])}"
        )
    if bad_times:
        notes.append(f"{len(bad_times)} post(s) have an unreadable createdAt, left empty: {', '.join(bad_times[:5])}")
    meta = {
        "disqus_id": tref,
        "link": link or None,
        "identifier": ident or None,
        "created": to_iso(child_text(el, "createdAt").strip()),
        "source": label,
    }
    if _true(child_text(el, "isClosed")):
        meta["closed"] = True
    return assemble(
        tid, comments, title=title or tid, article=article, source_format="disqus_xml", warnings=notes, meta=meta
    )

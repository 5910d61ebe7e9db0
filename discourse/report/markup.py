"""A comment's own markup, rendered safely: Markdown through markdown-it-py with raw HTML off, and
any HTML through nh3 with a small allow-list.

Only the tags in :data:`TAGS` survive, with no attribute but a link's ``href``/``title``; link
links must be absolute http, https or mailto (``javascript:``, ``data:``, relative
and the rest are dropped); every
link gets ``rel="nofollow noopener noreferrer"``. Images are never loaded: a Markdown image, or an
``<img>`` in HTML, becomes a link to it (``[image: alt]``), which the sanitiser then checks like
any other link. The report keeps the verbatim text beside the rendering.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import markupsafe
import nh3
from markdown_it import MarkdownIt

TAGS = frozenset(
    {
        "a", "p", "br", "em", "strong", "b", "i", "del", "s", "sup", "sub", "code", "pre", "blockquote",
        "ul", "ol", "li", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}}
SCHEMES = frozenset({"http", "https", "mailto"})
REL = "nofollow noopener noreferrer"
MARKDOWN_FORMATS = frozenset({"reddit_json", "commento_json"})
"""Source formats whose comment text is Markdown."""
SITES = {"reddit_json": "https://www.reddit.com"}
"""Where a format's site-relative links (``/r/nfl``, ``/u/name``) point."""
_SITE_PATH = re.compile(r"/(?:r|u|user)/[^/]")

_ABSOLUTE = re.compile(r"(?:https?://|mailto:)", re.I)
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ATTR = re.compile(r"""\b(alt|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def _image(renderer: Any, tokens: Sequence[Any], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in (token.children or ()))
    src = str(token.attrGet("src") or "")
    label = markupsafe.escape(f"[image: {alt}]" if alt else "[image]")
    return f'<a href="{markupsafe.escape(src)}">{label}</a>'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image)
    return md


def _links(site: str | None) -> Callable[[str, str, str], str | None]:
    """Only absolute http(s)/mailto links: a relative one would open a local file beside the
    report. With a ``site``, its own paths (``/r/...``, ``/u/...``) are made absolute first."""

    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr != "href":
            return value
        if site and _SITE_PATH.match(value):
            value = site + value
        return value if _ABSOLUTE.match(value) else None

    return keep


def sanitize_html(html: str, site: str | None = None) -> markupsafe.Markup:
    """HTML through the allow-list; ``<img>`` replaced by a link to its source first."""

    def img(m: re.Match[str]) -> str:
        attrs = {a.group(1).lower(): a.group(2) or a.group(3) or a.group(4) or "" for a in _ATTR.finditer(m.group())}
        label = markupsafe.escape(f"[image: {attrs['alt']}]" if attrs.get("alt") else "[image]")
        return f'<a href="{markupsafe.escape(attrs.get("src", ""))}">{label}</a>'

    cleaned = nh3.clean(
        _IMG.sub(img, html),
        tags=set(TAGS),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        url_schemes=set(SCHEMES),
        link_rel=REL,
        strip_comments=True,
        attribute_filter=_links(site),
    )
    return markupsafe.Markup(cleaned)


def render_markdown(text: str, site: str | None = None) -> markupsafe.Markup:
    """Markdown (raw HTML shown as text) to sanitised HTML."""
    return sanitize_html(_markdown().render(text), site)


def rendered(text: str, source_format: str) -> markupsafe.Markup | None:
    """The comment rendered from its own markup, or None when the format's text is plain (or the
    rendering would show nothing more than the text itself)."""
    if source_format not in MARKDOWN_FORMATS or not text.strip():
        return None
    return render_markdown(text, SITES.get(source_format))

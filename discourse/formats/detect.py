"""Tell an input's format from its content first and its file name second, and dispatch to its parser.

Content rules, in order:

* XML: ``<?xml`` or a root element at the start (a few stray characters before it, as in
  remark42's fixtures, are allowed). Root <disqus> is "disqus"; <rss> with the WordPress
  export namespace is "wordpress"; an HTML page, another RSS feed or another root raises
  InputError. A DOCTYPE block that declares anything (``<!DOCTYPE x [ … ]>``: entities, a DTD)
  is refused with InputError whatever the file is named: entities and DTDs are never read.
* JSON (``{`` or ``[`` followed by what JSON puts there): Reddit Listings are "reddit"; an
  object with a "comments" list of objects carrying "commentHex" (or beside a "commenters"
  list) is "commento"; conversations mapping ids to utterances with "content" and "parent_id"
  (a list of them, or one) are "wikiconv"; a non-empty list of objects each with a "comments"
  list is "isso"; any other list is "json_rows"; one object with a text field is a one-line
  "jsonl". Text whose first line (or two of its first five lines) is a JSON object is "jsonl".
  JSON that does not parse raises InputError, unless the file name ends in .txt/.text/.md
  (then it is "flat").
* A header line naming at least two known columns, one of them a text column, is "tsv" when
  tabs separate it best and "csv" otherwise.

Then the suffix: .jsonl/.ndjson is "jsonl", .json is "json_rows", .csv is "csv", .tsv/.tab is
"tsv" (their parsers report what is wrong); .xml with no XML in it raises InputError. Anything
else is "flat".

:func:`parse_structured` turns a parser's KeyError/TypeError/ValueError… on a shape it did not
expect into a one-line InputError naming the format, so callers only ever see InputError.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import PurePath
from typing import Any

from discourse.core.errors import InputError
from discourse.core.inputs import FORMATS
from discourse.core.thread import Thread
from discourse.formats.tabular import ALIASES
from discourse.formats.wikiconv import looks_like_wikiconv

_TEXT_SUFFIXES = {".txt", ".text", ".md"}
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json_rows",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}
_DOCTYPE_BLOCK = re.compile(r"(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<!(?i:doctype)\s[^>\[]*\[", re.DOTALL)
_JSON_START = re.compile(r"\s*(?:\{\s*[\"}]|\[\s*[\[{\]])")
_XML_START = re.compile(
    r"(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--.*?-->|<!(?i:doctype)[^>]*>)\s*)*"  # declaration, comments, doctype
    r"<([A-Za-z_][\w:.-]*)(?=[\s/>])",  # the root element's name
    re.DOTALL,
)
_MAX_XML_JUNK = 16  # stray characters allowed before the XML (remark42 fixtures start with a backtick)
_SAMPLE = 1 << 16
_MALFORMED = (KeyError, IndexError, TypeError, ValueError, AttributeError, RecursionError)


def detect_format(text: str, filename: str = "") -> str:
    """A registered format's name; raises InputError for content no parser can read (see module docstring).
    Plug-in formats that can sniff are asked first."""
    label = filename or "input"
    for name, fmt_spec in FORMATS.items():
        if fmt_spec.sniff is not None and fmt_spec.sniff(text[:_SAMPLE], filename):
            return name
    suffix = PurePath(filename).suffix.lower() if filename else ""
    fmt = _xml_format(text, label, suffix)
    if fmt:
        return fmt
    if _JSON_START.match(text):
        fmt = _json_format(text, label, suffix)
        if fmt:
            return fmt
    delim = _delimiter(text)
    if delim:
        return "tsv" if delim == "\t" else "csv"  # the content over the name: a comma file named .tsv is CSV
    if suffix == ".xml":
        raise InputError(f"{label}: the file is named .xml but holds no XML element")
    return _SUFFIXES.get(suffix, "flat")


def parse_structured(text: str, fmt: str, name: str) -> list[Thread]:
    """Parse ``text`` as registered format ``fmt``. Malformed input raises InputError."""
    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r} (known: {', '.join(FORMATS.names())})")
    parser = FORMATS.get(fmt).parse
    try:
        return parser(text, name)
    except _MALFORMED as exc:  # a shape the parser did not expect: the input's fault, reported in one line
        detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}" if str(exc) else type(exc).__name__
        raise InputError(f"{name}: malformed {fmt} input ({detail})") from None


# -- XML ----------------------------------------------------------------------------
def _xml_format(text: str, label: str, suffix: str) -> str:
    """ "disqus"/"wordpress", "" when the text is not XML; raises for XML we cannot read."""
    start = text.find("<", 0, _SAMPLE)
    junk = text[:start].strip() if start >= 0 else ""
    if start < 0 or len(junk) > _MAX_XML_JUNK or "\n" in junk:
        return ""
    if _DOCTYPE_BLOCK.match(text, start, start + _SAMPLE):
        raise InputError(
            f"{label}: XML with a <!DOCTYPE … [ … ]> block is refused: entities and DTDs are never read "
            "(they can expand or fetch content); remove the DOCTYPE block and try again"
        )
    m = _XML_START.match(text, start, start + _SAMPLE)
    if not m:
        return ""
    root = m.group(1).rsplit(":", 1)[-1].lower()
    if root == "disqus":
        return "disqus"
    if root == "rss" and re.search(r"wordpress\.org/export/", text[:_SAMPLE]):
        return "wordpress"
    if root == "html":
        raise InputError(f"{label}: an HTML page; save it as plain text or use the site's comment export")
    if root == "rss":
        raise InputError(f"{label}: an RSS feed without WordPress export data (no comments to read)")
    if m.group(0).startswith("<?xml") or suffix == ".xml":
        raise InputError(
            f"{label}: XML with root <{root}> is not a known comment export "
            "(expected a Disqus <disqus> or WordPress <rss> export)"
        )
    return ""  # plain text that happens to start with something tag-like


# -- JSON ---------------------------------------------------------------------------
def _json_format(text: str, label: str, suffix: str) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if _looks_like_jsonl(text) or suffix in (".jsonl", ".ndjson"):
            return "jsonl"
        if suffix in _TEXT_SUFFIXES:
            return ""
        raise InputError(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{label}: JSON is nested too deeply to read") from None
    return _json_shape(data, label)


def _looks_like_jsonl(text: str) -> bool:
    lines = [line for line in text[:_SAMPLE].split("\n")[:200] if line.strip()][:5]
    hits = [_is_object_line(line) for line in lines]
    return bool(hits) and (hits[0] or sum(hits) >= 2)


def _is_object_line(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


def _json_shape(data: Any, label: str) -> str:
    listings = data if isinstance(data, list) else [data]
    if listings and all(isinstance(x, dict) and x.get("kind") == "Listing" for x in listings):
        return "reddit"
    if isinstance(data, dict) and isinstance(data.get("comments"), list):
        rows = data["comments"]
        if "commenters" in data or any(isinstance(r, dict) and "commentHex" in r for r in rows[:100]):
            return "commento"
    if looks_like_wikiconv(data):
        return "wikiconv"
    if isinstance(data, list):
        if data and all(isinstance(t, dict) and isinstance(t.get("comments"), list) for t in data):
            return "isso"
        return "json_rows"
    if isinstance(data, dict) and any(alias in {str(k).lower() for k in data} for alias in ALIASES["text"]):
        return "jsonl"
    raise InputError(
        f"{label}: JSON that is not a known comment export "
        "(expected Reddit, Commento, isso, or comment rows with a text field)"
    )


# -- CSV ----------------------------------------------------------------------------
def _delimiter(text: str) -> str:
    """The delimiter of a header line naming at least two known columns, one a text column ("" if none)."""
    header, _, rest = text.partition("\n")
    if not rest.strip():
        return ""
    best, best_known = "", 0
    for delim in ",\t;|":
        names = {n.strip().lower() for n in next(csv.reader([header], delimiter=delim), [])}
        known = sum(1 for aliases in ALIASES.values() if names & set(aliases))
        if known >= 2 and names & set(ALIASES["text"]) and known > best_known:
            best, best_known = delim, known
    return best

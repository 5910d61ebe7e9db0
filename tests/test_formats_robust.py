"""Real-world damage to structured inputs (issue 7): what a parser must keep, warn about or refuse.

Each test builds its input here; the r/nfl fixture in ../shared/data is used when present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from discourse import load_threads
from discourse.core.errors import InputError
from discourse.core.thread import Thread
from discourse.formats.commento import parse_commento
from discourse.formats.detect import detect_format
from discourse.formats.disqus import parse_disqus
from discourse.formats.isso import parse_isso
from discourse.formats.reddit import parse_reddit
from discourse.formats.tabular import parse_csv, parse_jsonl, parse_tsv


def _strings(thread: Thread) -> list[str]:
    out = [thread.id, thread.title, thread.article, *thread.warnings]
    for c in thread.comments:
        out += [c.id, c.text, c.author or "", *(v for v in c.meta.values() if isinstance(v, str))]
    return out


def _encodable(thread: Thread) -> bool:
    """What every writer does with a thread: UTF-8 text and JSON."""
    for s in _strings(thread):
        s.encode("utf-8")
    json.dumps(_strings(thread), ensure_ascii=False).encode("utf-8")
    return True


def _warned(thread: Thread, fragment: str) -> bool:
    return any(fragment in w for w in thread.warnings)


# -- lone UTF-16 surrogates ---------------------------------------------------------------------------
CUT = "\\ud83d"  # the JSON escape a JavaScript scraper leaves when it cuts an emoji in half


def _reddit_with(body: str, author: str) -> str:
    comment = {"kind": "t1", "data": {"id": "a", "parent_id": "t3_p", "author": author, "body": body}}
    post = {"kind": "t3", "data": {"id": "p", "name": "t3_p", "title": "T"}}
    text = json.dumps(
        [{"kind": "Listing", "data": {"children": [post]}}, {"kind": "Listing", "data": {"children": [comment]}}]
    )
    return text.replace("@@", CUT)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        (
            "jsonl",
            '{"id": "1", "author": "Ann@@", "text": "cut @@ emoji"}\n{"id": "2", "parent_id": "1", "text": "ok"}\n',
        ),
        ("json_rows", '[{"id": "1", "author": "Ann@@", "text": "cut @@ emoji"}, {"id": "2", "text": "ok"}]'),
        ("reddit", _reddit_with("cut @@ emoji", "Ann@@")),
        (
            "commento",
            '{"version": 1, "comments": [{"commentHex": "h1", "commenterHex": "u1", "markdown": "cut @@ emoji",'
            ' "parentHex": "root", "url": "/p"}], "commenters": [{"commenterHex": "u1", "name": "Ann@@"}]}',
        ),
        ("isso", '[{"id": "/p", "title": "T", "comments": [{"id": 1, "author": "Ann@@", "text": "cut @@ emoji"}]}]'),
    ],
)
def test_lone_surrogate_in_json_is_replaced_and_warned(fmt: str, text: str) -> None:
    raw = text.replace("@@", CUT)
    assert detect_format(raw, "") == fmt
    for source in (raw, raw.encode("utf-8")):  # str and bytes through the public loader
        [t] = load_threads(source)
        c = t.comments[0]
        assert c.text == "cut \ufffd emoji" and c.author == "Ann\ufffd"
        assert _encodable(t)
        assert _warned(t, "2 lone UTF-16 surrogate(s)") and _warned(t, "U+FFFD")
    # the parsers themselves, called directly, are just as safe
    parser = {"jsonl": parse_jsonl, "json_rows": parse_jsonl, "reddit": parse_reddit}.get(fmt)
    parser = parser or {"commento": parse_commento, "isso": parse_isso}[fmt]
    [t] = parser(raw, "x")
    assert "\ud83d" not in t.comments[0].text and _encodable(t)


def test_lone_surrogate_in_a_python_string_is_replaced_without_mojibake() -> None:
    text = "Title\n\nCaf\u00e9 article.\n\n\nAnn Lee\n\nhello \ud800 there, caf\u00e9 \U0001f600\n"
    [t] = load_threads(text)
    assert t.comments[0].text == "hello \ufffd there, caf\u00e9 \U0001f600"  # nothing else re-decoded
    assert t.article == "Caf\u00e9 article."
    assert _warned(t, "1 lone UTF-16 surrogate(s)") and not _warned(t, "Windows-1252")
    assert _encodable(t)


def test_surrogate_pairs_are_kept() -> None:
    [t] = load_threads('{"id": "1", "text": "ok \\ud83d\\ude00 fine"}\n')
    assert t.comments[0].text == "ok \U0001f600 fine" and t.warnings == ()


def test_raw_surrogates_in_csv_and_jsonl_strings() -> None:
    [t] = parse_csv("id,author,text\n1,Ann\ud800,x\ud800y\n", "x")
    assert (t.comments[0].author, t.comments[0].text) == ("Ann\ufffd", "x\ufffdy") and _encodable(t)
    assert _warned(t, "lone UTF-16 surrogate")


def test_surrogate_character_references_in_xml_keep_the_post() -> None:
    xml = (
        '<?xml version="1.0"?><disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">'
        '<thread dsq:id="1"><link>https://x.example/a</link><title>A</title></thread>'
        '<post dsq:id="2"><message>cut &#xD83D; and &#55357; emoji</message><thread dsq:id="1"/></post></disqus>'
    )
    [t] = parse_disqus(xml, "d")
    assert t.comments[0].text == "cut \ufffd and \ufffd emoji" and _warned(t, "2 lone UTF-16 surrogate(s)")


# -- DOCTYPE blocks -----------------------------------------------------------------------------------
DOCTYPE_DISQUS = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<!DOCTYPE disqus [\n  <!ENTITY site "blog.example">\n]>\n'
    '<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">\n'
    '  <thread dsq:id="1"><link>https://&site;/a</link><title>A</title></thread>\n'
    '  <post dsq:id="2"><message>hi</message><thread dsq:id="1"/></post>\n'
    "</disqus>\n"
)


@pytest.mark.parametrize("filename", ["export.xml", "export.txt", ""])
def test_doctype_block_is_refused_as_a_dtd(filename: str) -> None:
    for text in (DOCTYPE_DISQUS, DOCTYPE_DISQUS.replace("<disqus", "<rss").replace("disqus [", "rss [")):
        with pytest.raises(InputError) as info:
            detect_format(text, filename)
        message = str(info.value)
        assert "DOCTYPE" in message and "entities" in message and "refused" in message
        assert "holds no XML element" not in message and "\n" not in message


def test_doctype_block_through_the_loader(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(DOCTYPE_DISQUS, encoding="utf-8")
    with pytest.raises(InputError, match=r"export\.xml: .*DOCTYPE.*refused"):
        load_threads(path)


def test_plain_doctype_without_declarations_still_reads() -> None:
    text = DOCTYPE_DISQUS.replace('[\n  <!ENTITY site "blog.example">\n]', "").replace("&site;", "blog.example")
    assert detect_format(text, "") == "disqus"
    [t] = load_threads(text)
    assert t.comments[0].text == "hi"


# -- tab-separated files ------------------------------------------------------------------------------
TSV = (
    "comment_id\tparent_comment_id\tuser\tbody\n"
    '1\t\tAnn\the said "hi there, an open quote\n'
    '2\t1\tBob\t"quoted" start, and commas; semicolons | pipes\n'
    "3\t2\tCy\tthird\n"
)


@pytest.mark.parametrize("filename", ["comments.tsv", "comments.TSV", "comments.tab", "comments.txt", ""])
def test_tsv_is_detected_and_read_verbatim(filename: str, tmp_path: Path) -> None:
    assert detect_format(TSV, filename) == "tsv"
    path = tmp_path / (filename or "noname")
    path.write_bytes(TSV.encode("utf-8"))
    [t] = load_threads(path)
    assert [(c.id, c.parent_id, c.author, c.text) for c in t.comments] == [
        ("1", None, "Ann", 'he said "hi there, an open quote'),
        ("2", "1", "Bob", '"quoted" start, and commas; semicolons | pipes'),
        ("3", "2", "Cy", "third"),
    ]


def test_tsv_with_only_a_text_column_is_read_by_its_suffix() -> None:
    [t] = load_threads(b"text\nfirst comment\nsecond, with a comma\n", name="rows.tsv")
    assert [c.text for c in t.comments] == ["first comment", "second, with a comma"]
    assert t.source_format == "tsv"


def test_a_comma_file_named_tsv_is_read_as_csv() -> None:
    assert detect_format("id,author,text\n1,Ann,hi\n", "rows.tsv") == "csv"
    [t] = load_threads(b"id,author,text\n1,Ann,hi\n", name="rows.tsv")
    assert (t.comments[0].author, t.comments[0].text) == ("Ann", "hi")


def test_quoted_multiline_tsv_still_reads() -> None:
    text = 'id\tauthor\ttext\n1\tAnn\t"two\nlines"\n2\tBob\t"say ""hi"""\n'
    [t] = parse_tsv(text, "x")
    assert [c.text for c in t.comments] == ["two\nlines", 'say "hi"']


def test_ragged_tsv_with_an_open_quote_reads_the_quote_as_text() -> None:
    [t] = parse_tsv('id\tauthor\ttext\n1\tAnn\t"open quote\n2\tBob\n3\tCy\tthird\n', "x")
    assert [(c.id, c.author, c.text) for c in t.comments] == [("1", "Ann", '"open quote'), ("3", "Cy", "third")]
    assert any("never closes" in w for w in t.warnings)


def test_unclosed_csv_quote_is_warned_not_silent() -> None:
    [t] = parse_csv('id,author,text\n1,Ann,"never closed\n2,Bob,ok\n', "x.csv")
    assert "2,Bob,ok" in t.comments[0].text  # nothing lost ...
    assert _warned(t, "never closes")  # ... and the user is told


# -- Reddit 'more' stubs as placeholders --------------------------------------------------------------
def _more(sid: str, parent: str, count: int, children: list[str]) -> dict[str, Any]:
    return {"kind": "more", "data": {"id": sid, "parent_id": parent, "count": count, "children": children}}


def _t1(cid: str, parent: str, body: str, replies: list[Any] | None = None) -> dict[str, Any]:
    listing = {"kind": "Listing", "data": {"children": replies}} if replies else ""
    data = {"id": cid, "parent_id": parent, "author": "ann", "body": body, "replies": listing}
    return {"kind": "t1", "data": data}


def test_reddit_more_stubs_become_missing_placeholders() -> None:
    comments = [
        _t1("a", "t3_p", "top", replies=[_more("m1", "t1_a", 7, ["x", "y"])]),
        _t1("g", "t3_p", "[deleted]", replies=[_more("m3", "t1_g", 2, ["z"])]),
        _more("m2", "t3_p", 40, ["q1", "q2", "q3"]),
        _t1("b", "t3_p", "deep", replies=[_more("_", "t1_b", 0, [])]),
    ]
    post = {"kind": "t3", "data": {"id": "p", "name": "t3_p", "title": "T", "num_comments": 60}}
    text = json.dumps(
        [{"kind": "Listing", "data": {"children": [post]}}, {"kind": "Listing", "data": {"children": comments}}]
    )
    [t] = parse_reddit(text, "r")
    missing = t.meta["missing"]
    assert [dict(m) for m in missing] == [
        {"parent_id": "a", "count": 7, "ids": ("x", "y"), "kind": "more", "stub_id": "m1"},
        {"parent_id": "g", "count": 2, "ids": ("z",), "kind": "more", "stub_id": "m3"},
        {"parent_id": None, "count": 40, "ids": ("q1", "q2", "q3"), "kind": "more", "stub_id": "m2"},
        {"parent_id": "b", "count": 0, "ids": (), "kind": "continue", "stub_id": "_"},
    ]
    # the deleted comment above a missing reply is kept, so the placeholder has a parent in the thread
    ids = {c.id for c in t.comments}
    assert all(m["parent_id"] is None or m["parent_id"] in ids for m in missing)
    assert json.loads(json.dumps(list(missing)))  # plain JSON-ready values
    assert _warned(t, "meta['missing']")


@pytest.mark.shared
def test_real_reddit_more_stubs_are_all_placeholders(shared: Path) -> None:
    [t] = load_threads(shared / "formats" / "reddit-nfl-thread" / "comments.json")
    missing = t.meta["missing"]
    assert len(missing) == 99
    assert sum(len(m["ids"]) for m in missing) == 386 and sum(m["count"] for m in missing) == 782
    ids = {c.id for c in t.comments}
    assert all(m["parent_id"] is None or m["parent_id"] in ids for m in missing)
    top = [m for m in missing if m["parent_id"] is None]
    assert top and all(m["kind"] == "more" for m in missing)

"""The structured parsers, format detection and bad input.

Synthetic inputs built here exercise every parser on any machine; the real fixtures in
../shared/data/formats (see each folder's PROVENANCE.txt) run when that folder is present.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discourse import load_threads
from discourse.core.errors import InputError
from discourse.core.inputs import FORMATS, InputFormat
from discourse.core.thread import Thread
from discourse.formats.commento import parse_commento
from discourse.formats.detect import detect_format, parse_structured
from discourse.formats.disqus import html_to_text, parse_disqus
from discourse.formats.isso import parse_isso
from discourse.formats.reading import read_text
from discourse.formats.reddit import parse_reddit
from discourse.formats.tabular import parse_csv, parse_jsonl
from discourse.formats.wordpress import parse_wordpress


def valid(threads: list[Thread]) -> list[Thread]:
    assert threads, "no thread parsed"
    for t in threads:
        assert t.validate() == [], (t.id, t.validate())
        assert t.structure_known
        assert len({c.id for c in t.comments}) == len(t.comments)
    return threads


def by_id(thread: Thread) -> dict[str, Any]:
    return thread.by_id()


def has_warning(thread: Thread, fragment: str) -> bool:
    return any(fragment in w for w in thread.warnings)


# -- Reddit ------------------------------------------------------------------------------
def _t1(cid: str, parent: str, body: str, author: str = "alice", replies: list[Any] | None = None) -> dict[str, Any]:
    return {
        "kind": "t1",
        "data": {
            "id": cid,
            "name": f"t1_{cid}",
            "parent_id": parent,
            "link_id": "t3_p1",
            "author": author,
            "body": body,
            "created_utc": 1587830806.0,
            "score": 3,
            "replies": {"kind": "Listing", "data": {"children": replies}} if replies else "",
        },
    }


def reddit_json() -> str:
    post = {
        "kind": "t3",
        "data": {
            "id": "p1",
            "name": "t3_p1",
            "title": "Cats &amp; dogs &gt; fish",
            "selftext": "",
            "num_comments": 9,
            "subreddit": "pets",
        },
    }
    comments = [
        _t1(
            "a",
            "t3_p1",
            "I like cats &amp; dogs",
            replies=[
                _t1(
                    "b",
                    "t1_a",
                    "&gt; cats\n\nagreed",
                    author="bob",
                    replies=[
                        {"kind": "more", "data": {"id": "m1", "parent_id": "t1_b", "count": 4, "children": ["x", "y"]}},
                    ],
                ),
                _t1("c", "t1_a", "[deleted]", author="[deleted]", replies=[_t1("d", "t1_c", "answering a ghost")]),
            ],
        ),
        _t1("e", "t3_p1", "[removed]", author="[deleted]"),
        _t1("f", "t3_p1", "literal &amp;amp; stays &amp; once"),
        {"kind": "more", "data": {"id": "m2", "parent_id": "t3_p1", "count": 0, "children": []}},
    ]
    return json.dumps(
        [{"kind": "Listing", "data": {"children": [post]}}, {"kind": "Listing", "data": {"children": comments}}]
    )


def test_reddit_tree_order_entities_and_deleted() -> None:
    [t] = valid(parse_reddit(reddit_json(), "r"))
    assert t.source_format == "reddit_json" and t.id == "p1"
    assert t.title == "Cats & dogs > fish"
    assert [c.id for c in t.comments] == ["a", "b", "c", "d", "f"]  # depth first, API order; "e" dropped
    c = by_id(t)
    assert c["b"].parent_id == "a" and c["d"].parent_id == "c" and c["a"].parent_id is None
    assert c["a"].text == "I like cats & dogs" and c["b"].text.startswith("> cats")
    assert c["f"].text == "literal &amp; stays & once"  # unescaped exactly once
    assert c["c"].text == "" and c["c"].author is None and c["c"].meta["body_deleted"]
    assert c["b"].author == "bob" and c["a"].created == "2020-04-25T16:06:46+00:00"
    assert has_warning(t, "kept as empty placeholders") and has_warning(t, "dropped 1 deleted or removed")
    assert has_warning(t, "list 2 comment(s) Reddit did not include")
    assert has_warning(t, "'continue this thread'")
    assert [s["id"] for s in t.meta["more"]] == ["m1", "m2"]


def test_reddit_rejects_other_json() -> None:
    with pytest.raises(InputError, match="not a Reddit"):
        parse_reddit('[{"kind": "t3"}]', "r")


# -- Disqus ------------------------------------------------------------------------------
DISQUS = """`<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="10"><id>post-1</id><link>https://blog.example/a</link><title>A &amp; B</title>
    <message><![CDATA[<p>Article</p>]]></message><isDeleted>false</isDeleted></thread>
  <thread dsq:id="11"><id>gone</id><link>https://blog.example/gone</link><title>Gone</title>
    <isDeleted>true</isDeleted></thread>
  <post dsq:id="1"><message><![CDATA[<p>Tom &amp;amp; Jerry &lt;3</p><script>alert(1)</script>]]></message>
    <createdAt>2020-01-01T10:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><name>Ann</name><username>ann</username></author><thread dsq:id="10"/></post>
  <post dsq:id="2"><message>deleted text</message><isDeleted>true</isDeleted><isSpam>false</isSpam>
    <author><name>Bob</name></author><thread dsq:id="10"/><parent dsq:id="1"/></post>
  <post dsq:id="3"><message><![CDATA[Reply to <b>deleted</b><br>line two]]></message>
    <isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>Cy</name></author>
    <thread dsq:id=10/><parent dsq:id="2"/></post>
  <post dsq:id="4"><message>buy pills</message><isDeleted>false</isDeleted><isSpam>true</isSpam>
    <author><name>Spam</name></author><thread dsq:id="10"/></post>
  <post dsq:id="5"><message>lonely deleted</message><isDeleted>true</isDeleted><isSpam>false</isSpam>
    <thread dsq:id="10"/></post>
  <post dsq:id="6"><message>in a deleted thread</message><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <thread dsq:id="11"/></post>
  <post dsq:id="7"><message>reply to a missing post</message>
    <isDeleted>false</isDeleted><isSpam>false</isSpam>
    <thread dsq:id="10"/><parent dsq:id="999"/></post>
</disqus>
"""


def test_disqus_synthetic() -> None:
    [t] = valid(parse_disqus(DISQUS, "d"))
    assert t.source_format == "disqus_xml" and t.id == "https://blog.example/a" and t.title == "A & B"
    assert t.article == "Article"
    c = by_id(t)
    assert list(c) == ["1", "2", "3", "7"]
    assert c["1"].text == "Tom &amp; Jerry <3" and c["1"].author == "Ann"  # entities once, script dropped
    assert c["2"].text == "" and c["2"].meta["deleted"] and c["3"].parent_id == "2"
    assert c["3"].text == "Reply to deleted\nline two"
    assert c["7"].parent_id is None and c["7"].meta["missing_parent"] == "999"
    for fragment in (
        "stray character",
        "quoted 1 unquoted",
        "excluded 1 post(s) marked as spam",
        "dropped 1 post(s) of deleted thread",
        "kept as empty placeholders",
        "dropped 1 deleted post(s) nobody replies to",
        "not in the thread",
    ):
        assert has_warning(t, fragment), fragment


def test_disqus_recovers_element_by_element_and_fails_cleanly() -> None:
    broken = DISQUS.replace('<post dsq:id="5">', '<post dsq:id="5"><oops>')
    [t] = valid(parse_disqus(broken, "d"))
    assert "1" in by_id(t) and has_warning(t, "read element by element")
    with pytest.raises(InputError, match="not well-formed XML"):
        parse_disqus('<?xml version="1.0"?><disqus><thread dsq:id="1"><title>x</title', "d")


def test_disqus_refuses_entity_expansion() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<disqus><thread>&b;</thread></disqus>"
    )
    with pytest.raises(InputError, match="refused XML entity"):
        parse_disqus(bomb, "d")


def test_html_to_text_unescapes_once() -> None:
    assert html_to_text("<p>a &amp;amp; b</p><p>c&nbsp;d</p>")[0] == "a &amp; b\n\nc d"
    assert html_to_text('<a href="https://x.example">x</a>')[1] == ["https://x.example"]


# -- WordPress ---------------------------------------------------------------------------
WXR = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:wp="http://wordpress.org/export/1.2/"><channel>
<item><title>Post one</title><link>https://wp.example/one</link>
  <content:encoded><![CDATA[<p>Body</p>]]></content:encoded>
  <wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_author>Ann</wp:comment_author>
    <wp:comment_date_gmt>2021-05-01 10:00:00</wp:comment_date_gmt>
    <wp:comment_content><![CDATA[First line
second line &amp; <em>more</em>]]></wp:comment_content>
    <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>0</wp:comment_parent></wp:comment>
  <wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_author>Bob</wp:comment_author>
    <wp:comment_content>Pending reply</wp:comment_content><wp:comment_approved>0</wp:comment_approved>
    <wp:comment_parent>1</wp:comment_parent></wp:comment>
  <wp:comment><wp:comment_id>3</wp:comment_id><wp:comment_content>spam</wp:comment_content>
    <wp:comment_approved>spam</wp:comment_approved><wp:comment_parent>0</wp:comment_parent></wp:comment>
  <wp:comment><wp:comment_id>4</wp:comment_id><wp:comment_content>reply to spam</wp:comment_content>
    <wp:comment_approved>1</wp:comment_approved><wp:comment_parent>3</wp:comment_parent></wp:comment>
</item>
<item><title>No comments</title><link>https://wp.example/two</link></item>
<item><title>Post one again</title><link>https://wp.example/one</link>
  <wp:comment><wp:comment_id>9</wp:comment_id><wp:comment_content>again</wp:comment_content>
    <wp:comment_parent>0</wp:comment_parent></wp:comment></item>
</channel></rss>
"""


def test_wordpress_synthetic() -> None:
    first, second = valid(parse_wordpress(WXR, "w"))
    assert first.source_format == "wordpress_xml" and first.id == "https://wp.example/one"
    assert first.article == "Body"
    c = by_id(first)
    assert list(c) == ["1", "2", "4"]
    assert c["1"].text == "First line\nsecond line & more"  # HTML converted, line break kept
    assert c["1"].created == "2021-05-01T10:00:00+00:00"
    assert c["2"].parent_id == "1" and c["2"].meta["approved"] is False
    assert c["4"].parent_id is None and has_warning(first, "excluded 1 comment(s): 3 (spam)")
    assert second.id == "https://wp.example/one#3" and has_warning(second, "same link")


def test_wordpress_rejects_other_xml_and_malformed() -> None:
    with pytest.raises(InputError, match="not a WordPress export"):
        parse_wordpress("<feed></feed>", "w")
    with pytest.raises(InputError, match="not well-formed XML"):
        parse_wordpress("<rss><channel><item></channel>", "w")


# -- Commento ----------------------------------------------------------------------------
def commento_json() -> str:
    def row(hexid: str, parent: str, text: str, who: str = "u1", **kw: Any) -> dict[str, Any]:
        return {
            "commentHex": hexid,
            "domain": "site.example",
            "url": "/p/1",
            "commenterHex": who,
            "markdown": text,
            "html": "",
            "parentHex": parent,
            "score": 1,
            "state": "approved",
            "creationDate": "2021-03-12T11:21:56Z",
            "deleted": False,
            **kw,
        }

    return json.dumps(
        {
            "version": 1,
            "comments": [
                row("c1", "root", "Hello *world*"),
                row("c2", "c1", "[deleted]", deleted=True),
                row("c3", "c2", "reply under a deleted one", who="anonymous"),
                row("c4", "root", "spammy", state="flagged"),
                row("c5", "c4", "reply to spam", state="unapproved"),
                row("c6", "root", "", who="ghost", html="<p>only &amp;amp; html</p>"),
                row("c7", "root", "[deleted]", deleted=True),
                row("c8", "root", "other page", url="/p/2"),
            ],
            "commenters": [{"commenterHex": "u1", "name": "Ann", "email": "ann@example.org"}],
        }
    )


def test_commento_synthetic() -> None:
    p1, p2 = valid(parse_commento(commento_json(), "c"))
    assert p1.id == "/p/1" and p2.id == "/p/2" and p1.source_format == "commento_json"
    c = by_id(p1)
    assert list(c) == ["c1", "c2", "c3", "c5", "c6"]
    assert c["c1"].author == "Ann" and c["c1"].text == "Hello *world*"  # markdown kept verbatim
    assert c["c2"].text == "" and c["c2"].meta["deleted"] and c["c3"].parent_id == "c2"
    assert c["c3"].author == "Anonymous"
    assert c["c5"].parent_id is None and c["c5"].meta["approved"] is False
    assert c["c6"].text == "only &amp; html" and c["c6"].author is None
    assert "email" not in str(dict(c["c1"].meta))
    for fragment in (
        "flagged as spam",
        "kept as empty placeholders",
        "dropped 1 deleted",
        "not in the commenters",
        "not in the thread",
    ):
        assert has_warning(p1, fragment), fragment


def test_commento_rejects_other_json() -> None:
    with pytest.raises(InputError, match="not a Commento export"):
        parse_commento("[]", "c")


# -- isso --------------------------------------------------------------------------------
def isso_json() -> str:
    return json.dumps(
        [
            {
                "id": "/a/",
                "title": "A",
                "comments": [
                    {
                        "id": 2,
                        "author": "Bob",
                        "text": "<p>Tom &amp;amp; Jerry</p>",
                        "created": "2020-01-02 10:00:00",
                        "email": "b@example.org",
                        "remote_addr": "1.2.3.4",
                        "website": "https://bob.example",
                    },
                    {"id": 1, "author": "", "text": "first", "created": "2020-01-01 10:00:00"},
                    {"id": 3, "author": "Cy", "text": "   "},
                    {"id": 4, "author": "Dee", "text": "reply", "parent": 1},
                    {"id": 5, "author": "Eve", "text": "to nowhere", "parent": 77},
                ],
            },
            {"id": "/a/", "title": "A again", "comments": [{"id": 1, "author": "Fay", "text": "dup thread"}]},
            {"id": "/empty/", "title": "Empty", "comments": []},
        ]
    )


def test_isso_synthetic() -> None:
    a, again = valid(parse_isso(isso_json(), "i"))
    assert a.source_format == "isso_json" and a.title == "A"
    assert [c.id for c in a.comments] == ["1", "2", "4", "5"]  # ordered by id, empty text skipped
    c = by_id(a)
    assert c["1"].author is None and c["1"].created == "2020-01-01T10:00:00"
    assert c["2"].text == "Tom &amp; Jerry" and c["2"].meta["author_url"] == "https://bob.example"
    assert c["4"].parent_id == "1" and c["5"].parent_id is None
    assert "1.2.3.4" not in repr(a) and "b@example.org" not in repr(a)
    assert has_warning(a, "without text") and has_warning(a, "not in the thread")
    assert again.id == "/a/#2" and has_warning(again, "this one is named")


def test_isso_rejects_other_json() -> None:
    with pytest.raises(InputError, match="not an isso"):
        parse_isso('[{"id": 1}]', "i")


# -- rows: JSONL, JSON array, CSV ---------------------------------------------------------
def test_jsonl_repairs_are_warned() -> None:
    rows = [
        {"id": "1", "text": "root"},
        {"id": "2", "parent_id": "3", "text": "cycle a"},
        {"id": "3", "parent_id": "2", "text": "cycle b"},
        {"id": "4", "parent_id": "4", "text": "self"},
        {"id": "1", "text": "duplicate"},
        {"id": "5", "parent_id": "nope", "text": "orphan"},
        {"id": "6", "parent_id": "0", "text": "top", "author": "Ann", "created_at": "not a date"},
    ]
    text = "\n".join(json.dumps(r) for r in rows) + "\n{broken json\n[1, 2]\n"
    [t] = valid(parse_jsonl(text, "rows.jsonl"))
    assert t.source_format == "jsonl" and t.id == "rows"
    c = by_id(t)
    assert list(c) == ["1", "2", "3", "4", "5", "6"] and c["1"].text == "root"
    assert c["2"].parent_id is None and c["3"].parent_id == "2"  # first of the cycle in document order
    assert c["4"].parent_id is None and c["5"].parent_id is None and c["6"].parent_id is None
    assert c["6"].author == "Ann" and c["6"].created is None
    for fragment in (
        "not valid JSON and were skipped",
        "not JSON objects",
        "repeated an id",
        "themselves",
        "not in the thread",
        "reply cycle(s) broken",
        "timestamp(s) could not be read",
    ):
        assert has_warning(t, fragment), fragment


def test_json_rows_group_threads() -> None:
    rows = [
        {"comment_id": 1, "thread_id": "t1", "body": "a"},
        {"comment_id": 2, "thread_id": "t1", "reply_to": 1, "body": "b"},
        {"comment_id": 1, "thread_id": "t2", "body": "c"},
    ]
    t1, t2 = valid(parse_jsonl(json.dumps(rows), "x"))
    assert t1.source_format == "json_rows" and (t1.id, t2.id) == ("t1", "t2")
    assert by_id(t1)["2"].parent_id == "1"


def test_csv_with_tabs_and_multiline_field() -> None:
    text = 'id\tparent_id\tauthor\ttext\n1\t\tAnn\t"two\nlines"\n2\t1\tBob\tok\n3\t1\tCy\t\n'
    [t] = valid(parse_csv(text, "c.tsv"))
    assert t.source_format == "csv"
    assert [(c.id, c.parent_id, c.author, c.text) for c in t.comments] == [
        ("1", None, "Ann", "two\nlines"),
        ("2", "1", "Bob", "ok"),
    ]
    assert has_warning(t, "without text were skipped")


def test_rows_without_text_field_fail_clearly() -> None:
    with pytest.raises(InputError, match="no text field"):
        parse_jsonl('{"id": 1, "score": 2}\n', "x")
    with pytest.raises(InputError, match="names no known column"):
        parse_csv("foo,bar\n1,2\n", "x")


# -- detection and dispatch ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "filename", "fmt"),
    [
        (reddit_json(), "", "reddit"),
        (DISQUS, "", "disqus"),
        (WXR, "export.txt", "wordpress"),
        (commento_json(), "", "commento"),
        (isso_json(), "", "isso"),
        ('{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n', "", "jsonl"),
        ('{"id": 1, "text": "a"}', "", "jsonl"),
        ('[{"id": 1, "text": "a"}]', "", "json_rows"),
        ("id,author,text\n1,Ann,hello\n", "", "csv"),
        ("whatever\n", "rows.csv", "csv"),
        ("[Rapoport] A title\n\nThe article.\n", "", "flat"),
        ("<3 this article\n\nbody\n", "", "flat"),
        ("[[Talk]] page\n\ntext", "notes.txt", "flat"),
        ("Title\n\nBody\n", "thread.txt", "flat"),
    ],
)
def test_detect_format(text: str, filename: str, fmt: str) -> None:
    assert detect_format(text, filename) == fmt


@pytest.mark.parametrize(
    ("text", "filename", "message"),
    [
        ('[{"id": 1, "text": "a"', "", "not valid JSON"),
        ('{"a": 1}', "", "not a known comment export"),
        ("<!DOCTYPE html>\n<html><body>hi</body></html>", "", "HTML page"),
        ("<!doctype html>\n<!-- saved -->\n<html lang=en>", "", "HTML page"),
        ('<?xml version="1.0"?><feed/>', "", "root <feed>"),
        ("<rss><channel></channel></rss>", "", "RSS feed"),
        ("just text", "thread.xml", "holds no XML"),
    ],
)
def test_detect_format_refuses_clearly(text: str, filename: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        detect_format(text, filename)


def test_parse_structured_dispatch_and_safety_net(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(FORMATS.names()) >= {
        "flat",
        "reddit",
        "disqus",
        "wordpress",
        "commento",
        "isso",
        "jsonl",
        "json_rows",
        "csv",
        "tsv",
        "wikiconv",
    }
    with pytest.raises(InputError, match="unknown input format"):
        parse_structured("x", "yaml", "x")
    assert parse_structured(json.dumps([{"kind": "Listing", "data": {"children": 5}}]), "reddit", "x") == []

    def shape_bug(text: str, name: str) -> list[Thread]:
        shape: dict[str, Thread] = {}
        return [shape["missing"]]

    monkeypatch.setitem(FORMATS._items, "reddit", InputFormat("reddit", shape_bug))
    with pytest.raises(InputError, match=r"x: malformed reddit input \(KeyError: 'missing'\)"):
        parse_structured("{}", "reddit", "x")


# -- bad input through the public API -----------------------------------------------------
def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.txt", b"  \n\n\t \r\n", "only whitespace"),
        ("article.txt", b"A title\n\nOne paragraph of article.\n\nAnother paragraph.\n", "no comment section"),
        ("junk.bin", bytes(range(256)) * 64, "binary"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        ("broken.json", b'[{"id": 1, "text": "a"},', "not valid JSON"),
        ("broken.xml", b'<?xml version="1.0"?>\n<disqus><post dsq:id="1"><message>x', "not well-formed XML"),
        ("broken_wp.xml", b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item>', "not well-formed"),
        (
            "no_comments.xml",
            b'<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>x</title></item></channel></rss>',
            "no thread with comments",
        ),
        ("empty_rows.json", b"[]", "no thread with comments"),
        (
            "no_comments.json",
            b'[{"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "p"}}]}},'
            b' {"kind": "Listing", "data": {"children": []}}]',
            "no thread with comments",
        ),
        ("page.html", b"<!DOCTYPE html><html><body><p>Comments</p></body></html>", "HTML page"),
    ],
)
def test_bad_files_raise_input_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        load_threads(_write(tmp_path, name, data))
    assert "\n" not in str(info.value)


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    data = os.urandom(1 << 16)
    with pytest.raises(InputError, match="binary"):
        load_threads(_write(tmp_path, "random.txt", data))
    with pytest.raises(InputError, match="binary"):
        load_threads(data)


def test_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # sparse: no 64 MB written
        fh.truncate(64 * 1024 * 1024 + 1)
    with pytest.raises(InputError, match="over the 64.0 MB limit"):
        load_threads(big)
    with pytest.raises(InputError, match="over the 10 bytes limit"):
        read_text(b"x" * 11, max_bytes=10)


def test_huge_single_comment_comes_out_whole(tmp_path: Path) -> None:
    big = "word " * 1_000_000 + "end"  # 5 MB in one comment
    [flat] = load_threads(_write(tmp_path, "big.txt", f"Title\n\nBody.\n\n\nAnn Lee\n\n{big}\n".encode()))
    assert flat.comments[0].text == big
    pair = ({"id": "1", "text": big}, {"id": "2", "parent_id": "1", "text": "ok"})
    rows = "\n".join(json.dumps(r) for r in pair)
    [t] = load_threads(_write(tmp_path, "big.jsonl", rows.encode()))
    assert t.comments[0].text == big and t.comments[1].parent_id == "1"


def test_windows_1252_decodes_with_warning(tmp_path: Path) -> None:
    text = "Title\n\nThe \u201carticle\u201d \u2013 here.\n\n\nAnn Lee\n\nI don\u2019t agree \u201cat all\u201d.\n"
    [t] = load_threads(_write(tmp_path, "cp.txt", text.replace("\n", "\r\n").encode("cp1252")))
    assert t.comments[0].text == "I don\u2019t agree \u201cat all\u201d."
    assert t.article == "The \u201carticle\u201d \u2013 here."
    assert has_warning(t, "Windows-1252")


def test_utf16_without_bom_warns_once() -> None:
    _, warnings = read_text("Title\n\nx\n".encode("utf-16-le"), name="u")
    assert warnings == ["u: no byte-order mark; decoded as UTF-16-LE"]


def test_truncated_jsonl_keeps_good_lines(tmp_path: Path) -> None:
    data = b'{"id": "1", "text": "a"}\n{"id": "2", "parent_id": "1", "text": "b"}\n{"id": "3", "te'
    [t] = valid(load_threads(_write(tmp_path, "cut.jsonl", data)))
    assert [c.id for c in t.comments] == ["1", "2"] and has_warning(t, "not valid JSON and were skipped")


# -- property: JSONL export of a reply tree round-trips ---------------------------------------
_ids = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
_texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40).filter(str.strip)


@st.composite
def reply_trees(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(_ids, min_size=1, max_size=25, unique=True))
    rows = []
    for k, cid in enumerate(ids):
        parent = draw(st.one_of(st.none(), st.sampled_from(ids[:k]))) if k else None
        author = draw(st.one_of(st.none(), st.sampled_from(["Ann", "Bob Ray", "Cy", "Dee-Dee"])))
        rows.append({"id": cid, "parent_id": parent, "author": author, "text": draw(_texts)})
    return rows


@settings(max_examples=80, deadline=None)
@given(reply_trees(), st.randoms(use_true_random=False))
def test_jsonl_round_trip(rows: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = rows[:]
    rnd.shuffle(shuffled)  # replies may come before their parents in a file
    text = "\n".join(json.dumps(r) for r in shuffled) + "\n"
    assert detect_format(text, "") == "jsonl"
    [t] = parse_jsonl(text, "tree")
    assert t.validate() == [] and t.warnings == ()
    assert {c.id: (c.parent_id, c.author, c.text) for c in t.comments} == {
        r["id"]: (r["parent_id"], r["author"], r["text"]) for r in rows
    }
    assert sorted(c.id for c in t.traverse()) == sorted(r["id"] for r in rows)


# -- the real fixtures in ../shared -----------------------------------------------------------
def _load(shared: Path, rel: str) -> list[Thread]:
    return valid(load_threads(shared / "formats" / rel))


@pytest.mark.shared
def test_real_reddit_thread(shared: Path) -> None:
    [t] = _load(shared, "reddit-nfl-thread/comments.json")
    assert t.source_format == "reddit_json" and t.id == "g7vyxy" and len(t) == 200
    top = [c.id for c in t.comments if c.parent_id is None]
    assert len(top) == 40 and top[:3] == ["fojwyxf", "fojwxw7", "fojwnxi"] and top[-1] == "fojwij2"
    assert "@TomPelissero & @MikeGarafolo" in t.title and "&amp;" not in t.title
    assert not any(e in c.text for c in t.comments for e in ("&amp;", "&gt;", "&lt;"))
    assert sum(1 for c in t.comments if c.text.startswith(">")) >= 2
    assert len(t.meta["more"]) == 99 and max(t.depth().values()) == 9
    assert [c.meta["distinguished"] for c in t.comments if "distinguished" in c.meta] == ["moderator"]
    assert sum(1 for c in t.comments if c.meta.get("edited")) == 4
    assert has_warning(t, "list 386 comment(s)") and has_warning(t, "reports 960 comments; 200 are here")


@pytest.mark.shared
def test_real_isso_disqus(shared: Path) -> None:
    hello, empty = _load(shared, "isso-fixtures/disqus.xml")
    assert hello.title == "Hello, World!" and len(hello) + len(empty) == 5
    c = by_id(hello)
    assert c["4"].author == "peter" and c["5"].parent_id == "4"
    assert c["9"].text == "" and c["9"].meta["deleted"] and c["11"].parent_id == "9"
    assert has_warning(hello, "thread is not in the file: 6 (thread 1337)")
    assert has_warning(empty, "empty <id>") and has_warning(empty, "no title")


@pytest.mark.shared
def test_real_isso_wordpress(shared: Path) -> None:
    first, second = _load(shared, "isso-fixtures/wordpress.xml")
    assert (first.id, first.title) == ("http://example.tld/2014/test/", "Hello, World\u2026")
    assert (second.id, second.title) == ("http://example.tld/?p=4", "...")
    assert len(first) + len(second) == 8
    c = by_id(first)
    assert c["6"].text == "Zweiter." and c["7"].parent_id == "6"
    assert c["8"].parent_id == c["9"].parent_id == "7"
    assert c["7"].created == "2014-04-29T15:21:35+00:00"  # only the GMT date exists
    assert c["10"].text == "When you have a comment with multiple lines:\nWordPress exports it like this."
    last = first.comments[-1]
    assert (last.author, last.parent_id) == ("Letzter :/", None)
    assert "info@posativ.org" not in repr(first)


@pytest.mark.shared
def test_real_isso_generic(shared: Path) -> None:
    threads = _load(shared, "isso-fixtures/generic.json")
    assert [(t.id, len(t)) for t in threads] == [("/posts/0001/", 1), ("/posts/0007/", 1)]
    assert threads[0].comments[0].author == "texas holdem" and threads[1].title == "Nat+%26+Miguel"
    assert threads[1].comments[0].created == "2005-05-08T06:50:26"


@pytest.mark.shared
@pytest.mark.parametrize(
    ("rel", "total"),
    [
        ("remark42-fixtures/disqus.xml", 4),
        ("remark42-fixtures/disqus-deleted-post.xml", 3),
        ("remark42-fixtures/disqus-deleted-thread.xml", 2),
    ],
)
def test_real_remark42_disqus(shared: Path, rel: str, total: int) -> None:
    threads = _load(shared, rel)
    assert sum(len(t) for t in threads) == total
    first = threads[0]
    assert has_warning(first, "stray character") and has_warning(first, "unquoted XML attribute")
    assert has_warning(first, "x299986073 (isSpam='123')")
    ids = {c.id for t in threads for c in t.comments}
    assert "12345678890" in ids and "299986073" not in ids  # no dsq:id: identified by <id>; spam excluded
    if rel.endswith("disqus.xml"):
        podcast = next(t for t in threads if t.id == "https://radio-t.com/p/2011/03/05/podcast-229/")
        c = by_id(podcast)
        assert len(podcast) == 2 and c["299619020"].parent_id is None
        assert c["299619020"].text == "The quick brown fox jumps over the lazy dog.\n\nsome link"


@pytest.mark.shared
def test_real_commento(shared: Path) -> None:
    threads = _load(shared, "remark42-fixtures/commento.json")
    assert sorted(t.id for t in threads) == ["/blog/post/1", "/blog/post/2"]
    comments = {c.text: c for t in threads for c in t.comments}
    assert len(comments) == 3
    assert (comments["Great reply!"].parent_id or "").startswith("7d77e39f")
    assert comments["Great reply!"].author == "Saturnin Uf"
    assert comments["Example comment created by user."].author == "Anonymous"


_SOURCES = {
    "reddit": reddit_json(),
    "disqus": DISQUS,
    "wordpress": WXR,
    "commento": commento_json(),
    "isso": isso_json(),
    "csv": 'id,parent_id,author,text\n1,,Ann,hi\n2,1,Bob,"x\ny"\n',
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(_SOURCES)), st.floats(0, 1), st.sampled_from(['"', "<", ">", "{", "]", ",", "&", "\n", ""])
)
def test_damaged_inputs_parse_or_raise_input_error(fmt: str, where: float, char: str) -> None:
    text = _SOURCES[fmt]
    k = int(where * (len(text) - 1))
    damaged = text[:k] + char + text[k + 1 :] if char else text[:k]
    try:
        threads = load_threads(damaged.encode() or b" ", name=fmt)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    valid(threads)

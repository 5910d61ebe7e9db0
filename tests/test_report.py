"""The thread report (issue 13): the reply graph as inline SVG, the chains side by side, the hashed
filter script, the comment's own Markdown rendered through the allow-list, permalinks and site flags,
and the index's same-title rows and sorting. Tiny models: fast."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

import discourse
from discourse.core.thread import Comment, Thread
from discourse.report import svg
from discourse.report.html import anchor, comment_flags, permalink, render_index, render_report
from discourse.report.markup import render_markdown, sanitize_html

NASTY = '<script>alert("n")</script>&"\u202e'  # an author name
XSS_MARKDOWN = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![cat](https://example.org/cat.png)",
    "![x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    '<svg onload="alert(1)"></svg>',
    '<a href="javascript:alert(1)" style="color:red">styled</a>',
    '<p style="background:url(https://evil.example/x)">bg</p>',
    "<iframe src=https://evil.example></iframe>",
    "[rel](//evil.example/x) [local](/r/nfl)",
    "<script>alert(1)</script>",
]
XSS_HTML = [
    "<img src=x onerror=alert(1)>",
    '<img src="https://example.org/cat.png" alt="a cat">',
    "<svg onload=alert(1)><circle r=5 /></svg>",
    '<a href="javascript:alert(1)">j</a>',
    '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    '<p style="color:red" onclick="alert(1)">styled</p>',
    "<math><mi xlink:href=javascript:alert(1)>m</mi></math>",
    "<object data=x></object><embed src=x><form action=x><input onfocus=alert(1) autofocus></form>",
    '<a href="https://ok.example/" target="_blank">ok</a>',
]

SAID = [
    # id, parent, author, text, meta
    ("a1", None, "Ann", "**Opening** post with a [source](https://example.org/a?x=1&y=2).", {"permalink": "/r/x/a1/"}),
    ("a2", "a1", "Bob", "I disagree, _that is wrong_.\n\n> quoted", {"permalink": "/r/x/a2/", "score": 12}),
    ("a3", "a2", "Ann", "No, you are wrong, read it again.", {"permalink": "javascript:alert(1)"}),
    ("a4", "a3", "Bob", "I still disagree with you.", {"stickied": True, "distinguished": "moderator"}),
    ("a5", "a4", "Ann", "Fine, I will concede that point.", {}),
    ("a6", "a1", NASTY, "\n\n".join(XSS_MARKDOWN), {"permalink": "https://www.reddit.com/r/x/a6/"}),
    ("a7", "a6", None, "", {"deleted": True, "body_removed": True}),
    ("a8", "a1", "Cy", "Is there a date for the vote? #nfl", {"is_submitter": True}),
]


@pytest.fixture(scope="module")
def analysis(tiny_config: dict) -> discourse.Analysis:
    comments = tuple(Comment(i, t, author=a, parent_id=p, meta=m) for i, p, a, t, m in SAID)
    thread = Thread("t3x", "Vote on the stadium", comments, source_format="reddit_json")
    return discourse.analyze(thread, tiny_config)


@pytest.fixture(scope="module")
def page(analysis: discourse.Analysis) -> str:
    return render_report(analysis)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def elements(page: str) -> Elements:
    p = Elements()
    p.feed(page)
    return p


def svg_of(page: str, cls: str) -> list[str]:
    return re.findall(rf'<svg class="{cls}".*?</svg>', page, flags=re.S)


def assert_inert(page: str) -> None:
    """No element can run script or load anything: no script but ours, no event attribute, no
    javascript:/data: link, no image, frame, object, embed or style attribute outside our SVG."""
    parsed = elements(page)
    for tag, attrs in parsed.tags:
        assert tag not in {"img", "iframe", "object", "embed", "math", "base", "meta"} or (
            tag == "meta" and "http-equiv" not in attrs or attrs.get("http-equiv") == "Content-Security-Policy"
        ), (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name != "style", (tag, attrs)
            if name in {"href", "src", "xlink:href", "action", "data"}:
                v = (value or "").strip().lower()
                assert v.startswith(("#", "https://", "http://", "mailto:", "./")), (tag, name, value)
    assert len(parsed.scripts) == 1


# -- 1. the reply graph ---------------------------------------------------------------------------
def test_graph_is_inline_svg_with_a_node_per_author_and_links_to_comments(page: str) -> None:
    [graph] = svg_of(page, "graph")
    root = ET.fromstring(graph)  # well-formed XML, whatever the names hold
    ns = {"s": "http://www.w3.org/2000/svg"}
    nodes = root.findall("s:a[@class='node']", ns)
    titles = sorted((n.find("s:title", ns).text or "").split(":")[0] for n in nodes)  # type: ignore[union-attr]
    assert titles == sorted(["Ann", "Bob", "Cy", svg_of_name(NASTY)])
    ids = set(re.findall(r'id="(c-[^"]+)"', page))
    links = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert links and all(h and h[1:] in ids for h in links)
    assert '<script>alert("n")' not in graph and "&lt;script&gt;" in graph
    assert "\u202e" not in graph  # the override is shown as a marker, never applied


def svg_of_name(name: str) -> str:
    return name.replace("\u202e", "<U+202E>")


def test_graph_edges_weigh_replies_colour_stance_and_highlight_chains(analysis: discourse.Analysis, page: str) -> None:
    [graph] = svg_of(page, "graph")
    edges = re.findall(r'<a href="#([^"]+)" class="edge( chain)?" data-stance="(\w+)"><title>([^<]*)</title>', graph)
    pairs = {title.split(":")[0] for _, _, _, title in edges}
    assert "Ann ↔ Bob" in pairs or "Bob ↔ Ann" in pairs
    ann_bob = next(e for e in edges if {"Ann", "Bob"} <= set(re.split(r" ↔ |: ", e[3])[:2]))
    assert "4 replies" in ann_bob[3]  # a2, a3, a4, a5
    chains = analysis.layer("chains", ())
    assert chains, "the Ann/Bob exchange is an argument chain"
    assert ann_bob[1] == " chain" and graph.count('class="chain-halo"') == len(chains)
    stances = {analysis.get(c, "stance").label for c in ("a2", "a3", "a4", "a5")}  # type: ignore[union-attr]
    assert ann_bob[2] in stances
    assert render_report(analysis) == page  # the layout is seeded: same page every time


def test_author_edges_count_both_directions_and_skip_self_replies() -> None:
    replies = [
        svg.Reply("1", "A", None, None),
        svg.Reply("2", "B", "A", "disagree"),
        svg.Reply("3", "A", "B", "disagree"),
        svg.Reply("4", "B", "A", "agree"),
        svg.Reply("5", "B", "B", "agree"),
        svg.Reply("6", None, "B", "agree"),
    ]
    activity, first, edges = svg.author_edges(replies)
    assert activity == {"A": 2, "B": 3} and first == {"A": "1", "B": "2"}
    [e] = edges
    assert e.replies == 3 and e.stance == "disagree" and e.first_id == "2"


def test_graph_of_many_authors_names_only_the_most_active(tiny_config: dict) -> None:
    replies = [svg.Reply(f"c{i}", f"user{i}", "hub" if i else None, "neutral") for i in range(60)]
    replies.append(svg.Reply("h", "hub", None, None))
    out = svg.reply_graph_svg(replies, [("hub", "user1")], anchor, str)
    root = ET.fromstring(str(out))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "hub" in texts and "user1" in texts and len(texts) <= svg.MAX_LABELS + 1
    assert len(root.findall("{http://www.w3.org/2000/svg}a[@class='node']")) == 61
    assert svg.reply_graph_svg([svg.Reply("x", None, None, None)], [], anchor, str) == ""


def test_a_huge_thread_draws_its_most_active_authors_in_reasonable_time() -> None:
    n = 2000
    replies = [svg.Reply(f"c{i}", f"u{i}", f"u{(i * 7919) % i}" if i else None, "agree") for i in range(n)]
    replies += [svg.Reply(f"d{i}", "u5", "u3", "disagree") for i in range(3)]
    started = time.perf_counter()
    out = str(svg.reply_graph_svg(replies, [("u1999", "u1998")], anchor, str))
    assert time.perf_counter() - started < 15
    nodes = re.findall(r'<a href="#[^"]+" class="node"><title>([^:]+):', out)
    assert len(nodes) == svg.MAX_AUTHORS + 2 and {"u5", "u1999", "u1998"} <= set(nodes)  # the busiest, and the chain
    assert f"(the most active of {n})" in out


# -- 2. chains side by side ------------------------------------------------------------------------
def test_chain_turns_sit_in_their_authors_column_with_a_chart(analysis: discourse.Analysis, page: str) -> None:
    ch = analysis.layer("chains", ())[0]
    section = page[page.index('<section id="chains">') : page.index("</section>", page.index('<section id="chains">'))]
    heads = re.findall(r'class="side-0"><bdi>(.*?)</bdi></p><p class="side-1"><bdi>(.*?)</bdi>', section)
    assert heads[0] == tuple(ch.participants)
    turn = r'<div class="turn side-(\d)">\n<p class="turn-head"><span class="turn-no">\d+</span> '
    turns = re.findall(turn + r'<a class="ref" href="#([^"]+)"', section)
    assert [cid for _, cid in turns] == [anchor(t.comment_id) for t in ch.turns]
    for (side, _), t in zip(turns, ch.turns, strict=True):
        assert ch.participants[int(side)] == t.author
    assert section.count('<svg class="turn-chart"') == len(ch.turns)
    [spark] = svg_of(section, "sparkline")
    assert re.findall(r'<a href="#([^"]+)">', spark) == [anchor(t.comment_id) for t in ch.turns]
    ET.fromstring(spark)
    for s in ch.summary:  # every summary sentence links to the comments it cites
        for cid in s.citations:
            assert f'<a class="ref" href="#{anchor(cid)}">' in section


# -- 3. filters: our one script, allowed by its hash ---------------------------------------------
def test_the_only_script_is_ours_and_the_csp_allows_exactly_its_hash(page: str) -> None:
    [code] = elements(page).scripts
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    [csp] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert f"script-src 'sha256-{digest}';" in csp and "default-src 'none'" in csp
    assert "unsafe-inline'; img-src" in csp and "script-src 'unsafe" not in csp
    assert code.startswith("\n// discourse report") or code.startswith("// discourse report")


def test_without_script_every_comment_shows_and_the_filters_are_hidden(page: str, analysis: discourse.Analysis) -> None:
    assert '<form id="filters" class="filters" hidden>' in page
    items = re.findall(r'<li class="comment[^"]*" id="([^"]+)"([^>]*)>', page)
    assert len(items) == len(analysis.thread.comments)
    assert not any(re.search(r"\shidden\b", attrs) for _, attrs in items)
    a2 = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', dict(items)["c-a2"]))
    assert a2["data-author"] == "Bob" and a2["data-depth"] == "2"
    assert analysis.get("a2", "stance").label in a2["data-labels"].split()  # type: ignore[union-attr]
    assert float(a2["data-tox"]) == pytest.approx(analysis.get("a2", "toxicity").score, abs=1e-6)  # type: ignore[union-attr]
    a7 = dict(re.findall(r'(data-[a-z]+)="([^"]*)"', dict(items)["c-a7"]))
    assert {"deleted", "removed"} <= set(a7["data-labels"].split())


# -- 4. the comment's own markup --------------------------------------------------------------------
def test_markdown_is_rendered_with_the_verbatim_text_one_click_away(page: str) -> None:
    li = page[page.index('id="c-a1"') : page.index("</li>", page.index('id="c-a1"'))]
    assert "<strong>Opening</strong>" in li
    assert '<a href="https://example.org/a?x=1&amp;y=2" rel="nofollow noopener noreferrer">source</a>' in li
    verbatim = '<details class="verbatim"><summary>verbatim text</summary><div class="text" dir="auto">'
    assert verbatim + "**Opening** post" in li
    li2 = page[page.index('id="c-a2"') : page.index("</li>", page.index('id="c-a2"'))]
    assert "<em>that is wrong</em>" in li2 and "<blockquote>" in li2


def test_xss_payloads_in_markdown_stay_inert(page: str) -> None:
    assert_inert(page)
    li = page[page.index('id="c-a6"') : page.index("</li>", page.index('id="c-a6"'))]
    md = li[li.index('<div class="md"') : li.index("<details")]
    assert "[image: cat]" in md and "<img" not in md and "cat.png" in md  # a link to the image, never loaded
    hrefs = [a.get("href") or "" for t, a in elements(md).tags if t == "a"]
    assert "https://example.org/cat.png" in hrefs  # the ![image]
    assert not [h for h in hrefs if h and not h.startswith("https://")]  # javascript:, data:, relative: dropped
    assert {t for t, _ in elements(md).tags} <= {"div", "p", "a", "br"}
    assert "&lt;img src=x onerror=alert(1)&gt;" in md and "&lt;svg onload=" in md  # raw HTML shown as text
    assert 'href="//evil' not in md and 'href="/r/nfl"' not in md  # relative links would open local files
    assert 'href="https://www.reddit.com/r/nfl"' in md  # ... a Reddit path points at Reddit


@pytest.mark.parametrize("payload", XSS_HTML + XSS_MARKDOWN)
def test_the_sanitiser_leaves_nothing_that_runs_or_loads(payload: str) -> None:
    for out in (sanitize_html(payload), render_markdown(payload)):
        tags = elements(f"<div>{out}</div>").tags
        assert {t for t, _ in tags} <= {"div", "a", "p", "strong", "em"}, out
        for tag, attrs in tags:
            assert set(attrs) <= {"href", "rel", "title"}, out
            if "href" in attrs:
                assert (attrs["href"] or "").startswith(("https://", "http://", "mailto:")), out
                assert attrs["rel"] == "nofollow noopener noreferrer"
    assert "[image: a cat]" in sanitize_html(XSS_HTML[1])
    site = "https://www.reddit.com"
    assert 'href="https://www.reddit.com/u/x"' in render_markdown("[u](/u/x) [f](/SF) [r](//e.example)", site)
    assert render_markdown("[f](/SF) [r](//e.example/r/x)", site).count("href") == 0


# -- 5. back to the site ----------------------------------------------------------------------------
def test_permalinks_and_site_flags(page: str) -> None:
    def li(cid: str) -> str:
        start = page.index(f'id="{anchor(cid)}"')
        return page[start : page.index("</li>", start)]

    assert 'href="https://www.reddit.com/r/x/a1/" rel="nofollow noopener noreferrer"' in li("a1")
    assert 'href="https://www.reddit.com/r/x/a6/"' in li("a6")
    assert "on the site" not in li("a3") and "javascript" not in li("a3")
    assert "stickied</span>" in li("a4") and 'flag-moderator">moderator</span>' in li("a4")
    assert "author deleted" in li("a7") and "removed</span>" in li("a7")
    assert "original poster" in li("a8") and "12 points" in li("a2")
    assert permalink({"permalink": "/r/x/1/"}, "disqus_xml") is None
    assert permalink({"url": "https://site.example/c/1"}, "disqus_xml") == "https://site.example/c/1"
    assert permalink({"permalink": "//evil.example/"}, "reddit_json") is None
    assert comment_flags({"distinguished": "admin"}) == (("distinguished", "admin"),)


def test_the_header_tells_the_thread_apart(tiny_config: dict) -> None:
    comments = (Comment("p1", "hi", author="Al", created="2020-04-01T10:00:00Z"),)
    meta = {"permalink": "/r/nfl/comments/g7vyxy/x/", "subreddit": "nfl", "source": "in/nfl.json"}
    thread = Thread("g7vyxy", "Game Thread", comments, source_format="reddit_json", meta=meta)
    page = render_report(discourse.analyze(thread, tiny_config))
    kicker = page[page.index('<p class="kicker">') : page.index("</p>", page.index('<p class="kicker">'))]
    assert "thread <bdi>g7vyxy</bdi>" in kicker and "r/<bdi>nfl</bdi>" in kicker and "from <bdi>in/nfl.json" in kicker
    assert "started" in kicker and "2020-04-01T10:00:00Z" in kicker
    assert 'href="https://www.reddit.com/r/nfl/comments/g7vyxy/x/"' in kicker


def test_plain_text_formats_are_not_rendered_as_markdown(tiny_config: dict) -> None:
    comments = (Comment("p1", "**not bold** <b>x</b>", author="Al"),)
    page = render_report(discourse.analyze(Thread("t", "T", comments, source_format="jsonl"), tiny_config))
    assert '<div class="text" dir="auto">**not bold** &lt;b&gt;x&lt;/b&gt;</div>' in page
    assert '<div class="md"' not in page


# -- 5/6. the index ----------------------------------------------------------------------------------
def test_index_tells_same_titles_apart_sorts_with_a_hashed_script_and_keeps_badges_whole() -> None:
    base = {"title": "Game Thread", "comments": 3, "status": "ok", "max_toxicity": 0.4}
    page = render_index(
        [
            {**base, "folder": "a-1", "thread_id": "abc", "source": "x/a.json", "created": "2020-04-01T10:00:00Z"},
            {**base, "folder": "b-2", "thread_id": "def", "source": "x/b.json", "source_format": "reddit_json"},
            {**base, "folder": "c-3", "title": "Other", "thread_id": "ghi", "source": "x/c.json"},
        ]
    )
    assert page.count('class="tag thread-id"') == 2 and "id <bdi>abc</bdi>" in page and "id <bdi>def</bdi>" in page
    assert "id <bdi>ghi</bdi>" not in page
    assert "2020-04-01 10:00</bdi>" in page and "reddit_json · <bdi>x/b.json</bdi>" in page
    [code] = elements(page).scripts
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page
    assert page.count('data-sort="num"') == 4 and '<table id="threads" class="index">' in page
    assert "table.index .badge { white-space: nowrap;" in page
    assert_inert(page)


def test_layout_uses_the_window_and_has_phone_and_print_rules(page: str) -> None:
    assert "max-width: 1440px" in page
    assert "@media (max-width: 600px)" in page and "@media print" in page
    assert re.search(r"@media print \{[^@]*nav, \.filters", page)

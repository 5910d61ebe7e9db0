"""A huge thread's outputs (issue 7): report.html lists only the first ``output.report_comments``
comments of the tree and says so, and every file is written as it is made (the analysis.json
document, its rows and the page are never held whole). Tiny models: fast."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import discourse
from discourse.core.analysis import Analysis
from discourse.core.config import ConfigError, OutputConfig, load_config
from discourse.core.thread import Comment, Thread
from discourse.report.html import TreeOrder, anchor, render_report, write_report
from discourse.report.writers import comments_csv, write_analysis_json, write_outputs

WORDS = "you are wrong i agree the stadium money is a bad idea why not".split()
N = 60
CAP = 17


def _thread() -> Thread:
    """N comments among 5 authors; every third answers the article, the rest an earlier comment
    (so preorder differs from document order), with line breaks, quotes and a title that holds
    the text analysis.json's streaming splices at."""
    comments = []
    for i in range(N):
        parent = None if i % 3 == 0 else f"c{i - 1 - (i % 4)}" if i > 4 else f"c{i - 1}"
        text = f'{" ".join(WORDS[(i + k) % len(WORDS)] for k in range(9))}.\n\n"quoted" \\ {i} ünï'
        comments.append(Comment(f"c{i}", text, author=f"user{i % 5}", parent_id=parent))
    title = 'Huge\n  "comments": [] thread'
    return Thread("huge-1", title, tuple(comments), article='An "article".\n  "comments": []')


@pytest.fixture(scope="module")
def analysis(tiny_config: dict) -> Analysis:
    return discourse.analyze(_thread(), tiny_config)


def _listed(page: str) -> list[str]:
    return re.findall(r'<li class="comment[^"]*" id="([^"]+)"', page)


def test_a_thread_over_the_cap_lists_exactly_the_first_comments_of_the_tree_and_says_so(analysis: Analysis) -> None:
    page = render_report(analysis, max_comments=CAP)
    tree = [anchor(c.id) for c in TreeOrder.of(analysis.thread).comments]
    assert len(tree) == N and tree != [anchor(c.id) for c in analysis.thread.comments]  # preorder, not file order
    assert _listed(page) == tree[:CAP]
    assert f"This page lists the first {CAP} of {N} comments" in page
    assert 'href="./comments.csv"' in page and 'href="./analysis.json"' in page
    assert "<b>60</b> comments" in page  # the counts cover the whole thread
    # every link inside the page points at an element of the page; a comment past the cap is named, not linked
    ids = set(re.findall(r'id="([^"]+)"', page))
    targets = set(re.findall(r'href="#([^"]+)"', page))
    assert targets <= ids, targets - ids
    assert 'class="ref beyond"' in page


def test_a_thread_within_the_cap_lists_every_comment_with_no_note(analysis: Analysis) -> None:
    for cap in (0, N, N + 1):
        page = render_report(analysis, max_comments=cap)
        assert len(_listed(page)) == N
        assert "This page lists the first" not in page and "ref beyond" not in page
    assert render_report(analysis, max_comments=0) == render_report(analysis, max_comments=N)


def test_the_cap_comes_from_the_output_config_and_is_checked(analysis: Analysis, tmp_path: Path) -> None:
    assert OutputConfig().report_comments == 5000
    write_outputs(analysis, tmp_path, OutputConfig(report_comments=CAP))
    assert len(_listed((tmp_path / "report.html").read_text(encoding="utf-8"))) == CAP
    assert load_config({"output": {"report_comments": 9}}).output.report_comments == 9
    with pytest.raises(ConfigError, match="report_comments"):
        load_config({"output": {"report_comments": -1}})


def test_the_report_is_written_in_pieces_as_rendered(analysis: Analysis, monkeypatch: pytest.MonkeyPatch) -> None:
    class Chunks(io.StringIO):
        writes = 0

        def write(self, s: str) -> int:
            Chunks.writes += 1
            return super().write(s)

    expected = render_report(analysis)
    monkeypatch.setattr(Analysis, "to_json", lambda self: pytest.fail("the report built the whole analysis.json"))
    out = Chunks()
    write_report(analysis, out)
    assert out.getvalue() == expected
    assert Chunks.writes > N  # not one string at the end


def test_analysis_json_is_streamed_byte_for_byte_as_json_dump(analysis: Analysis, tmp_path: Path) -> None:
    whole = json.dumps(analysis.to_json(), ensure_ascii=False, indent=2) + "\n"
    buf = io.StringIO()
    write_analysis_json(analysis, buf)
    assert buf.getvalue() == whole
    assert json.loads(buf.getvalue())["thread"]["title"] == 'Huge\n  "comments": [] thread'


def test_writing_the_outputs_never_builds_the_whole_document(
    analysis: Analysis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected_json = json.dumps(analysis.to_json(), ensure_ascii=False, indent=2) + "\n"
    expected_csv = comments_csv(analysis)
    monkeypatch.setattr(Analysis, "to_json", lambda self: pytest.fail("a writer built the whole analysis.json"))
    write_outputs(analysis, tmp_path)
    assert (tmp_path / "analysis.json").read_text(encoding="utf-8") == expected_json
    assert (tmp_path / "comments.csv").read_bytes().decode("utf-8") == expected_csv
    assert len(_listed((tmp_path / "report.html").read_text(encoding="utf-8"))) == N


def test_chains_are_rendered_one_at_a_time(analysis: Analysis, monkeypatch: pytest.MonkeyPatch) -> None:
    from discourse.report import html

    chains = len(analysis.layer("chains", ()))
    assert chains >= 3
    made: list[int] = []
    real = html.iter_chain_views

    def counted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for view in real(*args, **kwargs):
            made.append(1)
            yield view

    monkeypatch.setattr(html, "iter_chain_views", counted)
    made_when_first_written: list[int] = []

    class Out(io.StringIO):
        def write(self, s: str) -> int:
            if '<article class="chain">' in s and not made_when_first_written:
                made_when_first_written.append(len(made))
            return super().write(s)

    out = Out()
    write_report(analysis, out)
    assert made_when_first_written == [1] and len(made) == chains
    assert out.getvalue().count('<article class="chain">') == chains


def test_a_thread_with_more_chains_than_the_cap_shows_the_longest_in_thread_order(
    analysis: Analysis, tmp_path: Path
) -> None:
    """At 100,000 comments the page listed every chain (75-135 MB); ``output.report_chains``
    caps it at the longest, says so, and analysis.json keeps them all."""
    from discourse.report.html import longest_chains

    chains = list(analysis.layer("chains", ()))
    assert len(chains) >= 3 and len({len(c.turns) for c in chains}) > 1  # the cap has a choice to make
    cap = 2
    kept = longest_chains(chains, cap)
    assert len(kept) == cap and [chains.index(c) for c in kept] == sorted(chains.index(c) for c in kept)
    assert min(len(c.turns) for c in kept) >= max(len(c.turns) for c in chains if c not in kept)
    page = render_report(analysis, max_chains=cap)
    assert page.count('<article class="chain">') == cap
    assert f"shows the {cap} longest of {len(chains)} argument chains" in page
    assert f"<b>{len(chains)}</b> argument chains" in page  # the counts still cover every chain
    ids = set(re.findall(r'id="([^"]+)"', page))
    assert set(re.findall(r'href="#([^"]+)"', page)) <= ids
    for limit in (0, len(chains)):
        full = render_report(analysis, max_chains=limit)
        assert full.count('<article class="chain">') == len(chains) and "longest of" not in full
    assert OutputConfig().report_chains == 200
    write_outputs(analysis, tmp_path, OutputConfig(report_chains=cap))
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count('<article class="chain">') == cap
    assert len(json.loads((tmp_path / "analysis.json").read_text(encoding="utf-8"))["chains"]) == len(chains)
    with pytest.raises(ConfigError, match="report_chains"):
        load_config({"output": {"report_chains": -3}})


def _networkx_graphml(g: Any) -> bytes:
    import networkx as nx

    buf = io.BytesIO()
    nx.write_graphml(g.copy(), buf, encoding="utf-8")  # copy: networkx pops the graph's id
    return buf.getvalue()


def test_graphml_is_streamed_byte_for_byte_as_networkx_writes_it(analysis: Analysis) -> None:
    import networkx as nx

    from discourse.graph import for_graphml, to_digraph
    from discourse.report.writers import graphml_bytes, stream_graphml

    g = for_graphml(to_digraph(analysis))
    assert graphml_bytes(analysis) == _networkx_graphml(g)
    odd = nx.DiGraph(note='a "q" & <b>\ttab\r\nline')  # no id; attribute escaping
    odd.add_node('n "1" &\n<x>', text="  \n", n=1, f=0.5, b=True, empty="")
    odd.add_node("bare")  # no data at all
    odd.add_node("n2", n=2.5, text="x")  # the same name with another type: a key of its own
    odd.add_edge('n "1" &\n<x>', "bare")  # no data
    odd.add_edge("bare", "n2", w=1)
    for graph in (odd, nx.DiGraph(id="only"), nx.DiGraph(), nx.Graph(id="u")):
        buf = io.BytesIO()
        stream_graphml(graph, buf)
        assert buf.getvalue() == _networkx_graphml(graph), graph
    with pytest.raises(TypeError):
        stream_graphml(nx.DiGraph(bad=[1]), io.BytesIO())


def test_graphml_cleaned_in_place_equals_the_cleaned_copy() -> None:
    """The writer cleans the graph it built in place instead of holding a cleaned copy beside it
    (two graphs of a 100,000-comment thread at once); an id that needs cleaning still gets a copy."""
    import networkx as nx

    from discourse.graph import for_graphml
    from discourse.report.writers import stream_graphml

    def graph(bad_id: bool) -> nx.DiGraph:
        g = nx.DiGraph(id="t", title="form\x0cfeed")
        g.add_node("root", text="art\x00icle", n=1)
        g.add_node("c\x01" if bad_id else "c1", text="bell\x07 and tab\t", author="ann", score=0.5)
        g.add_edge("root", "c\x01" if bad_id else "c1", evidence="quo\x0bted")
        return g

    for bad_id in (False, True):
        copied, inplace = io.BytesIO(), io.BytesIO()
        original = graph(bad_id)
        stream_graphml(for_graphml(original), copied)
        assert original.nodes["root"]["text"] == "art\x00icle"  # the copy leaves its source alone
        same = graph(bad_id)
        cleaned = for_graphml(same, copy=False)
        stream_graphml(cleaned, inplace)
        assert inplace.getvalue() == copied.getvalue() and b"\xef\xbf\xbd" in copied.getvalue()
        assert (cleaned is same) is not bad_id


def test_a_long_chain_lays_out_its_first_turns_and_keeps_every_turn_in_the_sparkline(
    analysis: Analysis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 chains of a 100,000-comment thread still made a 67 MB page: each laid out every one of
    its turns. Only the first ``CHAIN_TURNS`` are laid out now; the sparkline keeps them all."""
    from discourse.report import html

    longest = max(analysis.layer("chains", ()), key=lambda c: len(c.turns))
    assert len(longest.turns) > 2
    th = html.Thresholds.of(analysis)
    whole = next(v for v in html.iter_chain_views(analysis, th) if v.chain is longest)
    monkeypatch.setattr(html, "CHAIN_TURNS", 2)
    capped = next(v for v in html.iter_chain_views(analysis, th) if v.chain is longest)
    assert len(capped.turns) == 2 and capped.hidden == len(longest.turns) - 2 and whole.hidden == 0
    assert capped.turns == whole.turns[:2] and capped.sparkline == whole.sparkline
    page = render_report(analysis)
    assert f"its {len(longest.turns) - 2} later turns are in the sparkline" in page
    assert set(re.findall(r'href="#([^"]+)"', page)) <= set(re.findall(r'id="([^"]+)"', page))

"""Other scrapers' layouts (issue 10): profiles in configs/layouts, auto-detection, comments recovered
whole from every layout, and the explicit reply markers pages keep used as parents."""

from __future__ import annotations

import fnmatch
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discourse.core.errors import ConfigError
from discourse.core.thread import Comment, Thread
from discourse.formats.flat import parse_flat
from discourse.formats.layouts import detect_layout, layout_from_dict, layouts_dir, load_layouts
from discourse.formats.render_flat import LAYOUTS, clean_text, render_flat, with_markers
from discourse.stages.reply_graph import load_reply_weights
from discourse.stages.reply_graph.links import infer_structure
from discourse.train.structure_eval import evaluate, rendering

REPO = Path(__file__).resolve().parents[1]
NON_REFERENCE = [x for x in LAYOUTS if x != "reference"]


def _tree() -> Thread:
    """Two top-level comments, a four-deep exchange, a one-word reply and a furniture-like comment."""
    rows = [
        ("a", None, "ann_lee", "Public money should never pay for private stadiums.\n\nThat is my view."),
        ("b", "a", "bob_ray", "I disagree. Stadiums bring jobs and visitors to the town."),
        ("c", "b", "ann_lee", "The jobs are temporary and they are low paid."),
        ("d", "c", "bob_ray", "Visitors still spend their money in the town centre."),
        ("e", "a", "cy_dunn", "10"),
        ("f", None, "dee_park", "When is the vote on the stadium exactly?"),
        ("g", "f", "eve_moss", "Reply"),
        ("h", "f", "ann_lee", "Next Tuesday at the town hall, I think."),
    ]
    comments = tuple(Comment(id=i, text=t, author=a, parent_id=p) for i, p, a, t in rows)
    return Thread(id="stadium", title="Town votes on a stadium", comments=comments, article="The town will vote.")


def _pairs(t: Thread) -> list[tuple[str | None, str]]:
    return [(c.author, c.text) for c in t.comments]


def test_every_shipped_profile_loads_and_is_package_data() -> None:
    layouts = load_layouts()
    assert set(layouts) == set(LAYOUTS)
    assert layouts["disqus"].header_match("Ann Lee • 3 years ago") is not None
    assert layouts["reddit"].start_match("level 2") is not None
    assert layouts["forum"].start_match("in reply to Bob Ray") is not None
    # the profiles ship in the wheel: configs/ is the package discourse._configs, configs/layouts its
    # data-only subpackage, whose package-data patterns cover every profile file
    tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")
    tools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert tools["package-dir"]["discourse._configs"] == "configs"
    assert "discourse._configs.layouts" in tools["packages"]
    patterns = tools["package-data"]["discourse._configs.layouts"]
    assert layouts_dir().parent.name == "configs" or layouts_dir().parent.name == "_configs"
    for f in layouts_dir().glob("*.yaml"):
        assert any(fnmatch.fnmatch(f.name, p) for p in patterns), f.name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x", "header": ["(unclosed"]}, "bad regular expression"),
        ({"name": "x", "header": ["^(?P<who>.+) • now$"]}, "named group author"),
        ({"name": "x", "colour": "red"}, "unknown key"),
        ({"name": "X Y"}, "'name' must be"),
        ({"name": "x", "ends_comment": "yes"}, "'ends_comment' must be true or false"),
        ({"name": "x", "markers": {"mention": ["^@(?P<who>\\w+)$"]}}, "named group parent"),
    ],
)
def test_a_bad_profile_is_a_one_line_error(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        layout_from_dict(raw, "bad.yaml")
    assert "\n" not in str(err.value) and str(err.value).startswith("bad.yaml")


def test_a_bad_profile_file_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "reference.yaml").write_text("name: reference\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^broken.yaml: unreadable layout profile"):
        load_layouts(tmp_path)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_round_trips_and_is_detected(layout: str) -> None:
    thread = _tree()
    dropped = {"c", "g"}
    flat = render_flat(thread, drop_author=lambda c: c.id in dropped, layout=layout)
    parsed = parse_flat(flat, "t")
    assert parsed.meta["layout"]["name"] == layout
    want = [(None if c.id in dropped else c.author, clean_text(c.text)) for c in thread.traverse("preorder")]
    assert _pairs(parsed) == want
    if layout != "reference":
        assert any(w.startswith(f"read as layout {layout} (auto-detected") for w in parsed.warnings)
        assert all(c.meta.get("furniture") for c in parsed.comments)  # headers, votes, actions kept aside
    else:
        assert not any("layout" in w for w in parsed.warnings)


def test_the_reference_file_is_read_in_the_reference_layout(reference_thread: Path) -> None:
    text = reference_thread.read_text(encoding="utf-8")
    found = detect_layout(text.split("\n"))
    assert found.layout.name == "reference" and found.margin > 0
    t = parse_flat(text, "idlib")
    assert len(t.comments) == 14 and t.meta["layout"]["name"] == "reference"
    assert not any(k in c.meta for c in t.comments for k in ("reply_to", "quoted", "depth"))


def test_a_forced_layout_wins_and_is_recorded() -> None:
    flat = render_flat(_tree(), layout="disqus")
    t = parse_flat(flat, "t", layout="reference")
    assert t.meta["layout"] == {**t.meta["layout"], "name": "reference", "forced": True}
    assert any("read as layout reference (forced" in w for w in t.warnings)
    with pytest.raises(ConfigError, match="unknown layout 'myspace'"):
        parse_flat(flat, "t", layout="myspace")


_names = st.sampled_from(["ann_lee", "Bob Ray", "cy-dunn", "Dee Park", "eve42"])
_sentence = st.lists(
    st.sampled_from(["the", "vote", "was", "close", "and", "parking", "matters", "Reply", "10", "level"]),
    min_size=1,
    max_size=12,
).map(lambda ws: " ".join(ws))
_body = st.lists(_sentence, min_size=1, max_size=3).map(lambda ps: "\n\n".join(ps))


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(NON_REFERENCE),
    st.lists(st.tuples(_names, _body, st.booleans(), st.integers(0, 30)), min_size=2, max_size=10),
)
def test_random_trees_round_trip_in_every_layout(layout: str, rows: list[tuple[str, str, bool, int]]) -> None:
    """Whatever the texts (one-word, furniture-like, several paragraphs) and whichever headers are
    lost, every comment comes back whole with its author."""
    comments: list[Comment] = []
    for k, (name, body, _, up) in enumerate(rows):
        parent = comments[up % k].id if k and up % 3 else None
        comments.append(Comment(id=f"x{k}", text=body, author=name, parent_id=parent))
    thread = Thread(id="t", title="A title for the thread", comments=tuple(comments), article="Article body.")
    dropped = {f"x{k}" for k, (_, _, d, _) in enumerate(rows) if d}
    if layout != "reddit":  # a page needs two headers to be told from the reference layout ("level N" lines suffice)
        dropped -= {comments[0].id, comments[-1].id}
    parsed = parse_flat(render_flat(thread, drop_author=lambda c: c.id in dropped, layout=layout), "t")
    assert parsed.meta["layout"]["name"] == layout
    truth = list(thread.traverse("preorder"))
    assert [c.text for c in parsed.comments] == [clean_text(c.text) for c in truth]
    assert [c.author for c in parsed.comments] == [None if c.id in dropped else c.author for c in truth]


def test_furniture_like_text_after_a_header_is_kept() -> None:
    """A comment that is only "Reply · Share ›" or "level 3": the layout's furniture, but where the
    text stands (right under a header), so it is the comment (issue 7's rule)."""
    disqus = (
        "T\n\nA.\n\n\nAnn Lee • 2 hours ago\nReply · Share ›\n3\nReply · Share ›\n\n"
        "Bob Ray • 1 hour ago\nNo.\n0\nReply · Share ›\n"
    )
    t = parse_flat(disqus, "t")
    assert _pairs(t) == [("Ann Lee", "Reply · Share ›"), ("Bob Ray", "No.")]
    assert any("look like page furniture" in w for w in t.warnings)
    reddit = (
        "T\n\nA.\n\n\nlevel 1\nann · 3 points · 2h\nlevel 3\nReply Share Report Save\n\n"
        "level 2\nbob · 1 points · 1h\nNo.\nReply Share Report Save\n"
    )
    assert _pairs(parse_flat(reddit, "t")) == [("ann", "level 3"), ("bob", "No.")]


def _marked_parents(thread: Thread, layout: str, share: float = 1.0) -> tuple[int, int]:
    """(marked replies, of which the parent is right) after rendering, parsing and decoding."""
    shown, flat = rendering(thread, layout, share, 0)
    got = infer_structure(parse_flat(flat, thread.id), weights=load_reply_weights("reply-links-v2")[0])
    assert [c.text for c in got.comments] == [clean_text(c.text) for c in shown.traverse("preorder")]
    truth = list(shown.traverse("preorder"))
    index = {c.id: k for k, c in enumerate(truth)}
    marked = right = 0
    for g, c in zip(got.comments, truth, strict=True):
        if any(k in g.meta for k in ("reply_to", "quoted", "depth")):
            marked += 1
            want = None if c.parent_id is None else got.comments[index[c.parent_id]].id
            right += g.parent_id == want
    return marked, right


@pytest.mark.parametrize("layout", LAYOUTS)
def test_explicit_markers_give_the_right_parent(layout: str) -> None:
    """Every reply on the page carries a marker (a depth line on Reddit; "@X", "X wrote:" quotes
    or "in reply to X" elsewhere): the parents follow them, against the scorer's own guess."""
    marked, right = _marked_parents(_tree(), layout)
    assert marked >= 5 and right == marked


def test_a_marker_keeps_its_parent_open_across_a_long_subthread() -> None:
    """A late "@ann_lee" after eight replies to someone else: the decoder must keep ann's comment on
    the path all along (every comment between a reply and its marked parent descends from it)."""
    rows = [("a", None, "ann_lee", "Stadiums are a waste of public money in every town that builds them.")]
    rows += [(f"r{k}", f"r{k - 1}" if k else "a", f"user{k}", f"Point number {k} about parking.") for k in range(8)]
    rows += [("z", "a", "zed", "@ann_lee\nI agree with you completely on this.")]
    comments = tuple(Comment(id=i, text=t, author=a, parent_id=p) for i, p, a, t in rows)
    thread = Thread(id="long", title="Stadiums", comments=comments, article="The town will vote.")
    got = infer_structure(parse_flat(render_flat(thread, layout="disqus"), "long"))
    z = got.comments[-1]
    assert z.meta["reply_to"] == "ann_lee" and z.parent_id == got.comments[0].id
    assert z.parent_evidence[0] == "marked on the page: mention ann_lee"


def test_a_marker_naming_a_lost_author_names_that_comment() -> None:
    """A forum prints "in reply to bob_ray" but no author line says bob_ray: the reply answers a
    comment that lost its author line (or the article), not the known author just above it; and
    that comment is bob_ray's (the text never names him: only the page's marker does)."""
    rows = [
        ("a", None, "ann_lee", "Stadiums are a waste of public money."),
        ("b", "a", "bob_ray", "The vote is next week."),
        ("c", "b", "cy_dunn", "Thanks for the date, that helps a lot."),
        ("d", "b", "dee", "Which day next week is it?"),
    ]
    comments = tuple(Comment(id=i, text=t, author=a, parent_id=p) for i, p, a, t in rows)
    thread = Thread(id="lost", title="Stadiums", comments=comments, article="The town will vote.")
    flat = render_flat(thread, drop_author=lambda c: c.id == "b", layout="forum", reply_to=lambda c: c.id == "d")
    got = infer_structure(parse_flat(flat, "lost"), weights=load_reply_weights("reply-links-v2")[0])
    assert got.comments[3].meta["reply_to"] == "bob_ray" and got.comments[3].parent_id == got.comments[1].id
    assert got.comments[1].author == "bob_ray" and got.comments[1].author_inferred
    assert "in reply to" in got.comments[1].meta["author_evidence"]


@pytest.mark.shared
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_real_nfl_thread_in_every_layout(shared: Path, layout: str) -> None:
    """The r/nfl thread (200 comments, depth 8) rendered in each layout, one header in five lost and
    half the replies marked: every comment whole, authors kept, the layout detected, and the marked
    replies' parents right far more often than the unmarked ones."""
    from discourse.formats.reddit import parse_reddit

    thread = parse_reddit(
        (shared / "formats" / "reddit-nfl-thread" / "comments.json").read_text(encoding="utf-8"), "nfl"
    )[0]
    weights, _ = load_reply_weights("reply-links-v2")
    r = evaluate([thread], 0.2, 0, None, weights, 8, layout, 0.5).rates()
    assert r["comments"] == 200 and r["recovered_whole"] == 1.0 and r["author_accuracy_kept"] == 1.0
    assert r["layout_detected"] == 1.0
    assert r["marked_comments"] >= 80 and r["parent_accuracy_marked"] >= 0.85
    plain = evaluate([thread], 0.2, 0, None, weights, 8, layout, 0.0).rates()
    assert r["parent_accuracy"] >= plain["parent_accuracy"] + (0.0 if layout == "reddit" else 0.3)


def test_with_markers_marks_only_replies_and_keeps_texts() -> None:
    thread = _tree()
    marked = with_markers(thread, 1.0, ("mention",), seed=random.Random(0).randrange(9))
    by = thread.by_id()
    for c in marked.comments:
        if by[c.id].parent_id is None:
            assert c.text == by[c.id].text and "marker" not in c.meta
        else:
            assert c.text == f"@{by[by[c.id].parent_id].author}\n{by[c.id].text}"


def test_analyze_layout_option_forces_a_profile(tmp_path: Path, tiny_config: dict) -> None:
    """`discourse analyze --layout NAME` reads flat files with that profile (recorded in the output's
    warnings); auto-detection by default; an unknown name is a one-line error."""
    import json

    import yaml
    from click.testing import CliRunner

    from discourse.cli import main

    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    src = tmp_path / "page.txt"
    src.write_text(render_flat(_tree(), layout="disqus"), encoding="utf-8")

    def run(out: str, *extra: str) -> dict:
        r = CliRunner().invoke(
            main, ["analyze", str(src), "--out", str(tmp_path / out), "--config", str(conf), "-q", *extra]
        )
        assert r.exit_code == 0, r.output
        [path] = (tmp_path / out).glob("*/analysis.json")
        return json.loads(path.read_text(encoding="utf-8"))

    auto = run("auto")
    assert len(auto["comments"]) == 8
    assert any("read as layout disqus (auto-detected" in w for w in auto["warnings"])
    forced = run("forced", "--layout", "reference")
    assert any("read as layout reference (forced" in w for w in forced["warnings"])
    assert len(forced["comments"]) != 8  # the Disqus headers read as text: the profile matters
    again = run("auto", "--layout", "reference")  # same folder, another layout: read again, not "unchanged"
    assert len(again["comments"]) == len(forced["comments"])
    assert run("auto")["comments"] == auto["comments"]
    r = CliRunner().invoke(
        main, ["analyze", str(src), "--out", str(tmp_path / "x"), "--config", str(conf), "--layout", "myspace"]
    )
    assert r.exit_code == 3 and "unknown layout 'myspace'" in r.output and len(r.output.strip().splitlines()) == 1


def test_a_number_ending_a_comment_is_not_a_vote_count_on_a_page_without_votes() -> None:
    """Only a page that shows a count above most of its "Reply · Share ›" lines loses that count."""
    page = (
        "T\n\nA.\n\n\nAnn Lee • 2 hours ago\nMy score for the plan:\n10\nReply · Share ›\n\n"
        "Bob Ray • 1 hour ago\nToo generous.\nReply · Share ›\n\nCy Dunn • 1 hour ago\nAgreed.\nReply · Share ›\n"
    )
    want = [("Ann Lee", "My score for the plan:\n10"), ("Bob Ray", "Too generous."), ("Cy Dunn", "Agreed.")]
    assert _pairs(parse_flat(page, "t")) == want
    voted = page.replace("10\nReply", "10\n4\nReply").replace(".\nReply", ".\n0\nReply")
    assert _pairs(parse_flat(voted, "t")) == want

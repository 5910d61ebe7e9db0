"""The whole pipeline with tiny random models: the analysis.json contract, stage ordering,
the reply graph and GraphML, the HTML report's escaping, atomic writes."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pytest

import discourse
from discourse.core.analysis import SCHEMA_VERSION
from discourse.core.config import load_config
from discourse.core.engine import Pipeline
from discourse.core.errors import ConfigError, InputError, PipelineError
from discourse.core.layers import Annotations
from discourse.core.stage import STAGES, stage
from discourse.core.thread import ROOT_ID
from discourse.graph import from_digraph, to_digraph
from discourse.report.atomic import atomic_write_text
from discourse.report.html import anchor, render_report
from discourse.report.writers import graphml_bytes, write_outputs
from discourse.stages.chains.find import OUTCOME_TEXT
from discourse.stages.toxicity.result import ToxicityResult
from discourse.testing import DEBATE as BASE_DEBATE

REPO = Path(__file__).resolve().parents[1]

# The reply-graph tests' debate, with markup in the last comment that must never run in the report.
DEBATE = BASE_DEBATE.replace(
    "Does anyone know when the vote is exactly?",
    "<script>alert('x')</script> <img src=x onerror=alert(1)> why is this vote so quiet?",
)
assert DEBATE != BASE_DEBATE


@pytest.fixture(scope="module")
def analysis(tiny_config: dict) -> discourse.Analysis:
    return discourse.analyze(DEBATE, config=tiny_config)


# -- the analysis.json contract -----------------------------------------------------------------
def _documented_keys(section: str) -> set[str]:
    """Keys listed in the first column of a table under a heading of docs/analysis-schema.md."""
    text = (REPO / "docs" / "analysis-schema.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", body, flags=re.M))


def test_json_matches_the_documented_schema(analysis: discourse.Analysis) -> None:
    data = analysis.to_json()
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data) == _documented_keys("Top level")
    assert set(data["thread"]) == _documented_keys("`thread`")
    for c in data["comments"]:
        assert set(c) == _documented_keys("`comments[]`")
    assert data["chains"], "the debate holds one chain"
    for ch in data["chains"]:
        assert set(ch) == _documented_keys("`chains[]`")
    for a in data["attention"]:
        assert set(a) == _documented_keys("`attention[]`")


def test_every_comment_is_whole_and_labelled(analysis: discourse.Analysis) -> None:
    data = analysis.to_json()
    comments = data["comments"]
    assert len(comments) == 8
    ids = {c["id"] for c in comments}
    assert comments[-1]["text"].startswith("<script>alert('x')</script>")  # verbatim
    for c in comments:
        assert c["parent_id"] is None or c["parent_id"] in ids
        assert 0.0 <= c["parent_confidence"] <= 1.0
        tox, st = c["toxicity"], c["stance"]
        assert set(tox["labels"]) == {"toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"}
        assert 0.0 <= tox["score"] <= 1.0 and tox["model"] == "tox-block-0.1.2"
        assert set(st["scores"]) == {"agree", "disagree", "neutral", "query"}
        assert st["label"] == max(st["scores"], key=st["scores"].get)
        assert st["target_id"] == c["parent_id"]
    # the three comments without an author line are Marco's, inferred and marked
    marco = [c for c in comments if c["author"] == "Marco"]
    assert len(marco) == 3 and all(c["author_inferred"] for c in marco)
    assert any("addressed as Marco" in c["author_evidence"] for c in marco)
    assert all(c["author_evidence"] is None for c in comments if not c["author_inferred"])


def test_models_and_config_are_recorded(analysis: discourse.Analysis, tiny_config: dict) -> None:
    data = analysis.to_json()
    names = {m["name"] for m in data["models"]}
    assert "tox-block-0.1.2" in names and "reply-links-v1" in names
    assert any(n.startswith("encoder:") for n in names)
    for m in data["models"]:
        assert m["files"] and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in m["files"].values())
    # the runtime of the models that can run on more than one (the stance pair model's was missing)
    runtime = {m["name"]: m.get("runtime") for m in data["models"]}
    assert next(r for n, r in runtime.items() if n.startswith("hf:")) in ("torch-fp32", "torch-bf16-autocast")
    assert next(r for n, r in runtime.items() if n.startswith("encoder:"))
    assert runtime["tox-block-0.1.2"] is None
    enc = tiny_config["stages"]["encode.v1"]
    # defaults filled in: the token probe is named even where it does not apply (it reads MiniLM only)
    assert data["config"]["stages"]["encode.v1"] == {
        **enc,
        "max_tokens_per_text": 4096,
        "token_probe": {"name": "tox-spans-v1"},
        "backend": "auto",
    }
    assert data["config"]["pipeline"] == list(load_config().pipeline)
    assert data["config"]["stages"]["chains.v1"] == {"min_replies": 2, "toxic_threshold": 0.5}  # defaults filled in


def test_chain_summary_cites_real_comments(analysis: discourse.Analysis) -> None:
    ch = analysis.chains[0]
    assert set(ch.participants) == {"Priya Raman", "Marco"}
    ids = {c.id for c in analysis.thread.comments}
    assert all(s.citations and set(s.citations) <= ids for s in ch.summary)
    # the chain is exactly the replies between the two, in order, each turn labelled from the layers
    between = [
        c.id
        for c in analysis.thread.comments
        if c.parent_id and {c.author, analysis.thread.by_id()[c.parent_id].author} == {"Priya Raman", "Marco"}
    ]
    assert list(ch.comment_ids) == between and len(between) >= 2
    assert [t.stance for t in ch.turns] == [analysis.stance(cid).label for cid in between]
    # its last summary sentence says how it ended, citing the closing turn
    assert OUTCOME_TEXT[ch.outcome] in ch.summary[-1].text.lower()


# -- stage ordering -------------------------------------------------------------------------------
def test_stage_order_is_checked_before_running() -> None:
    cfg = load_config({"pipeline": ["encode.v1", "stance.v1", "reply_graph.v1"]})
    with pytest.raises(PipelineError, match="stance.v1 requires structure"):
        Pipeline(cfg)


def test_unknown_stage_and_section_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown stage"):
        Pipeline(load_config({"pipeline": ["encode.v1", "sentiment.v9"]}))
    with pytest.raises(ConfigError, match="config: unknown key 'stagez' \\(did you mean 'stages'\\?\\)"):
        load_config({"stagez": {}})


def test_a_stage_that_does_not_assign_what_it_declares_fails() -> None:
    @stage("test_broken.v1", requires=("text",), assigns=("toxicity",))
    def broken(cfg, res):  # type: ignore[no-untyped-def]
        return lambda docs: None

    try:
        cfg = load_config({"pipeline": ["test_broken.v1"]})
        with pytest.raises(PipelineError, match="test_broken.v1 did not assign toxicity"):
            Pipeline(cfg).run(discourse.load_threads(DEBATE)[0])
    finally:
        STAGES.unregister("test_broken.v1")
    assert "test_broken.v1" not in STAGES


def test_annotations_reject_unknown_keys_and_wrong_types() -> None:
    ann = Annotations()
    with pytest.raises(PipelineError):
        ann.set("c1", "sentiment", 0.5)
    with pytest.raises(PipelineError):
        ann.set("c1", "toxicity", 0.5)
    ann.set("c1", "toxicity", ToxicityResult(0.1, {"toxic": 0.1}, "m"))
    assert ann.get("c1", "toxicity").score == 0.1


# -- reply graph and GraphML ----------------------------------------------------------------------
def test_reply_graph_is_a_tree_under_the_article(analysis: discourse.Analysis) -> None:
    g = to_digraph(analysis)
    n = len(analysis.thread.comments)
    assert g.number_of_nodes() == n + 1 and g.number_of_edges() == n
    assert g.in_degree(ROOT_ID) == 0
    assert all(g.in_degree(c.id) == 1 for c in analysis.thread.comments)
    assert nx.is_arborescence(g)
    assert all(0.0 <= d["confidence"] <= 1.0 for _, _, d in g.edges(data=True))


def test_graphml_round_trip_keeps_links_and_text(analysis: discourse.Analysis, tmp_path: Path) -> None:
    path = tmp_path / "g.graphml"
    path.write_bytes(graphml_bytes(analysis))
    g = nx.read_graphml(path)
    assert from_digraph(g) == {c.id: c.parent_id for c in analysis.thread.comments}
    last = analysis.thread.comments[-1]
    assert g.nodes[last.id]["text"] == last.text
    assert g.nodes[last.id]["toxicity_model"] == "tox-block-0.1.2"


# -- the HTML report ------------------------------------------------------------------------------
def test_report_escapes_comment_text(analysis: discourse.Analysis) -> None:
    html = render_report(analysis)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert not re.search(r"<[^>]*\sonerror\s*=", html)
    assert "script-src 'none'" in html or "default-src 'none'" in html  # CSP as second fence


def test_report_citations_link_to_comments_that_exist(analysis: discourse.Analysis) -> None:
    html = render_report(analysis)
    targets = set(re.findall(r'href="#(c-[^"]+)"', html))
    anchors = set(re.findall(r'id="(c-[^"]+)"', html))
    assert targets and targets <= anchors
    for s in analysis.chains[0].summary:
        for cid in s.citations:
            assert anchor(cid) in targets


def test_outputs_written(analysis: discourse.Analysis, tmp_path: Path) -> None:
    written = write_outputs(analysis, tmp_path / "out")
    assert set(written) == {"analysis.json", "graph.graphml", "report.html", "comments.csv"}
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.json"
    atomic_write_text(target, "old")

    def boom(*a: object, **k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


# -- inputs through the API -----------------------------------------------------------------------
def test_analyze_rejects_empty_and_sectionless_input(tiny_config: dict) -> None:
    with pytest.raises(InputError):
        discourse.analyze("   \n", config=tiny_config)
    with pytest.raises(InputError, match="no comment section"):
        discourse.analyze("A title\n\nOnly an article paragraph.\n", config=tiny_config)


def test_structured_input_keeps_its_links(tiny_config: dict) -> None:
    rows = "\n".join(
        [
            '{"id": "a", "parent_id": null, "author": "Ann", "text": "Public money should not pay."}',
            '{"id": "b", "parent_id": "a", "author": "Bob", "text": "I disagree, jobs matter."}',
            '{"id": "c", "parent_id": "b", "author": "Ann", "text": "Thank you Bob, I still disagree."}',
        ]
    )
    a = discourse.analyze(rows.encode(), config=tiny_config)
    assert [(c.id, c.parent_id, c.parent_confidence) for c in a.thread.comments] == [
        ("a", None, 1.0),
        ("b", "a", 1.0),
        ("c", "b", 1.0),
    ]
    assert a.to_json()["thread"]["structure_inferred"] is False
    assert len(a.chains) == 1


def test_a_user_model_spec_replaces_the_default_one() -> None:
    cfg = load_config({"stages": {"toxicity.v1": {"model": {"hf_model": "/models/mine"}}}})
    assert cfg.to_dict()["stages"]["toxicity.v1"]["model"] == {"hf_model": "/models/mine"}
    assert cfg.stage("toxicity.v1").explain_above == load_config().stage("toxicity.v1").explain_above


def test_a_huge_comment_is_kept_whole_with_a_warning(tiny_config: dict) -> None:
    big = "I disagree with you about the stadium money. " * 60_000  # 2.7 MB, thousands of cue matches
    text = f"Title\n\nAn article.\n\n\nAnn Lee\n\nHello there.\n\nBob Ray\n\n{big.strip()}\n"
    a = discourse.analyze(text, config=tiny_config)
    assert a.thread.comments[1].text == big.strip()
    assert any("c2 is long" in w and "text kept whole" in w for w in a.to_json()["warnings"])
    assert a.stance("c2").label == "disagree"  # type: ignore[union-attr]


def test_comments_csv_round_trips_every_comment(analysis: discourse.Analysis) -> None:
    import csv
    import io

    from discourse.report.writers import comments_csv

    rows = list(csv.DictReader(io.StringIO(comments_csv(analysis))))
    assert [r["id"] for r in rows] == [c.id for c in analysis.thread.comments]
    for r, c in zip(rows, analysis.thread.comments, strict=True):
        assert r["text"] == c.text and r["parent_id"] == (c.parent_id or "")
        assert r["stance"] == analysis.stance(c.id).label  # type: ignore[union-attr]
        assert float(r["tox_insult"]) == pytest.approx(analysis.toxicity(c.id).labels["insult"], abs=1e-6)  # type: ignore[union-attr]


def test_threads_encoded_together_match_threads_encoded_alone(tiny_config: dict) -> None:
    from discourse.api import analyze_thread, analyze_threads

    threads = [
        discourse.load_threads(DEBATE)[0],
        discourse.load_threads(DEBATE.replace("stadium", "bridge").replace("Town", "City"), name="b")[0],
    ]
    pipe = Pipeline(load_config(tiny_config))
    together = list(analyze_threads(threads, pipe))
    alone = [analyze_thread(t, pipe) for t in threads]
    for a, b in zip(together, alone, strict=True):
        assert [(c.id, c.parent_id, c.author) for c in a.thread.comments] == [
            (c.id, c.parent_id, c.author) for c in b.thread.comments
        ]
        for c in a.thread.comments:
            assert a.stance(c.id).label == b.stance(c.id).label  # type: ignore[union-attr]
            assert a.stance(c.id).scores["agree"] == pytest.approx(b.stance(c.id).scores["agree"], abs=1e-4)  # type: ignore[union-attr]
            assert a.toxicity(c.id).score == pytest.approx(b.toxicity(c.id).score, abs=1e-6)  # type: ignore[union-attr]
        assert a.timings["encode.v1"] > 0 and a.timings["total"] >= a.timings["encode.v1"]


def test_missing_comments_and_lone_surrogates_from_python(tiny_config: dict) -> None:
    stub = {"parent_id": "c1", "count": 7, "ids": ("x1", "x2"), "kind": "more", "stub_id": "m1"}
    thread = discourse.Thread(
        id="t",
        title="T",
        comments=(
            discourse.Comment("c1", "I cut an emoji \ud83d here", author="Ann"),
            discourse.Comment("c2", "you did \udc00", author="Bob", parent_id="c1"),
        ),
        meta={"missing": (stub,)},
    )
    data = discourse.analyze(thread, config=tiny_config).to_json()
    assert data["thread"]["missing"] == [{**stub, "ids": ["x1", "x2"]}]
    assert [c["text"] for c in data["comments"]] == [c.text for c in thread.comments]  # verbatim
    assert all(c["toxicity"] and c["stance"] for c in data["comments"])

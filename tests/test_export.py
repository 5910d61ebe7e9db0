"""discourse export: Parquet and JSONL carry every comment as analysis.json has it (Parquet with
comments.csv's columns), GEXF the reply graph, and the ConvoKit corpus comes back through our own
reader, and through ``discourse analyze``, with nothing lost."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml
from click.testing import CliRunner

from discourse.api import load_threads
from discourse.batch import run_batch
from discourse.cli import main
from discourse.core.config import load_config
from discourse.exports.run import export
from discourse.formats.convokit import read_corpus
from discourse.report.writers import spreadsheet_safe

ROWS = [  # two threads in one file whose comment ids collide: the corpus must prefix them
    {"thread_id": "t1", "title": "Café ☕ debate", "id": "1", "author": "Ann", "created": "2024-05-01T10:00:00+00:00",
     "text": "=SUM(A1) first line\r\nsecond line 😀"},
    {"thread_id": "t1", "title": "Café ☕ debate", "id": "2", "parent_id": "1", "created": 1714557600,
     "text": "\u202enimda <b>bold</b> & more"},
    {"thread_id": "t1", "title": "Café ☕ debate", "id": "3", "parent_id": "2", "author": "Bob",
     "text": "  leading spaces\tand a tab  "},
    {"thread_id": "t1", "title": "Café ☕ debate", "id": "4", "parent_id": "3", "author": "Ann",
     "text": "You are an idiot and I hate you."},
    {"thread_id": "t2", "title": "Second", "id": "1", "author": "Zed", "text": "-1 is negative"},
    {"thread_id": "t2", "title": "Second", "id": "2", "parent_id": "1", "author": "Ann", "text": "+1 from me, Zed"},
]  # fmt: skip
FIELDS = ("id", "author", "author_inferred", "parent_id", "parent_confidence", "parent_evidence", "created", "text")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, tiny_config: dict) -> Path:
    root = tmp_path_factory.mktemp("export")
    src = root / "in"
    src.mkdir()
    (src / "two.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    res = run_batch([src], root / "out", load_config(tiny_config))
    assert len(res.entries) == 2 and not res.failed
    return root / "out"


def _analyses(out: Path) -> dict[str, dict[str, Any]]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*/analysis.json"))}


def _folder(out: Path, thread_id: str) -> Path:
    return next(p.parent for p in out.glob("*/analysis.json") if json.loads(p.read_text())["thread"]["id"] == thread_id)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return spreadsheet_safe("; ".join(value))
    return spreadsheet_safe(value) if isinstance(value, str) else str(value)


def test_parquet_of_one_thread_has_its_csv_columns_and_values_unneutralised(out: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    folder = _folder(out, "t1")
    res = export(folder, "parquet", tmp_path / "t1.parquet")
    table = pq.read_table(res.path)
    with (folder / "comments.csv").open(encoding="utf-8", newline="") as fh:
        head, *rows = list(csv.reader(fh))
    assert table.column_names == head
    assert table.num_rows == len(rows) == res.comments == 4
    for row, record in zip(rows, table.to_pylist(), strict=True):
        assert row == [_csv_cell(record[c]) for c in head]
    texts = table.column("text").to_pylist()
    assert texts[0] == ROWS[0]["text"]  # verbatim: no leading ' in Parquet
    assert str(table.schema.field("parent_evidence").type) == "list<element: string>"
    assert table.column("author").to_pylist()[1] is None


def test_parquet_and_jsonl_of_an_output_folder_hold_every_comment(out: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    analyses = _analyses(out)
    table = pq.read_table(export(out, "parquet", tmp_path / "all.parquet").path)
    assert table.num_rows == 6 and sorted(set(table.column("thread_id").to_pylist())) == ["t1", "t2"]

    res = export(out, "jsonl", tmp_path / "all.jsonl")
    lines = res.path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 7
    rows = [json.loads(line) for line in lines[:-1]]
    for folder, data in analyses.items():
        mine = [r for r in rows if r["thread_folder"] == folder]
        assert [{k: r[k] for k in data["comments"][0]} for r in mine] == data["comments"]
        flagged = {a["comment_id"] for a in data["attention"] if a["priority"] >= 0.5}
        assert {r["id"] for r in mine if r["flagged"]} == flagged
        assert all(
            r["thread_id"] == data["thread"]["id"] and r["thread_title"] == data["thread"]["title"] for r in mine
        )
    assert any(r["flagged"] for r in rows)  # the insult


def test_gexf_is_the_reply_graph_with_verbatim_text(out: Path, tmp_path: Path) -> None:
    analyses = _analyses(out)
    g = nx.read_gexf(export(out, "gexf", tmp_path / "g.gexf").path)
    assert g.number_of_nodes() == 6 + 2 and g.number_of_edges() == 6
    for folder, data in analyses.items():
        assert g.nodes[f"{folder}/root"]["kind"] == "article"
        for c in data["comments"]:
            node = g.nodes[f"{folder}/{c['id']}"]
            assert node["text"] == c["text"] and node["author"] == (c["author"] or "")
            assert node["toxicity"] == pytest.approx(c["toxicity"]["score"])
            parent = f"{folder}/{c['parent_id'] or 'root'}"
            assert g.has_edge(parent, f"{folder}/{c['id']}")
    one = nx.read_gexf(export(_folder(out, "t2"), "gexf", tmp_path / "one.gexf").path)
    assert set(one.nodes) == {"root", "1", "2"}  # one thread: graph.graphml's ids


def _same_thread(thread: Any, data: dict[str, Any]) -> None:
    assert (thread.id, thread.title, thread.article) == (
        data["thread"]["id"],
        data["thread"]["title"],
        data["thread"]["article"],
    )
    got = [
        {
            "id": c.id,
            "author": c.author,
            "author_inferred": c.author_inferred,
            "parent_id": c.parent_id,
            "parent_confidence": c.parent_confidence,
            "parent_evidence": list(c.parent_evidence),
            "created": c.created,
            "text": c.text,
        }
        for c in thread.comments
    ]
    assert got == [{k: c[k] for k in FIELDS} for c in data["comments"]]


def test_convokit_corpus_reads_back_with_nothing_lost(out: Path, tmp_path: Path) -> None:
    analyses = {d["thread"]["id"]: d for d in _analyses(out).values()}
    corpus = export(out, "convokit", tmp_path / "corpus").path
    for threads in (read_corpus(corpus), load_threads(corpus / "utterances.jsonl")):
        assert [t.id for t in threads] == sorted(analyses) and all(t.source_format == "convokit" for t in threads)
        for t in threads:
            _same_thread(t, analyses[t.id])
            assert not t.warnings


def test_convokit_files_follow_convokits_layout(out: Path, tmp_path: Path) -> None:
    corpus = export(out, "convokit", tmp_path / "corpus").path
    assert sorted(p.name for p in corpus.iterdir()) == [
        "conversations.json",
        "corpus.json",
        "index.json",
        "speakers.json",
        "utterances.jsonl",
    ]
    utts = [json.loads(line) for line in (corpus / "utterances.jsonl").read_text().splitlines()]
    assert all(
        list(u) == ["id", "conversation_id", "text", "speaker", "meta", "reply-to", "timestamp", "vectors"]
        for u in utts
    )
    assert len({u["id"] for u in utts}) == len(utts) == 6 + 2  # unique across the corpus, an article each
    convs = json.loads((corpus / "conversations.json").read_text())
    roots = [u for u in utts if u["reply-to"] is None]
    assert sorted(u["id"] for u in roots) == sorted(convs) == sorted({u["conversation_id"] for u in utts})
    ids = {u["id"] for u in utts}
    assert all(u["reply-to"] in ids for u in utts if u["reply-to"] is not None)
    speakers = json.loads((corpus / "speakers.json").read_text())
    assert {u["speaker"] for u in utts} == set(speakers) and "[unknown]" in speakers
    assert all(set(v) == {"meta", "vectors"} for v in [*speakers.values(), *convs.values()])
    index = json.loads((corpus / "index.json").read_text())
    assert set(index) == {
        "utterances-index",
        "speakers-index",
        "conversations-index",
        "overall-index",
        "version",
        "vectors",
    }
    assert index["utterances-index"]["toxicity"] == ["<class 'float'>"]
    insult = next(u for u in utts if u["text"].startswith("You are an idiot"))
    assert (
        insult["meta"]["flagged"] is True and insult["meta"]["toxicity"] > 0.9 and insult["meta"]["discourse_id"] == "4"
    )
    first = next(u for u in utts if u["meta"].get("discourse_id") == "1" and u["speaker"] == "Ann")
    assert first["timestamp"] == 1714557600 and first["meta"]["created"] == "2024-05-01T10:00:00+00:00"


def test_analyze_reads_an_exported_corpus_folder_as_one_input(out: Path, tmp_path: Path, tiny_config: dict) -> None:
    analyses = {d["thread"]["id"]: d for d in _analyses(out).values()}
    corpus = export(out, "convokit", tmp_path / "corpus").path
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    again = tmp_path / "again"
    res = CliRunner().invoke(main, ["analyze", str(corpus), "--out", str(again), "--config", str(config), "-q"])
    assert res.exit_code == 0, res.output
    assert "1 analysed, 0 unchanged, 0 failed" in res.output  # one input: not five files, four of them failing
    redone = _analyses(again)
    assert len(redone) == 2
    for data in redone.values():
        before = analyses[data["thread"]["id"]]
        assert data["thread"]["source_format"] == "convokit"
        for key in ("id", "author", "parent_id", "created", "text"):
            assert [c[key] for c in data["comments"]] == [c[key] for c in before["comments"]]


def test_export_errors_are_one_line(out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    runner = CliRunner()
    res = runner.invoke(main, ["export", str(empty), "--to", "jsonl"])
    assert res.exit_code == 2 and res.output.startswith("error: no analysed threads in") and res.output.count("\n") == 1
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    res = runner.invoke(main, ["export", str(out), "--to", "convokit", "--out", str(busy)])
    assert res.exit_code == 6 and "not a ConvoKit corpus" in res.output and (busy / "notes.txt").exists()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    res = runner.invoke(main, ["export", str(out), "--to", "parquet", "--out", str(tmp_path / "x.parquet")])
    assert res.exit_code == 6 and "pip install 'discourse[parquet]'" in res.output
    assert not (tmp_path / "x.parquet").exists()


def test_cli_export_writes_the_default_path_and_says_so(out: Path) -> None:
    res = CliRunner().invoke(main, ["export", str(out), "--to", "jsonl"])
    assert res.exit_code == 0, res.output
    assert res.output == f"6 comments in 2 threads -> {out / 'comments.jsonl'}\n"
    assert (out / "comments.jsonl").is_file()


def test_gexf_reads_back_as_the_graph_networkx_itself_would_write(out: Path, tmp_path: Path) -> None:
    """Our streamed GEXF against networkx's own writer, for the graph the docs describe."""
    expected = nx.DiGraph()
    for folder, data in _analyses(out).items():
        flagged = {a["comment_id"] for a in data["attention"] if a["priority"] >= 0.5}
        tid = data["thread"]["id"]
        expected.add_node(
            f"{folder}/root", label=data["thread"]["title"], thread_id=tid, comment_id="", kind="article",
            text=data["thread"]["article"], author="", author_inferred=False, created="", toxicity_model="",
            stance="", flagged=False,
        )  # fmt: skip
        for c in data["comments"]:
            expected.add_node(
                f"{folder}/{c['id']}", label=c["id"], thread_id=tid, comment_id=c["id"], kind="comment",
                text=c["text"], author=c["author"] or "", author_inferred=c["author_inferred"],
                created=c["created"] or "", toxicity_model=c["toxicity"]["model"], stance=c["stance"]["label"],
                flagged=c["id"] in flagged, toxicity=c["toxicity"]["score"],
                stance_score=c["stance"]["scores"][c["stance"]["label"]],
            )  # fmt: skip
            parent = f"{folder}/{c['parent_id'] or 'root'}"
            expected.add_edge(
                parent,
                f"{folder}/{c['id']}",
                confidence=c["parent_confidence"],
                evidence=";".join(c["parent_evidence"]),
            )
    nx.write_gexf(expected, tmp_path / "nx.gexf")
    theirs = nx.read_gexf(tmp_path / "nx.gexf")
    ours = nx.read_gexf(export(out, "gexf", tmp_path / "ours.gexf").path)
    assert list(ours.nodes(data=True)) == list(theirs.nodes(data=True))
    assert list(ours.edges(data=True)) == list(theirs.edges(data=True))

"""ConvoKit corpora as an input format: a corpus in ConvoKit's own layout (as its Reddit corpora
are dumped) is read conversation by conversation; older field names are read too; detection
claims utterances.jsonl and leaves other JSONL alone; and any thread survives export -> read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discourse.api import load_threads
from discourse.core.errors import InputError
from discourse.exports.convokit import corpus_files
from discourse.exports.source import AnalysedThread
from discourse.formats.convokit import corpus_inputs, parse_convokit, read_corpus
from discourse.formats.detect import detect_format


def _utt(uid: str, conv: str, speaker: str, reply: str | None, ts: int | None, text: str) -> dict[str, Any]:
    return {
        "id": uid,
        "conversation_id": conv,
        "text": text,
        "speaker": speaker,
        "meta": {"score": 3, "top_level_comment": None},
        "reply-to": reply,
        "timestamp": ts,
        "vectors": [],
    }


UTTERANCES = [  # a Reddit-style corpus: each conversation rooted at its post
    _utt("p1", "p1", "alice", None, 1500000000, "Should the town build a stadium?"),
    _utt("c1", "p1", "bob", "p1", 1500000060, "No.\nPublic money should not pay for it."),
    _utt("c2", "p1", "alice", "c1", 1500000120, "Why not?"),
    _utt("p2", "p2", "carol", None, 1500000300, "Bike lanes on Main Street"),
    _utt("c3", "p1", "[deleted]", "p1", None, "[removed]"),
    _utt("c4", "p2", "dan", "p2", 1500000360, "Yes please"),
]


def _corpus(folder: Path, rows: list[dict[str, Any]] = UTTERANCES) -> Path:
    folder.mkdir()
    (folder / "utterances.jsonl").write_text("".join(json.dumps(u) + "\n" for u in rows), encoding="utf-8")
    speakers = {u["speaker"]: {"meta": {}, "vectors": []} for u in rows}
    (folder / "speakers.json").write_text(json.dumps(speakers), encoding="utf-8")
    convs = {
        "p1": {"meta": {"title": "Stadium?", "subreddit": "town"}, "vectors": []},
        "p2": {"meta": {}, "vectors": []},
    }
    (folder / "conversations.json").write_text(json.dumps(convs), encoding="utf-8")
    (folder / "corpus.json").write_text(json.dumps({"subreddit": "town"}), encoding="utf-8")
    index = {
        "utterances-index": {"score": ["<class 'int'>"]},
        "speakers-index": {},
        "conversations-index": {"title": ["<class 'str'>"]},
        "overall-index": {"subreddit": ["<class 'str'>"]},
        "version": 1,
        "vectors": [],
    }
    (folder / "index.json").write_text(json.dumps(index), encoding="utf-8")
    return folder


def test_a_convokit_corpus_is_read_conversation_by_conversation(tmp_path: Path) -> None:
    threads = read_corpus(_corpus(tmp_path / "corpus"))
    assert [(t.id, t.title, t.source_format) for t in threads] == [
        ("p1", "Stadium?", "convokit"),
        ("p2", "p2", "convokit"),
    ]
    p1 = threads[0]
    assert [(c.id, c.author, c.parent_id) for c in p1.comments] == [
        ("p1", "alice", None),
        ("c1", "bob", "p1"),
        ("c2", "alice", "c1"),
        ("c3", "[deleted]", "p1"),
    ]
    assert p1.comments[1].text == "No.\nPublic money should not pay for it."
    assert p1.comments[1].created == "2017-07-14T02:41:00+00:00" and p1.comments[3].created is None
    assert p1.validate() == [] and not p1.warnings and p1.structure_known
    assert p1.comments[1].meta["score"] == 3 and p1.meta["subreddit"] == "town"  # shown in the report


def test_utterances_jsonl_is_detected_and_other_jsonl_is_not(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    text = (corpus / "utterances.jsonl").read_text(encoding="utf-8")
    assert detect_format(text, "utterances.jsonl") == "convokit"
    assert detect_format(text, "reddit-small.jsonl") == "convokit"  # reply-to: ConvoKit's own dump
    assert [t.id for t in load_threads(corpus / "utterances.jsonl")] == ["p1", "p2"]
    rows = "".join(json.dumps({"id": f"{k}", "author": "a", "text": "hi", "parent_id": None}) + "\n" for k in range(3))
    assert detect_format(rows, "comments.jsonl") == "jsonl"


def test_older_field_names_are_read(tmp_path: Path) -> None:
    old = [
        {"id": "u1", "user": "ann", "root": "u1", "reply_to": None, "timestamp": None, "text": "Hello", "meta": {}},
        {"id": "u2", "user": "ben", "root": "u1", "reply_to": "u1", "timestamp": None, "text": "Hi Ann", "meta": {}},
    ]
    text = "".join(json.dumps(u) + "\n" for u in old)
    assert detect_format(text, "utterances.jsonl") == "convokit"
    (t,) = parse_convokit(text, "old")
    assert [(c.id, c.author, c.parent_id) for c in t.comments] == [("u1", "ann", None), ("u2", "ben", "u1")]


def test_broken_lines_and_missing_parents_are_warnings_and_nothing_is_an_error() -> None:
    rows = [_utt("a", "a", "x", None, None, "root"), _utt("b", "a", "y", "zz", None, "orphan")]
    text = json.dumps(rows[0]) + "\n{not json\n" + json.dumps({"id": "q"}) + "\n" + json.dumps(rows[1]) + "\n"
    (t,) = parse_convokit(text, "u")
    assert [(c.id, c.parent_id) for c in t.comments] == [("a", None), ("b", None)]
    assert any("2 line(s) are not ConvoKit utterances" in w and "lines 2, 3" in w for w in t.warnings)
    assert any("zz" in w for w in t.warnings)
    with pytest.raises(InputError, match="no ConvoKit utterance"):
        parse_convokit('{"id": 1}\n', "u")


def test_corpus_inputs_turns_a_corpus_folder_into_its_utterances_file(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "utterances.jsonl").write_text("", encoding="utf-8")  # no companion file: an ordinary folder
    assert corpus_inputs([str(corpus), str(plain), "x.txt"]) == [str(corpus / "utterances.jsonl"), str(plain), "x.txt"]


# -- any thread survives export -> read ------------------------------------------------------------
_ids = st.text(alphabet="abc1_/", min_size=1, max_size=3)


@st.composite
def _analysis(draw: st.DrawFn, thread_id: str) -> dict[str, Any]:
    ids = draw(st.lists(_ids, min_size=1, max_size=8, unique=True))
    comments = []
    for k, cid in enumerate(ids):
        comments.append(
            {
                "id": cid,
                "author": draw(st.one_of(st.none(), st.text(max_size=8))),
                "author_inferred": draw(st.booleans()),
                "author_evidence": draw(st.one_of(st.none(), st.text(max_size=8))),
                "parent_id": draw(st.one_of(st.none(), st.sampled_from(ids[:k]))) if k else None,
                "parent_confidence": draw(st.floats(0, 1)),
                "parent_evidence": draw(st.lists(st.text(max_size=6), max_size=2)),
                "created": draw(
                    st.one_of(st.none(), st.sampled_from(["2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00"]))
                ),
                "text": draw(st.text(max_size=30)),
            }
        )
    thread = {"id": thread_id, "title": draw(st.text(max_size=10)), "article": draw(st.text(max_size=10))}
    return {"schema_version": "1.1", "thread": thread, "comments": comments}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 3))
def test_export_then_read_loses_nothing(data: st.DataObject, n: int) -> None:
    thread_ids = data.draw(st.lists(_ids, min_size=n, max_size=n, unique=True))
    analyses = [data.draw(_analysis(tid)) for tid in thread_ids]
    threads = [AnalysedThread(Path(f"/x/folder-{k}"), a, {}) for k, a in enumerate(analyses)]
    back = parse_convokit(corpus_files(threads)["utterances.jsonl"], "round")
    assert len(back) == len(analyses)
    for t, a in zip(back, analyses, strict=True):
        assert (t.id, t.title, t.article) == (a["thread"]["id"], a["thread"]["title"], a["thread"]["article"])
        assert not t.warnings
        got = [
            {
                "id": c.id,
                "author": c.author,
                "author_inferred": c.author_inferred,
                "author_evidence": c.meta.get("author_evidence"),
                "parent_id": c.parent_id,
                "parent_confidence": c.parent_confidence,
                "parent_evidence": list(c.parent_evidence),
                "created": c.created,
                "text": c.text,
            }
            for c in t.comments
        ]
        assert got == a["comments"]


def test_a_corpus_inside_an_input_folder_is_one_input(tmp_path: Path) -> None:
    from discourse.batch import expand_inputs

    (tmp_path / "in" / "reddit").mkdir(parents=True)
    corpus = _corpus(tmp_path / "in" / "reddit" / "corpus")
    plain = tmp_path / "in" / "other.jsonl"
    plain.write_text(json.dumps({"id": "1", "text": "hi"}) + "\n", encoding="utf-8")
    found = expand_inputs([tmp_path / "in"])
    assert sorted(found) == sorted([corpus / "utterances.jsonl", plain])  # not its speakers/conversations/index

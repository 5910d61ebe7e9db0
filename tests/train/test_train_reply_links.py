"""Fitting the reply-link weights (discourse.train.reply_links) on threads built here."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from discourse.core.thread import Comment, Thread
from discourse.stages.reply_graph.links import LINK_FEATURES, Candidates, ReplyWeights
from discourse.testing import build_tiny_encoder
from discourse.train import reply_links
from discourse.train.reply_links import (
    CachedEmbedder,
    cross_validate,
    fit,
    greedy_accuracy,
    model_meta,
    prepare,
    report_markdown,
    split_by_thread,
    wikiconv_threads,
)
from discourse.train.structure_eval import match_key

WORDS = "the town vote stadium money jobs public private think parking debt bike lanes data".split()
NAMES = ["Ann Lee", "Bob Ray", "Cy Dunn", "Dee Park"]


def chatty_thread(tid: str, n: int, seed: int) -> Thread:
    """Replies mostly answer the comment just before and often name its author."""
    rng = random.Random(seed)
    comments: list[Comment] = []
    for k in range(n):
        parent = None if k == 0 or rng.random() < 0.2 else comments[k - 1].id
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))).capitalize() + "."
        if parent and rng.random() < 0.6:
            text = f"{comments[k - 1].author.split()[0]}, {text}"  # type: ignore[union-attr]
        comments.append(Comment(id=f"{tid}c{k}", text=text, author=rng.choice(NAMES), parent_id=parent))
    return Thread(id=tid, title=f"Thread {tid}", comments=tuple(comments), article="The town votes on the stadium.")


def known() -> dict[str, list[Thread]]:
    return {
        "rumoureval": [chatty_thread(f"r{i}", 8, i) for i in range(4)],
        "wikiconv": [chatty_thread(f"w{i}", 6, 100 + i) for i in range(4)],
        "reddit-nfl": [chatty_thread("nfl", 10, 999)],
    }


def test_wikiconv_conversations_become_threads(tmp_path: Path) -> None:
    conv = {
        "h": {"id": "h", "comment_type": "SECTION_CREATION", "content": "== Sources ==", "timestamp": "1"},
        "a": {
            "id": "a",
            "comment_type": "COMMENT_ADDING",
            "content": "First.",
            "user_text": "Ann",
            "parent_id": "h",
            "timestamp": "2",
        },
        "b": {
            "id": "b",
            "comment_type": "COMMENT_ADDING",
            "content": "Reply.",
            "user_text": "Bob",
            "parent_id": "a",
            "timestamp": "3",
        },
        "m": {
            "id": "m",
            "comment_type": "COMMENT_MODIFICATION",
            "content": "Edit.",
            "parent_id": "a",
            "timestamp": "4",
        },
        "x": {"id": "x", "comment_type": "COMMENT_ADDING", "content": "Orphan.", "parent_id": "gone", "timestamp": "5"},
        "c": {"id": "c", "comment_type": "COMMENT_ADDING", "content": "  ", "parent_id": "a", "timestamp": "6"},
        "d": {"id": "d", "comment_type": "COMMENT_ADDING", "content": "Top.", "user_text": "Cy", "timestamp": "7"},
    }
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([conv, {"y": conv["d"]}]), encoding="utf-8")
    threads = wikiconv_threads(path, min_comments=2)
    assert len(threads) == 1  # the second conversation has one comment
    t = threads[0]
    assert t.title == "Sources" and t.id == "wikiconv-0"
    assert [(c.id, c.parent_id, c.author) for c in t.comments] == [
        ("a", None, "Ann"),
        ("b", "a", "Bob"),
        ("d", None, "Cy"),
    ]


def test_prepare_aligns_parsed_comments_with_their_true_parents() -> None:
    thread = chatty_thread("t", 7, 3)
    prepared = prepare(thread, None)
    assert prepared is not None
    cands, parents = prepared
    assert isinstance(cands, Candidates) and len(parents) == 7
    index = {c.id: k for k, c in enumerate(thread.comments)}
    assert parents == [None if c.parent_id is None else index[c.parent_id] for c in thread.comments]
    options, f = cands.features(3, parents[:3])
    assert options[0] is None and f.shape == (len(options), len(LINK_FEATURES))


def test_prepare_refuses_a_thread_the_flat_parse_cannot_give_back() -> None:
    # a comment holding an author-like line and blank lines splits into two when parsed back
    bad = Comment(id="b", text="First part.\n\n\nCy Dunn\n\nSecond part.", author="Bob Ray", parent_id="a")
    thread = Thread(id="t", title="T", comments=(Comment(id="a", text="Hello.", author="Ann Lee"), bad))
    assert prepare(thread, None) is None
    assert match_key("line  \nnext\r\n") == "line\nnext"


def test_greedy_accuracy_and_fit_on_threads_that_answer_the_previous_comment() -> None:
    train = [p for p in (prepare(chatty_thread(f"t{i}", 8, i), None) for i in range(6)) if p]
    assert len(train) == 6
    everything_top = ReplyWeights(**{**{k: 0.0 for k in LINK_FEATURES}, "root": 1.5})
    start = greedy_accuracy(everything_top.vector(), train)
    top_level = np.mean([p is None for _, parents in train for p in parents])
    assert start == pytest.approx(top_level)  # every comment answers the article
    weights, score = fit([train], everything_top, rounds=2)
    assert score > start + 0.3
    assert score == pytest.approx(greedy_accuracy(weights.vector(), train))
    assert greedy_accuracy(weights.vector(), []) != greedy_accuracy(weights.vector(), [])  # nan: nothing to score


def test_split_by_thread_partitions_the_threads() -> None:
    items = list(range(7))
    folds = split_by_thread(items, 3, seed=0)  # type: ignore[arg-type]
    assert sorted(x for f in folds for x in f) == items and len(folds) == 3
    assert folds == split_by_thread(items, 3, seed=0)  # type: ignore[arg-type]


def test_cross_validation_scores_each_fitting_set_on_held_out_threads() -> None:
    prepared = {name: [p for p in (prepare(t, None) for t in ts) if p] for name, ts in known().items()}
    cv = cross_validate(prepared, ReplyWeights(), folds=2)
    assert set(cv) == {"rumoureval", "wikiconv"} and all(len(v) == 2 for v in cv.values())
    assert all(0.0 <= x <= 1.0 for v in cv.values() for x in v)


def test_cached_embedder_encodes_each_text_once(tmp_path: Path) -> None:
    seen: list[str] = []

    class Fake:
        def encode(self, texts: list[str]) -> SimpleNamespace:
            seen.extend(texts)
            return SimpleNamespace(vectors=np.array([[len(t), 1.0] for t in texts], dtype=np.float32))

    cache = tmp_path / "emb.npz"
    embed = CachedEmbedder(cache, encoder=Fake())
    first = embed(["aa", "b", "aa"])
    assert sorted(seen) == ["aa", "b"] and first.shape == (3, 2)
    embed.save()
    again = CachedEmbedder(cache, encoder=Fake())(["b", "aa"])
    assert sorted(seen) == ["aa", "b"]  # read back from the cache
    np.testing.assert_array_equal(again, first[[1, 0]])


def test_report_and_model_meta() -> None:
    row = {"dataset": "reddit-nfl", "authors_dropped": 0.25, "weights": "fitted", "comments": 10}
    row.update({c: 0.5 for c in reply_links.REPORT_COLUMNS})
    text = report_markdown({"rumoureval": [0.5, 0.7], "wikiconv": [0.9, 0.9]}, [row])
    assert "rumoureval 0.600, wikiconv 0.900" in text
    assert "| reddit-nfl | 25% | fitted | 10 | " + " | ".join(["0.500"] * 9) + " |" in text
    results = {
        "weights": {k: 1.0 for k in LINK_FEATURES},
        "aligned_threads": {"rumoureval": 3, "wikiconv": 4, "reddit-nfl": 1},
        "cv_parent_accuracy": {"rumoureval": 0.6},
    }
    meta = model_meta(results, 0.81234, "enc")
    assert meta["fitted_on"] == {"rumoureval": 3, "wikiconv": 4}  # never the test thread
    assert meta["train_parent_accuracy"] == 0.8123 and meta["kind"] == "reply_links"


def test_main_fits_reports_and_registers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply_links, "load_known", lambda shared: known())
    encoder = build_tiny_encoder(tmp_path / "encoder")
    models = tmp_path / "models"
    argv = ["--cache", str(tmp_path / "c.npz"), "--encoder", str(encoder), "--reports", str(tmp_path / "r")]
    assert reply_links.main([*argv, "--models", str(models)]) == 0
    results = json.loads((tmp_path / "r" / "reply_graph.json").read_text(encoding="utf-8"))
    assert results["threads"] == {"rumoureval": 4, "wikiconv": 4, "reddit-nfl": 1}
    assert len(results["evaluations"]) == 3 * 2 * 2  # sets x author drop x fitted/prior
    meta = json.loads((models / "reply-links-v1" / "model.json").read_text(encoding="utf-8"))
    assert meta["weights"] == results["weights"] and meta["encoder"] == str(encoder)
    registry = json.loads((models / "registry.json").read_text(encoding="utf-8"))
    assert registry["models"]["reply-links-v1"]["kind"] == "reply_links"
    assert (tmp_path / "c.npz").is_file()
    # the runtime reads the fitted weights back
    from discourse.stages.reply_graph import load_reply_weights

    monkeypatch.setenv("DISCOURSE_MODELS_DIR", str(models))
    weights, _ = load_reply_weights("reply-links-v1")
    assert {k: getattr(weights, k) for k in LINK_FEATURES} == results["weights"]

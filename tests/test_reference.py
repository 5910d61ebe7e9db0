"""End to end on the reference thread with the real shipped models (slow: loads MiniLM)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import discourse
from discourse.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.shared]


@pytest.fixture(scope="module")
def ref(reference_thread: Path) -> discourse.Analysis:
    return discourse.analyze(reference_thread)


def test_fourteen_comments_whole_with_the_right_authors(ref: discourse.Analysis, reference_thread: Path) -> None:
    comments = ref.thread.comments
    assert len(comments) == 14
    authors = [c.author for c in comments]
    assert authors.count("Xoli Xoli") == 7
    assert authors.count("John") == 4
    assert {"Rafik Chauhan", "Lone Ranger"} <= set(authors)
    assert any(a and a.startswith("Willing Conscience") for a in authors)
    john = [c for c in comments if c.author == "John"]
    assert all(c.author_inferred for c in john)
    assert any("addressed as John" in c.meta["author_evidence"] for c in john)
    assert not any(c.author_inferred for c in comments if c.author != "John")
    raw = reference_thread.read_text(encoding="utf-8")
    for c in comments:  # every comment verbatim, paragraph breaks and all
        assert c.text in raw
    assert comments[-1].text.rstrip().endswith("HTS is going?")


def test_the_xoli_john_exchange(ref: discourse.Analysis) -> None:
    by = ref.thread.by_id()
    john = [c.id for c in ref.thread.comments if c.author == "John"]
    # John's first comment answers Xoli, and every later one answers a Xoli comment
    assert all(by[cid].parent_id and by[by[cid].parent_id].author == "Xoli Xoli" for cid in john)
    chains = [ch for ch in ref.chains if set(ch.participants) == {"Xoli Xoli", "John"}]
    assert len(chains) == 1
    ch = chains[0]
    assert len(ch.turns) >= 7
    ids = set(by)
    assert all(s.citations and set(s.citations) <= ids for s in ch.summary)
    assert ch.outcome in {"agree_to_disagree", "concession"}


def test_explicit_stance_cues(ref: discourse.Analysis) -> None:
    def stance_of(prefix: str) -> str:
        c = next(c for c in ref.thread.comments if c.text.startswith(prefix))
        st = ref.stance(c.id)
        assert st is not None
        return st.label

    assert stance_of("Hello Xoli. I am going to disagree") == "disagree"
    assert stance_of("Okay, thank you for your response. I still disagree") == "disagree"
    assert stance_of("Again, I disagree.") == "disagree"
    assert stance_of("Thank you your points are respected.") == "agree"


def test_civil_thread_flags_nothing_severe(ref: discourse.Analysis) -> None:
    for c in ref.thread.comments:
        tox = ref.toxicity(c.id)
        assert tox is not None and 0.0 <= tox.score <= 1.0
    polite = next(c for c in ref.thread.comments if c.text.startswith("Thank you your points"))
    score = ref.toxicity(polite.id).score  # type: ignore[union-attr]
    median = sorted(ref.toxicity(c.id).score for c in ref.thread.comments)[len(ref.thread.comments) // 2]  # type: ignore[union-attr]
    assert score < 0.1 and score <= median


def test_cli_writes_the_three_outputs(reference_thread: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["analyze", str(reference_thread), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    [folder] = [p.parent for p in tmp_path.glob("*/analysis.json")]
    assert folder.name.startswith(f"{reference_thread.stem}-")  # readable, then a hash of source and id
    assert str(folder / "report.html") in r.output  # the command says where the report is
    data = json.loads((folder / "analysis.json").read_text(encoding="utf-8"))
    assert len(data["comments"]) == 14 and data["chains"]
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "Xoli Xoli" in html and "John" in html and "Needs attention" in html
    assert 'class="tag code code-insult">INSULT<' in html and "aimed at the commenters" in html  # codes shown
    assert (folder / "graph.graphml").stat().st_size > 0
    assert (tmp_path / "index.html").exists()

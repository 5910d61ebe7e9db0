"""``target_stance.v1``: the sentences that name a target, and the stage over a tiny random
cross-encoder (the real one is trained by discourse.train.target_stance)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import discourse
from discourse.core.config import ConfigError, load_config
from discourse.core.thread import Comment, Thread
from discourse.stages.target_stance.mentions import MAX_SENTENCES, MentionFinder, fold
from discourse.testing import tiny_bert_classifier

LABELS = ["favor", "against", "none"]


@pytest.fixture(scope="module")
def tiny_target_model(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tiny_bert_classifier(tmp_path_factory.mktemp("target"), LABELS)
    return {"hf_model": str(folder), "labels": LABELS}


def test_mentions_are_whole_names_in_any_case_with_possessives_and_plain_letters() -> None:
    f = MentionFinder(["Putin", "Erdogan", "Recep Tayyip"])
    text = (
        "PUTIN's army did well. Putinism is a word. Erdoğan waited.\n"
        "> Putin is a genius, said someone.\n"
        "recep   tayyip spoke. Nothing here."
    )
    got = [(m.target, m.sentence) for m in f.mentions(text)]
    assert got == [
        ("Putin", "PUTIN's army did well."),
        ("Erdogan", "Erdoğan waited."),
        ("Recep Tayyip", "recep   tayyip spoke."),
    ]
    for m in f.mentions(text):
        assert text[m.start : m.end] == m.sentence  # offsets into the verbatim text
    assert MentionFinder(["Erdoğan"]).mentions("Erdogan lost.")[0].sentence == "Erdogan lost."
    glued = MentionFinder(["Putin"]).mentions("Peace is far away.Putin wants a deal.")  # scraped: no space
    assert [m.sentence for m in glued] == ["Putin wants a deal."]
    many = " ".join(f"Putin did thing {i}." for i in range(10))
    assert len(MentionFinder(["Putin"]).mentions(many)) == MAX_SENTENCES
    assert len(fold("İstanbul Straße ÆON")) == len("İstanbul Straße ÆON")


def _thread() -> Thread:
    return Thread(
        "t",
        "Syria",
        (
            Comment("c1", "Putin is a strong leader. He did well in Syria.", author="John"),
            Comment("c2", "Thank you John. With Putin in charge Syria is doom. Erdogan too.", "Xoli", "c1"),
            Comment("c3", "> Putin is a strong leader.\nI have no idea.", author="Ann", parent_id="c2"),
            Comment("c4", "Nice weather today.", author="Bo", parent_id="c1"),
        ),
    )


def test_the_stage_reads_each_named_target_in_one_pass(tiny_config: dict, tiny_target_model: dict) -> None:
    stages = dict(tiny_config["stages"])
    stages["target_stance.v1"] = {"targets": ["Putin", "Erdogan"], "model": tiny_target_model}
    cfg = load_config({**tiny_config, "stages": stages})
    assert "target_stance.v1" in cfg.pipeline
    pipe = discourse.Pipeline(cfg)
    a = next(iter(pipe.analyze([_thread()])))
    rows = {r["id"]: r["target_stance"] for r in a.to_json()["comments"]}
    assert [t["target"] for t in rows["c1"]] == ["Putin"]
    assert [t["target"] for t in rows["c2"]] == ["Putin", "Erdogan"]
    assert rows["c3"] == [] and rows["c4"] == []  # a quoted line is not the commenter's stance
    text = {c.id: c.text for c in _thread().comments}
    for cid, items in rows.items():
        for t in items:
            ev = t["evidence"]
            assert text[cid][ev["start"] : ev["end"]] == ev["sentence"] and t["target"] in ev["sentence"]
            assert t["label"] == max(t["scores"], key=t["scores"].get) and sum(t["scores"].values()) == pytest.approx(
                1, abs=1e-5
            )
            assert t["model"] == f"hf:{tiny_target_model['hf_model']}"
    models = {m["name"]: m for m in a.to_json()["models"]}
    assert models[f"hf:{tiny_target_model['hf_model']}"]["runtime"].startswith("torch-")
    calls: list[int] = []
    model = pipe.resources._cache[f"target_stance:{cfg.stage('target_stance.v1').model}"]
    real = model.predict_pairs
    model.predict_pairs = lambda pairs: calls.append(len(pairs)) or real(pairs)
    again = next(iter(pipe.analyze([_thread(), _thread()])))  # two threads: one batched pass over both
    assert calls == [3]  # c1's sentence, c2's two (identical pairs of the second thread scored once)
    assert {r["id"]: r["target_stance"] for r in again.to_json()["comments"]} == rows


def test_without_targets_nothing_is_loaded_and_every_list_is_empty(
    tiny_config: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discourse.stages import target_stance

    monkeypatch.setattr(target_stance, "_load", lambda *a, **k: pytest.fail("loaded a model for no target"))
    a = discourse.analyze(_thread(), tiny_config)
    assert all(r["target_stance"] == [] for r in a.to_json()["comments"])


def test_targets_are_checked_in_the_config() -> None:
    for bad in ([""], ["Putin", "putin "], ["!!"]):
        with pytest.raises(ConfigError, match="targets"):
            load_config({"stages": {"target_stance.v1": {"targets": bad}}})
    with pytest.raises(ConfigError, match="must hold"):
        load_config({"stages": {"target_stance.v1": {"claim": "We should support"}}})
    cfg = load_config({"stages": {"target_stance.v1": {"targets": ["Putin"], "claim": "{target} is right"}}})
    assert cfg.stage("target_stance.v1").claim_for("Putin") == "Putin is right"


def test_analyze_target_sets_the_targets_and_fails_in_one_line_without_the_stage(
    tiny_config: dict, tmp_path: Path
) -> None:
    """``discourse analyze --target Putin`` with the shipped map over the config's pair model."""
    import yaml
    from click.testing import CliRunner

    from discourse.cli import main

    stages = dict(tiny_config["stages"])
    stages["target_stance.v1"] = {
        "model": {"hf_model": str(tiny_bert_classifier(tmp_path / "m", LABELS)), "labels": LABELS}
    }
    conf = tmp_path / "c.yaml"
    conf.write_text(yaml.safe_dump({**tiny_config, "stages": stages}), encoding="utf-8")
    src = tmp_path / "t.jsonl"
    rows = [{"id": c.id, "parent_id": c.parent_id, "author": c.author, "text": c.text} for c in _thread().comments]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main, ["analyze", str(src), "--out", str(out), "--config", str(conf), "-q", "--target", "Putin"]
    )
    assert r.exit_code == 0, r.output
    data = json.loads(next(out.glob("*/analysis.json")).read_text(encoding="utf-8"))
    got = {row["id"]: [t["target"] for t in row["target_stance"]] for row in data["comments"]}
    assert got == {"c1": ["Putin"], "c2": ["Putin"], "c3": [], "c4": []}
    assert data["config"]["stages"]["target_stance.v1"]["targets"] == ["Putin"]
    assert any(m["name"].startswith("hf:") and m["name"].endswith("/m") for m in data["models"])
    page = next(out.glob("*/report.html")).read_text(encoding="utf-8")
    assert "toward <bdi>Putin</bdi>" in page
    bare = tmp_path / "bare.yaml"
    bare.write_text(yaml.safe_dump({**tiny_config, "pipeline": ["encode.v1", "reply_graph.v1"]}), encoding="utf-8")
    r = CliRunner().invoke(
        main, ["analyze", str(src), "--out", str(tmp_path / "o2"), "--config", str(bare), "--target", "X"]
    )
    assert r.exit_code != 0 and "--target needs target_stance.v1 in the pipeline" in r.output
    assert "Traceback" not in r.output

"""A third-party package adds a stage, two layers, a model kind and an input format through entry
points, and its results reach analysis.json and the report with no edit to ``discourse/``.

The plug-in is a real distribution: a module and a ``.dist-info`` folder with ``entry_points.txt``
on ``sys.path``, which is all ``importlib.metadata`` (and so pip-installed plug-ins) relies on.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import discourse
from discourse.core.inputs import FORMATS
from discourse.core.layers import LAYERS
from discourse.core.models import MODEL_KINDS
from discourse.core.stage import STAGES
from discourse.report.html import render_report
from discourse.testing import DEBATE

PLUGIN = '''
"""discourse-hedges: counts hedging words with a word-list model."""
from __future__ import annotations

import json
from dataclasses import dataclass

from discourse.core.inputs import register_format
from discourse.core.layers import register_layer
from discourse.core.models import ModelSpec, load_model, register_model_kind
from discourse.core.stage import stage
from discourse.core.thread import Comment, Thread


@dataclass(frozen=True)
class HedgeCount:
    count: int
    words: tuple[str, ...]

    def to_json(self):
        return {"count": self.count, "words": list(self.words)}


@dataclass(frozen=True)
class HedgeSummary:
    total: int
    most_hedged: str | None

    def to_json(self):
        return {"total": self.total, "most_hedged": self.most_hedged}


register_layer("hedges", "comment", HedgeCount)
register_layer("hedge_summary", "thread", HedgeSummary, doc="hedging words per thread")


class WordList:
    def __init__(self, words):
        self.words = frozenset(words)

    def find(self, text):
        return tuple(w for w in text.lower().replace(".", " ").replace(",", " ").split() if w in self.words)


register_model_kind("word_list", lambda src: WordList(src.meta["words"]), inputs="text", task="hedges")


@dataclass(frozen=True)
class HedgeConfig:
    model: ModelSpec
    min_count: int = 1


@stage("hedges.v1", config=HedgeConfig, requires=("text",), assigns=("hedges", "hedge_summary"))
class HedgeStage:
    def __init__(self, config, resources):
        self.config = config

    def __call__(self, docs):
        model = load_model(self.config.model, task="hedges").model
        for d in docs:
            best, total = None, 0
            for c in d.thread.comments:
                found = model.find(c.text)
                d.annotations.set(c.id, "hedges", HedgeCount(len(found), found))
                total += len(found)
                if len(found) >= self.config.min_count and best is None:
                    best = c.id
            d.annotations.put("hedge_summary", HedgeSummary(total, best))


def parse_lines(text, name):
    rows = [line.split(": ", 1) for line in text.splitlines()[1:] if ": " in line]
    comments = tuple(Comment(id=f"l{k}", text=t, author=a) for k, (a, t) in enumerate(rows, 1))
    return [Thread(id=name, title=name, comments=comments, structure_known=True)]


register_format("hedgelines", parse_lines, sniff=lambda sample, filename: sample.startswith("#hedgelines"))
'''


@pytest.fixture()
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "discourse_hedges.py").write_text(PLUGIN, encoding="utf-8")
    info = site / "discourse_hedges-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: discourse-hedges\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        textwrap.dedent("""\
            [discourse.stages]
            hedges = discourse_hedges
            [discourse.model_kinds]
            word_list = discourse_hedges
            [discourse.formats]
            hedgelines = discourse_hedges
        """),
        encoding="utf-8",
    )
    model = tmp_path / "hedge-words"
    model.mkdir()
    (model / "model.json").write_text(json.dumps({"kind": "word_list", "words": ["maybe", "perhaps"]}))
    for registry in (STAGES, LAYERS, MODEL_KINDS, FORMATS):  # rescan entry points; forget the plug-in after
        registry.load_plugins()  # every built-in first, so the copy below holds them all
        monkeypatch.setattr(registry, "_items", dict(registry._items))
        monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.syspath_prepend(str(site))
    yield model
    sys.modules.pop("discourse_hedges", None)


def _config(tiny_config: dict, model: Path) -> dict:
    stages = {**tiny_config["stages"], "hedges.v1": {"model": {"path": str(model)}}}
    pipeline = ["encode.v1", "reply_graph.v1", "toxicity.v1", "hedges.v1", "stance.v1", "chains.v1", "attention.v1"]
    return {**tiny_config, "pipeline": pipeline, "stages": stages}


def test_a_plugin_stage_reaches_analysis_json_and_the_report(plugin: Path, tiny_config: dict) -> None:
    text = DEBATE.replace("I still disagree", "Perhaps I still disagree")
    a = discourse.analyze(text, config=_config(tiny_config, plugin))
    data = a.to_json()
    assert data["hedge_summary"]["total"] >= 1
    hedged = [c for c in data["comments"] if c["hedges"]["count"]]
    assert hedged and all(set(c["hedges"]["words"]) <= {"maybe", "perhaps"} for c in hedged)
    assert any("perhaps" in c["hedges"]["words"] for c in hedged)
    assert all(
        c["hedges"]["count"] == 0
        for c in data["comments"]
        if "maybe" not in c["text"].lower() and "perhaps" not in c["text"].lower()
    )
    assert data["hedge_summary"]["most_hedged"] == hedged[0]["id"]
    # the built-in layers are untouched and in pipeline order around it
    assert list(data["comments"][0])[-3:] == ["toxicity", "hedges", "stance"]
    assert list(data)[3:6] == ["hedge_summary", "chains", "attention"]
    assert a.hedge_summary.total == data["hedge_summary"]["total"]  # layers read as attributes
    html = render_report(a)
    assert "hedge_summary" in html and "hedging words per thread" in html and "most_hedged" in html
    assert '<span class="tag">hedges</span>' in html


def test_a_plugin_format_is_sniffed_before_the_builtin_rules(plugin: Path) -> None:
    threads = discourse.load_threads("#hedgelines\nAnn: maybe so\nBob: perhaps not\n")
    assert [c.author for c in threads[0].comments] == ["Ann", "Bob"]


def test_a_plugin_config_is_validated_like_a_builtin_one(plugin: Path, tiny_config: dict) -> None:
    cfg = _config(tiny_config, plugin)
    cfg["stages"]["hedges.v1"] = {"model": {"path": str(plugin)}, "min_cuont": 2}
    message = r"stages.hedges.v1: unknown key 'min_cuont' \(did you mean 'min_count'\?\)"
    with pytest.raises(discourse.ConfigError, match=message):
        discourse.analyze(DEBATE, config=cfg)


def test_without_the_plugin_its_stage_is_unknown(tiny_config: dict, tmp_path: Path) -> None:
    with pytest.raises(discourse.ConfigError, match="unknown stage 'hedges.v1'"):
        discourse.analyze(DEBATE, config=_config(tiny_config, tmp_path))

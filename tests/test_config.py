"""Config: one typed class per stage, validated when loaded, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from discourse.core.config import Config, load_config
from discourse.core.errors import ConfigError
from discourse.core.models import ModelSpec
from discourse.stages.attention import AttentionConfig
from discourse.stages.chains import ChainsConfig


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (
            {"stages": {"chains.v1": {"toxic_treshold": 0.1}}},
            r"stages.chains.v1: unknown key 'toxic_treshold' \(did you mean 'toxic_threshold'\?\); "
            r"valid keys: min_replies, toxic_threshold",
        ),
        (
            {"stages": {"attention.v1": {"flag_threshold": "banana"}}},
            r"stages.attention.v1.flag_threshold: expected a number, got 'banana'",
        ),
        (
            {"stages": {"attention.v1": {"flag_threshold": 0.1}}},
            r"stages.attention.v1: need 0 <= watch_threshold <= flag_threshold <= 1",
        ),
        ({"stages": {"chains.v1": {"min_replies": 2.5}}}, r"stages.chains.v1.min_replies: expected a whole number"),
        ({"stages": {"output.v1": {}}}, r"unknown stage 'output.v1'"),
        (
            {"stages": {"toxicity.v1": {"model": {"name": "a", "hf_model": "b"}}}},
            r"exactly one of name.*name, hf_model",
        ),
        ({"stages": {"encode.v1": {"dtype": "fp16"}}}, r"encode.v1.dtype: 'fp16' is not one of auto, fp32, bf16"),
        (
            {"stages": {"reply_graph.v1": {"weights": {"similarty": 1.0}}}},
            r"unknown reply-link weight\(s\) \['similarty",
        ),
        ({"output": {"html": "yes"}}, r"output.html: expected true or false"),
        ({"encoder": {"max_length": 128}}, r"'encoder' section is now 'stages: \{encode.v1"),
        ({"pipeline": "encode.v1"}, r"'pipeline' must be a list"),
        ({"version": 2}, r"config version 2 is not supported"),
    ],
)
def test_a_bad_config_is_one_line_naming_the_key(user: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        load_config(user)
    assert "\n" not in str(err.value)


def test_defaults_live_in_the_stage_config_classes() -> None:
    cfg = load_config()
    assert isinstance(cfg, Config)
    assert cfg.stage("attention.v1") == AttentionConfig()
    assert cfg.stage("chains.v1") == ChainsConfig()
    resolved = cfg.to_dict()
    assert resolved["stages"]["attention.v1"] == {
        "flag_threshold": 0.5,
        "watch_threshold": 0.2,
        "max_items": 25,
        "thresholds": {
            "toxicity": 0.5,
            "insult": 0.5,
            "threat": 0.3,
            "identity_attack": 0.3,
            "severe_toxicity": 0.5,
            "profanity": 0.8,
        },
        "link_confidence": 0.7,
    }
    assert resolved["stages"]["toxicity.v1"]["model"] == {"name": "tox-block-0.1.2"}  # unset fields left out


def test_user_values_are_typed_and_merged(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "stages:\n  attention.v1: {flag_threshold: 1, watch_threshold: 0.3}\n  reply_graph.v1: {model: null}\n"
    )
    cfg = load_config(path)
    att = cfg.stage("attention.v1")
    assert att.flag_threshold == 1.0 and isinstance(att.flag_threshold, float) and att.max_items == 25
    assert cfg.stage("reply_graph.v1").model is None
    assert cfg.stage("toxicity.v1").model == ModelSpec(name="tox-block-0.1.2")
    assert load_config({"stages": {"stance.v1": {"model": "my-stance"}}}).stage("stance.v1").model == ModelSpec(
        name="my-stance"
    )  # a string is short for {name: ...}


def test_the_hash_follows_the_resolved_values() -> None:
    a, b = load_config(), load_config({"stages": {"chains.v1": {"min_replies": 2}}})
    assert a.hash() == b.hash()  # setting a default explicitly changes nothing
    assert a.hash() != load_config({"stages": {"chains.v1": {"min_replies": 3}}}).hash()


def test_a_missing_or_broken_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listy)

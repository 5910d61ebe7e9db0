"""Configuration: the shipped ``configs/default.yaml`` deep-merged with a user's file or dict,
then validated section by section.

Each stage owns a frozen config dataclass (registered with the stage): the one place its
defaults live. Its section under ``stages:`` is checked against it when the config is loaded,
before any work: an unknown key is a one-line error naming the valid keys, and a value of the
wrong type (``flag_threshold: banana``) is a one-line error naming the key and the type.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml

from discourse.core.errors import ConfigError
from discourse.core.registry import did_you_mean
from discourse.core.stage import STAGES

TOP_KEYS = ("version", "pipeline", "stages", "output")

REPLACED_WHOLE = frozenset({"model", "pipeline"})
"""Keys whose value a user config replaces instead of merging into: a model spec names one
model ({name: ...} or {hf_model: ...}), so merging a user's spec into the default's would mix two."""


@dataclass(frozen=True)
class OutputConfig:
    """Which files each thread gets besides analysis.json (always written)."""

    html: bool = True  # report.html
    graphml: bool = True  # graph.graphml
    csv: bool = True  # comments.csv
    report_comments: int = 5000  # comments listed in report.html's tree (0: all); every one is in the other files
    report_chains: int = 200  # argument chains shown in report.html, the longest (0: all); all are in analysis.json

    def __post_init__(self) -> None:
        if self.report_comments < 0:
            raise ValueError("report_comments must be 0 (all) or more")
        if self.report_chains < 0:
            raise ValueError("report_chains must be 0 (all) or more")


@dataclass(frozen=True)
class Config:
    """A resolved, validated configuration."""

    pipeline: tuple[str, ...]
    stages: Mapping[str, Any]  # stage name -> that stage's config dataclass instance
    output: OutputConfig = field(default_factory=OutputConfig)
    version: int = 1

    def stage(self, name: str) -> Any:
        return self.stages[name]

    def to_dict(self) -> dict[str, Any]:
        """The resolved config as plain data (every default filled in): what analysis.json records."""
        return {
            "version": self.version,
            "pipeline": list(self.pipeline),
            "stages": {name: to_plain(cfg) for name, cfg in self.stages.items()},
            "output": to_plain(self.output),
        }

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()


def configs_dir() -> Path:
    try:
        import discourse._configs as cfgs

        return Path(next(iter(cfgs.__path__)))
    except ImportError:
        return Path(__file__).resolve().parents[2] / "configs"


def default_raw() -> dict[str, Any]:
    path = configs_dir() / "default.yaml"
    try:
        return dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the default config {path}: {exc}") from exc


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict) and k not in REPLACED_WHOLE:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def read_user_config(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        user: Any = dict(source)
    else:
        path = Path(source)
        try:
            user = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {path}") from exc
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(user, Mapping):
        raise ConfigError("a config must be a mapping of sections (pipeline, stages, output)")
    return dict(user)


def load_config(source: str | Path | Mapping[str, Any] | Config | None = None) -> Config:
    """Resolve a config: None (defaults), a YAML path, or a dict merged over the defaults."""
    if isinstance(source, Config):
        return source
    raw = default_raw()
    if source is not None:
        user = read_user_config(source)
        if "encoder" in user:
            raise ConfigError("the 'encoder' section is now 'stages: {encode.v1: {...}}' (same keys)")
        _check_keys(user, TOP_KEYS, "config")
        raw = _merge(raw, user)
    return resolve(raw)


def resolve(raw: Mapping[str, Any]) -> Config:
    """Validate a merged raw config against the registered stages' config classes."""
    _check_keys(raw, TOP_KEYS, "config")
    pipeline = raw.get("pipeline")
    if not isinstance(pipeline, list) or not all(isinstance(s, str) for s in pipeline):
        raise ConfigError("config 'pipeline' must be a list of stage names such as toxicity.v1")
    sections = raw.get("stages") or {}
    if not isinstance(sections, Mapping):
        raise ConfigError("config 'stages' must map stage names to their settings")
    for name in list(pipeline) + list(sections):
        STAGES.get(name)  # unknown stage: one-line error with a suggestion
    stages = {
        name: build(STAGES.get(name).config, sections.get(name) or {}, f"stages.{name}")
        for name in dict.fromkeys([*pipeline, *sections])
    }
    output = build(OutputConfig, raw.get("output") or {}, "output")
    version = raw.get("version", 1)
    if version != 1:
        raise ConfigError(f"config version {version!r} is not supported (this release reads version 1)")
    return Config(tuple(pipeline), stages, output, 1)


def config_hash(cfg: Config) -> str:
    return cfg.hash()


# -- typed sections ------------------------------------------------------------------------
def _check_keys(data: Mapping[str, Any], valid: tuple[str, ...] | list[str], where: str) -> None:
    unknown = [k for k in data if k not in valid]
    if unknown:
        k = str(unknown[0])
        raise ConfigError(f"{where}: unknown key {k!r}{did_you_mean(k, list(valid))}; valid keys: {', '.join(valid)}")


def build(cls: type, data: Any, where: str) -> Any:
    """Build config dataclass ``cls`` from a mapping, checking every key and value type."""
    if isinstance(data, cls):
        return data
    shorthand = getattr(cls, "from_shorthand", None)
    if shorthand is not None and not isinstance(data, Mapping):
        data = shorthand(data, where)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping of settings, got {_show(data)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    _check_keys(data, list(fields), where)
    hints = typing.get_type_hints(cls)
    values = {k: convert(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def convert(tp: Any, value: Any, where: str) -> Any:
    """Check (and lightly coerce: int -> float, list -> tuple) ``value`` against type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return convert(arg, value, where)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0] if len(errors) == 1 else ConfigError(f"{where}: {_show(value)} is not {_name(tp)}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {_show(value)} is not one of {', '.join(map(str, args))}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return build(tp, value, where)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {_show(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {_show(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_show(value)}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {_show(value)}")
        item = args[0] if args else Any
        return tuple(convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping, typing.Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {_show(value)}")
        vt = args[1] if len(args) == 2 else Any
        return {str(k): convert(vt, v, f"{where}.{k}") for k, v in value.items()}
    raise ConfigError(f"{where}: unsupported setting type {_name(tp)}")  # a bug in a config class


def to_plain(obj: Any) -> Any:
    """A config dataclass as JSON-able data (tuples become lists; ``None`` fields of a model
    spec are left out so the record stays short)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        skip_none = getattr(obj, "omit_none", False)
        return {
            f.name: to_plain(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if not (skip_none and getattr(obj, f.name) is None)
        }
    if isinstance(obj, tuple | list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")

"""Configuration: the shipped default YAML, deep-merged with a user's file or dict."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from discourse.errors import ConfigError

_TOP_KEYS = {"version", "encoder", "pipeline", "stages", "output"}


def configs_dir() -> Path:
    try:
        import discourse._configs as cfgs  # type: ignore[import-not-found]

        return Path(next(iter(cfgs.__path__)))
    except ImportError:
        return Path(__file__).resolve().parents[1] / "configs"


def default_config() -> dict[str, Any]:
    path = configs_dir() / "default.yaml"
    try:
        return dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the default config {path}: {exc}") from exc


REPLACED_WHOLE = frozenset({"model", "pipeline"})
"""Keys whose value a user config replaces instead of merging into: a model spec names one
model ({name: ...} or {hf_model: ...}), so merging a user's spec into the default's would mix two."""


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict) and k not in REPLACED_WHOLE:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(source: str | Path | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Resolve a config: None (defaults), a YAML path, or a dict merged over the defaults."""
    base = default_config()
    if source is None:
        return base
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
        raise ConfigError("a config must be a mapping of sections (encoder, pipeline, stages, output)")
    unknown = set(user) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    cfg = _merge(base, user)
    if not isinstance(cfg.get("pipeline"), list) or not all(isinstance(s, str) for s in cfg["pipeline"]):
        raise ConfigError("config 'pipeline' must be a list of stage names such as toxicity.v1")
    return cfg


def config_hash(cfg: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()

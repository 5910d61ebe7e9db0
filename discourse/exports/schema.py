"""The shape of an analysis.json that exports and the digest rely on (docs/analysis-schema.md,
schema 1.x), checked once when a file is read, so that no reader meets a wrong type later.

:func:`check_analysis` raises ValueError naming the first field that does not fit
(``comments[3].toxicity.score: expected a number, got str``); the caller skips that file and says
why. Fields the readers do not use are not checked, and a layer a pipeline did not run may be absent
(``toxicity``, ``stance``, ``chains``, ``attention``); a plug-in's extra keys are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SCHEMA_MAJOR = "1"


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _str_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _strs(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _numbers(v: Any) -> bool:
    return isinstance(v, dict) and all(_number(x) for x in v.values())


def _spans(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(s, list) and len(s) == 2 and all(_number(x) for x in s) for s in v)


Check = tuple[str, Callable[[Any], bool], str, bool]  # key, test, what it should be, required

THREAD: tuple[Check, ...] = (
    ("id", lambda v: isinstance(v, str), "a string", True),
    ("title", _str_or_none, "a string", False),
    ("article", _str_or_none, "a string", False),
    ("source_format", _str_or_none, "a string", False),
)
COMMENT: tuple[Check, ...] = (
    ("id", lambda v: isinstance(v, str) and v != "", "a non-empty string", True),
    ("text", lambda v: isinstance(v, str), "a string", True),
    ("author", _str_or_none, "a string or null", False),
    ("author_inferred", lambda v: isinstance(v, bool), "true or false", False),
    ("author_evidence", _str_or_none, "a string or null", False),
    ("parent_id", _str_or_none, "a string or null", False),
    ("parent_confidence", _number, "a number", False),
    ("parent_evidence", _strs, "a list of strings", False),
    ("created", _str_or_none, "a string or null", False),
    ("toxicity", lambda v: v is None or isinstance(v, dict), "an object or null", False),
    ("stance", lambda v: v is None or isinstance(v, dict), "an object or null", False),
)
TOXICITY: tuple[Check, ...] = (
    ("score", _number, "a number", False),
    ("labels", _numbers, "an object of numbers", False),
    ("model", _str_or_none, "a string", False),
    ("evidence", _strs, "a list of strings", False),
    ("evidence_spans", _spans, "a list of [begin, end]", False),
)
STANCE: tuple[Check, ...] = (
    ("label", _str_or_none, "a string", False),
    ("scores", _numbers, "an object of numbers", False),
    ("target_id", _str_or_none, "a string or null", False),
    ("model", _str_or_none, "a string", False),
    ("evidence", _strs, "a list of strings", False),
)
CHAIN: tuple[Check, ...] = (
    ("participants", lambda v: _strs(v) and len(v) == 2, "two strings", True),
    ("comment_ids", lambda v: _strs(v) and len(v) > 0, "a non-empty list of strings", True),
    ("outcome", _str_or_none, "a string", False),
    ("escalation", _number, "a number", False),
)
ATTENTION: tuple[Check, ...] = (
    ("comment_id", lambda v: isinstance(v, str), "a string", True),
    ("priority", _number, "a number", True),
    ("codes", _strs, "a list of strings", False),
    ("target", _str_or_none, "a string or null", False),
    ("reasons", _strs, "a list of strings", False),
)


def _fields(where: str, obj: Any, checks: tuple[Check, ...]) -> None:
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: expected an object, got {type(obj).__name__}")
    for key, test, what, required in checks:
        if key not in obj:
            if required:
                raise ValueError(f"{where}.{key}: missing")
            continue
        if not test(obj[key]):
            raise ValueError(f"{where}.{key}: expected {what}, got {type(obj[key]).__name__}")


def _list(data: dict[str, Any], key: str, checks: tuple[Check, ...]) -> None:
    if key not in data:
        return
    if not isinstance(data[key], list):
        raise ValueError(f"{key}: expected a list, got {type(data[key]).__name__}")
    for k, item in enumerate(data[key]):
        _fields(f"{key}[{k}]", item, checks)


def check_analysis(data: Any) -> None:
    """Raise ValueError naming the first field of ``data`` that does not fit schema 1.x."""
    if not isinstance(data, dict):
        raise ValueError(f"not an analysis.json (a JSON {type(data).__name__}, not an object)")
    version = data.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_MAJOR:
        raise ValueError(f"schema_version {version!r} is not {SCHEMA_MAJOR}.x")
    _fields("thread", data.get("thread"), THREAD)
    if not isinstance(data.get("comments"), list):
        raise ValueError("not an analysis.json (no comments list)")
    for k, c in enumerate(data["comments"]):
        _fields(f"comments[{k}]", c, COMMENT)
        if isinstance(c.get("toxicity"), dict):
            _fields(f"comments[{k}].toxicity", c["toxicity"], TOXICITY)
        if isinstance(c.get("stance"), dict):
            _fields(f"comments[{k}].stance", c["stance"], STANCE)
    _list(data, "chains", CHAIN)
    _list(data, "attention", ATTENTION)
    config = data.get("config")
    if config is not None and not isinstance(config, dict):
        raise ValueError(f"config: expected an object, got {type(config).__name__}")

"""Which model a config names, and how it is built: model kinds from a registry.

A stage's ``model:`` setting is a :class:`ModelSpec`: a shipped model by ``name`` (verified
against ``models/registry.json``), a local folder by ``path`` (holding a ``model.json``), or any
Hugging Face sequence classifier by ``hf_model`` (a folder, or a hub id already in the local
cache). The builder comes from :data:`MODEL_KINDS`, keyed by the ``kind`` in the model's
``model.json`` (``hf_classifier`` for ``hf_model``), never by probing the object. Each kind
declares what it reads (``inputs``) so a stage knows how to call it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from discourse.core.errors import ConfigError, ModelError
from discourse.core.modelfiles import ModelRecord, resolve
from discourse.core.registry import Registry

Inputs = Literal["text", "text_pair", "text_or_pair", "encoded_text", "encoded_pair", "thread"]
"""What a model reads: raw texts, (text, target) pairs, either (a Hugging Face classifier),
shared encoder vectors of texts or of (reply, target) pairs, or a whole thread with its vectors
(the reply-link scorer)."""


@dataclass(frozen=True)
class ModelSpec:
    """``{name: tox-block-0.1.2}``, ``{path: ./my-model}`` or ``{hf_model: <folder or id>, labels: [...]}``.
    A plain string is short for ``{name: ...}``."""

    name: str | None = None
    path: str | None = None
    hf_model: str | None = None
    labels: tuple[str, ...] | None = None
    batch_size: int | None = None
    max_length: int | None = None

    omit_none = True  # the resolved config records only what was set

    def __post_init__(self) -> None:
        given = [k for k in ("name", "path", "hf_model") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "a model spec needs exactly one of name (a shipped model), path (a folder "
                "with model.json) or hf_model (a Hugging Face folder or cached hub id)"
                + (f"; got {', '.join(given)}" if given else "")
            )
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")

    @classmethod
    def from_shorthand(cls, value: Any, where: str) -> Any:
        return {"name": value} if isinstance(value, str) else value


@dataclass(frozen=True)
class ModelSource:
    """Everything a kind's builder gets: the spec, and for registry/folder models the verified folder."""

    spec: ModelSpec
    folder: Path | None
    record: ModelRecord | None
    meta: dict[str, Any]


@dataclass(frozen=True)
class ModelKind:
    name: str
    build: Callable[[ModelSource], Any]
    inputs: Inputs
    explains: bool = False  # has explain(inputs) -> evidence per input
    task: str = ""  # what it predicts (toxicity, stance, reply_links); "" = any


MODEL_KINDS: Registry[ModelKind] = Registry("model kind")


def register_model_kind(
    name: str, build: Callable[[ModelSource], Any], inputs: Inputs, *, explains: bool = False, task: str = ""
) -> ModelKind:
    return MODEL_KINDS.register(name, ModelKind(name, build, inputs, explains, task))


HF_KIND = "hf_classifier"


def model_source(spec: ModelSpec) -> tuple[ModelSource, str]:
    """Verify the files the spec names; return the source and its kind name."""
    if spec.hf_model:
        return ModelSource(spec, None, None, {}), HF_KIND
    if spec.name:
        folder, record = resolve(spec.name)
    else:
        folder = Path(str(spec.path)).expanduser()
        if not (folder / "model.json").is_file():
            raise ModelError(f"model folder {folder} has no model.json (it says which kind of model it is)")
        from discourse.core.modelfiles import record_folder

        record = record_folder(folder.name, "local-folder", folder)
    try:
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"model {record.name}: cannot read {folder / 'model.json'}: {exc}") from exc
    kind = meta.get("kind")
    if not isinstance(kind, str):
        raise ModelError(f"model {record.name}: model.json does not say its kind")
    return ModelSource(spec, folder, record, meta), kind


@dataclass(frozen=True)
class Loaded:
    """A built model, its kind, and (for shipped or folder models) the verified file record."""

    model: Any
    kind: ModelKind
    record: ModelRecord | None


def load_model(spec: ModelSpec, task: str) -> Loaded:
    """Build (lazily loading) the model a spec names, checking its kind predicts ``task``."""
    source, kind_name = model_source(spec)
    kind = MODEL_KINDS.get(kind_name)
    if kind.task and kind.task != task:
        label = spec.name or spec.path or spec.hf_model
        raise ConfigError(f"model {label!r} is a {kind.task} model ({kind_name}), not a {task} model")
    return Loaded(kind.build(source), kind, source.record)

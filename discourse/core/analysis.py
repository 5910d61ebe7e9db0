"""The result of analysing one thread, and its public JSON contract.

``Analysis.to_json()`` is the analysis.json contract documented in docs/analysis-schema.md;
any change to its shape bumps ``SCHEMA_VERSION``. It knows no concrete layer: every comment
gets one key per public comment-level layer the pipeline assigns, and the document one key
per public thread-level layer, in pipeline order.

Layers read as attributes: ``analysis.chains`` is the thread-level layer ``chains``, and
``analysis.toxicity(comment_id)`` the comment-level layer ``toxicity`` of one comment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from discourse.core.layers import LAYERS, Annotations, layer_spec
from discourse.core.modelfiles import ModelRecord
from discourse.core.thread import Thread

if TYPE_CHECKING:
    from discourse.core.config import Config

SCHEMA_VERSION = "1.1"


@dataclass(frozen=True)
class Analysis:
    thread: Thread
    annotations: Annotations
    layer_order: tuple[str, ...] = ()
    models: tuple[ModelRecord, ...] = ()
    config: Config | None = None
    warnings: tuple[str, ...] = ()
    timings: Mapping[str, float] = field(default_factory=dict)

    def layer(self, name: str, default: Any = None) -> Any:
        """A thread-level layer's value."""
        return self.annotations.value(name, default)

    def get(self, comment_id: str, name: str) -> Any:
        """A comment-level layer's value for one comment."""
        return self.annotations.get(comment_id, name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in LAYERS:
            raise AttributeError(name)
        spec = layer_spec(name)
        if spec.level == "thread":
            return self.annotations.value(name, () if spec.many else None)
        getter: Callable[[str], Any] = lambda cid: self.annotations.get(cid, name)  # noqa: E731
        return getter

    def public_layers(self, level: str) -> list[str]:
        return [n for n in self.layer_order if (s := layer_spec(n)).public and s.level == level]

    def to_json(self) -> dict[str, Any]:
        return dict(self._json)

    @cached_property
    def _json(self) -> dict[str, Any]:
        t = self.thread
        comment_layers = [layer_spec(n) for n in self.public_layers("comment")]
        comments = []
        for c in t.comments:
            row: dict[str, Any] = {
                "id": c.id,
                "author": c.author,
                "author_inferred": c.author_inferred,
                "author_evidence": c.meta.get("author_evidence"),
                "parent_id": c.parent_id,
                "parent_confidence": round(float(c.parent_confidence), 6),
                "parent_evidence": list(c.parent_evidence),
                "created": c.created,
                "text": c.text,
            }
            for spec in comment_layers:
                row[spec.name] = spec.to_json(self.annotations.get(c.id, spec.name))
            comments.append(row)
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "thread": {
                "id": t.id,
                "title": t.title,
                "source_format": t.source_format,
                "article": t.article,
                "structure_inferred": not t.structure_known,
                "missing": [_plain(m) for m in t.meta.get("missing", ())],
            },
            "comments": comments,
        }
        for name in self.public_layers("thread"):
            out[name] = layer_spec(name).to_json(self.annotations.value(name))
        out["models"] = [m.to_json() for m in self.models]
        out["config"] = self.config.to_dict() if self.config is not None else {}
        out["warnings"] = list(t.warnings) + [w for w in self.warnings if w not in t.warnings]
        out["timings_s"] = {k: round(v, 4) for k, v in self.timings.items()}
        return out


def _plain(value: Any) -> Any:
    """A placeholder record from a parser (mappings and tuples) as JSON data."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value

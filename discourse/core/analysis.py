"""The result of analysing one thread, and its public JSON contract.

``Analysis.to_json()`` is the analysis.json contract documented in docs/analysis-schema.md;
any change to its shape bumps ``SCHEMA_VERSION``. It knows no concrete layer: every comment
gets one key per public comment-level layer the pipeline assigns, and the document one key
per public thread-level layer, in pipeline order.

Layers read as attributes: ``analysis.chains`` is the thread-level layer ``chains``, and
``analysis.toxicity(comment_id)`` the comment-level layer ``toxicity`` of one comment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from discourse.core.layers import LAYERS, Annotations, layer_spec
from discourse.core.modelfiles import ModelRecord
from discourse.core.thread import Thread

if TYPE_CHECKING:
    from discourse.core.config import Config

SCHEMA_VERSION = "1.2"


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
        """The whole analysis.json document as one dict (built afresh on each call, not kept: a huge
        thread's rows would stay in memory as long as the Analysis). Writers stream it instead:
        :meth:`head_json` plus :meth:`comments_json` one row at a time."""
        out = self.head_json()
        out["comments"] = list(self.comments_json())
        return {k: out[k] for k in self._json_keys()}

    def _json_keys(self) -> list[str]:
        return ["schema_version", "thread", "comments", *self.public_layers("thread"), *_TAIL]

    def comments_json(self) -> Iterator[dict[str, Any]]:
        """analysis.json's ``comments`` rows, one at a time, in document order."""
        comment_layers = [layer_spec(n) for n in self.public_layers("comment")]
        for c in self.thread.comments:
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
            yield row

    def head_json(self) -> dict[str, Any]:
        """analysis.json without its ``comments`` (every other key, in document order): small
        whatever the thread's size, except for thread-level layers that grow with it."""
        t = self.thread
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
        }
        for name in self.public_layers("thread"):
            out[name] = layer_spec(name).to_json(self.annotations.value(name))
        out["models"] = [m.to_json() for m in self.models]
        out["config"] = self.config.to_dict() if self.config is not None else {}
        out["warnings"] = self.all_warnings()
        out["timings_s"] = {k: round(v, 4) for k, v in self.timings.items()}
        return out

    def all_warnings(self) -> list[str]:
        """The thread's warnings, then the pipeline's that the thread does not already hold."""
        t = self.thread
        return list(t.warnings) + [w for w in self.warnings if w not in t.warnings]


_TAIL = ("models", "config", "warnings", "timings_s")


def _plain(value: Any) -> Any:
    """A placeholder record from a parser (mappings and tuples) as JSON data."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value

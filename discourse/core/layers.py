"""Model outputs live beside the data in annotation layers, each registered with a type.

Like spaCy's extension attributes: a layer must be registered before it is written, and
writing an unknown layer or a value of the wrong type is an error. The parsed Thread is
never touched.

* A **comment-level** layer holds one value per comment (``toxicity``, ``stance``); in
  analysis.json it is a key of every comment object.
* A **thread-level** layer holds one value per thread (``chains``, ``attention``); with
  ``many=True`` the value is a tuple of ``type`` items. In analysis.json it is a top-level key.

``public=False`` layers (the encoder vectors, how the structure was found) are working state
for later stages and never reach analysis.json. A public value must have ``to_json()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from discourse.core.errors import PipelineError
from discourse.core.registry import Registry

Level = Literal["comment", "thread"]

RESERVED = frozenset(
    {
        "schema_version",
        "thread",
        "comments",
        "models",
        "config",
        "warnings",
        "timings_s",
        "id",
        "author",
        "author_inferred",
        "author_evidence",
        "parent_id",
        "parent_confidence",
        "parent_evidence",
        "created",
        "text",
        "meta",
    }
)
"""Keys of analysis.json that no layer may take."""

GIVEN = ("thread", "text")
"""What every pipeline starts with: the parsed thread and its comments' text."""


@dataclass(frozen=True, slots=True)
class LayerSpec:
    name: str
    level: Level
    type: type
    many: bool = False
    public: bool = True
    doc: str = ""

    def check(self, value: Any) -> None:
        items = value if self.many else (value,)
        if self.many and not isinstance(value, tuple):
            raise PipelineError(
                f"layer {self.name!r} holds a tuple of {self.type.__name__}, got {type(value).__name__}"
            )
        for v in items:
            if not isinstance(v, self.type):
                raise PipelineError(f"layer {self.name!r} must be {self.type.__name__}, got {type(v).__name__}")

    def to_json(self, value: Any) -> Any:
        if value is None:
            return [] if self.many else None
        return [v.to_json() for v in value] if self.many else value.to_json()


LAYERS: Registry[LayerSpec] = Registry("layer")


def register_layer(
    name: str, level: Level, type_: type, *, many: bool = False, public: bool = True, doc: str = ""
) -> LayerSpec:
    """Declare a layer. Stage packages call this at import, next to the stage that assigns it."""
    if name in RESERVED:
        raise PipelineError(f"layer name {name!r} is reserved by analysis.json")
    if level == "comment" and many:
        raise PipelineError(f"comment-level layer {name!r} cannot be many=True")
    if public and not callable(getattr(type_, "to_json", None)):
        raise PipelineError(f"public layer {name!r}: {type_.__name__} needs a to_json() method")
    return LAYERS.register(name, LayerSpec(name, level, type_, many, public, doc))


def layer_spec(name: str) -> LayerSpec:
    return LAYERS.get(name)


@dataclass
class Annotations:
    """Every layer's values for one thread: comment id -> layer -> value, and layer -> value."""

    _comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    _thread: dict[str, Any] = field(default_factory=dict)

    # -- comment-level ----------------------------------------------------------------
    def set(self, comment_id: str, key: str, value: Any) -> None:
        spec = _spec(key, "comment")
        spec.check(value)
        self._comments.setdefault(comment_id, {})[key] = value

    def get(self, comment_id: str, key: str, default: Any = None) -> Any:
        _spec(key, "comment")
        return self._comments.get(comment_id, {}).get(key, default)

    def has(self, key: str) -> bool:
        return any(key in v for v in self._comments.values())

    def items(self, key: str) -> Iterator[tuple[str, Any]]:
        for cid, values in self._comments.items():
            if key in values:
                yield cid, values[key]

    # -- thread-level -----------------------------------------------------------------
    def put(self, key: str, value: Any) -> None:
        spec = _spec(key, "thread")
        spec.check(value)
        self._thread[key] = value

    def value(self, key: str, default: Any = None) -> Any:
        _spec(key, "thread")
        return self._thread.get(key, default)

    def has_value(self, key: str) -> bool:
        return key in self._thread

    def drop_private(self) -> Annotations:
        """A copy without the working-state layers (what an Analysis keeps)."""
        keep = {k: v for k, v in self._thread.items() if LAYERS.get(k).public}
        return Annotations({cid: dict(v) for cid, v in self._comments.items()}, keep)


def _spec(key: str, level: Level) -> LayerSpec:
    if key not in LAYERS:
        raise PipelineError(f"unregistered layer {key!r}; register_layer() it first")
    spec = LAYERS.get(key)
    if spec.level != level:
        raise PipelineError(f"layer {key!r} is {spec.level}-level, not {level}-level")
    return spec

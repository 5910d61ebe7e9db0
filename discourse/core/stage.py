"""Stages: registered under versioned names, each with its config class, what it requires and
what it assigns (cf. spaCy's factories).

A stage package registers itself at import::

    @stage("toxicity.v1", config=ToxicityConfig, requires=("text",), assigns=("toxicity",))
    class ToxicityStage:
        def __init__(self, config: ToxicityConfig, resources: Resources) -> None: ...
        def __call__(self, docs: Sequence[Doc]) -> None: ...   # every thread of a group at once

``requires`` and ``assigns`` name annotation layers (see :mod:`discourse.core.layers`), plus
``thread`` and ``text`` which every pipeline starts with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from discourse.core.registry import Registry

if TYPE_CHECKING:
    from discourse.core.engine import Doc, Resources


class Stage(Protocol):
    def __call__(self, docs: Sequence[Doc]) -> None: ...


@dataclass(frozen=True)
class NoConfig:
    """The config class of a stage without settings."""


@dataclass(frozen=True)
class StageSpec:
    name: str
    factory: Callable[[Any, Resources], Stage]
    config: type = NoConfig
    requires: tuple[str, ...] = ()
    assigns: tuple[str, ...] = ()
    doc: str = field(default="", compare=False)


STAGES: Registry[StageSpec] = Registry("stage")


def stage(
    name: str, *, config: type = NoConfig, requires: tuple[str, ...] = (), assigns: tuple[str, ...] = ()
) -> Callable[[Any], Any]:
    """Register a stage factory (a class or a function ``(config, resources) -> callable``)."""

    def deco(factory: Any) -> Any:
        doc = (factory.__doc__ or "").strip().splitlines()
        STAGES.register(name, StageSpec(name, factory, config, tuple(requires), tuple(assigns), doc[0] if doc else ""))
        return factory

    return deco

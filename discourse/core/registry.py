"""Named registries for what plugs into the engine: stages, annotation layers, model kinds and
input formats.

Built-in components and third-party plug-ins register the same way: a package names a module in
one of the entry-point groups below (``[project.entry-points."discourse.stages"]`` in its
``pyproject.toml``); importing that module registers what it defines. Entry points are loaded on
the first lookup that misses, so nothing is imported until it is needed.
"""

from __future__ import annotations

import difflib
import importlib.metadata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

from discourse.core.errors import ConfigError, PipelineError

T = TypeVar("T")

GROUPS = {
    "stage": "discourse.stages",
    "model kind": "discourse.model_kinds",
    "input format": "discourse.formats",
    "layer": "discourse.stages",  # layers are registered by the stage packages that assign them
}


def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    """The installed entry points of ``group`` (a function so tests can fake plug-ins)."""
    return list(importlib.metadata.entry_points(group=group))


def did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Registry(Generic[T]):
    """name -> component. Registering the same object twice is a no-op; a different object
    under a taken name is an error (two plug-ins must not silently shadow each other)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.group = GROUPS[what]
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str, item: T) -> T:
        old = self._items.get(name)
        if old is not None and old is not item and old != item:
            raise PipelineError(f"{self.what} {name!r} is registered twice (by {_origin(old)} and {_origin(item)})")
        self._items[name] = item
        return item

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)

    @contextmanager
    def temporarily(self, name: str, item: T) -> Iterator[T]:
        """Register ``item`` for the duration of a ``with`` block (tests)."""
        self.register(name, item)
        try:
            yield item
        finally:
            self.unregister(name)

    def load_plugins(self) -> None:
        """Import every module named in this registry's entry-point group (once)."""
        if self._loaded:
            return
        self._loaded = True
        for ep in entry_points(self.group):
            try:
                ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must name itself
                raise PipelineError(f"plug-in {ep.name!r} ({ep.value}) failed to load: {exc}") from exc

    def get(self, name: str) -> T:
        if name not in self._items:
            self.load_plugins()
        if name not in self._items:
            known = sorted(self._items)
            raise ConfigError(
                f"unknown {self.what} {name!r}{did_you_mean(name, known)}; known: {', '.join(known) or 'none'}"
            )
        return self._items[name]

    def __contains__(self, name: str) -> bool:
        if name not in self._items:
            self.load_plugins()
        return name in self._items

    def names(self) -> list[str]:
        self.load_plugins()
        return list(self._items)

    def items(self) -> list[tuple[str, T]]:
        self.load_plugins()
        return list(self._items.items())


def _origin(item: object) -> str:
    for attr in ("factory", "build", "parse"):
        fn = getattr(item, attr, None)
        if fn is not None:
            return str(getattr(fn, "__module__", "?"))
    return str(getattr(item, "__module__", None) or type(item).__module__)


def registering(registry: Registry[T], name: str) -> Callable[[T], T]:
    """Decorator form: ``@registering(FORMATS, "reddit")``."""

    def deco(item: T) -> T:
        return registry.register(name, item)

    return deco

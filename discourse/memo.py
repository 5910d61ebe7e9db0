"""Per-text memos that hold for one stage call.

Several consumers of a stage ask for the same comment's cues or addressed names (features, a
rule, the evidence; each round of author inference). A bounded LRU cache serves that while a
group fits in it, but a group larger than the cache is scanned again by every consumer: at
10,000 comments the stance cues were scanned three times. :func:`scoped_cache` keeps the LRU for
calls outside a stage and, inside ``with f.scope():``, remembers every call until the block ends
(a memo as big as the group, dropped with it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")


class ScopedCache(Generic[P, R]):
    """``fn`` behind an LRU cache of ``maxsize``, and an unbounded memo inside :meth:`scope`."""

    def __init__(self, fn: Callable[P, R], maxsize: int) -> None:
        self.fn = fn
        self._lru = functools.lru_cache(maxsize=maxsize)(fn)
        self._memo: ContextVar[dict[Hashable, R] | None] = ContextVar(f"memo:{fn.__qualname__}", default=None)
        self.computed = 0  # calls that ran ``fn`` inside a scope (outside: see cache_info())
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        memo = self._memo.get()
        if memo is None:
            return cast(Callable[P, R], self._lru)(*args, **kwargs)
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        try:
            return memo[key]
        except KeyError:
            self.computed += 1
            value = memo[key] = self.fn(*args, **kwargs)
            return value

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Remember every call until the block ends; a scope inside a scope shares the outer memo."""
        if self._memo.get() is not None:
            yield
            return
        token = self._memo.set({})
        try:
            yield
        finally:
            self._memo.reset(token)

    def cache_info(self) -> functools._CacheInfo:
        return self._lru.cache_info()

    def cache_clear(self) -> None:
        self._lru.cache_clear()


def scoped_cache(maxsize: int) -> Callable[[Callable[P, R]], ScopedCache[P, R]]:
    """Decorator: see :class:`ScopedCache`."""

    def wrap(fn: Callable[P, R]) -> ScopedCache[P, R]:
        return ScopedCache(fn, maxsize)

    return wrap

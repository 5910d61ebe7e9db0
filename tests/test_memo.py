"""discourse.memo.scoped_cache: an LRU outside a scope, every call remembered inside one."""

from __future__ import annotations

import threading

from discourse.memo import scoped_cache


def test_a_scope_remembers_past_the_lru_size_and_forgets_after() -> None:
    calls: list[int] = []

    @scoped_cache(maxsize=2)
    def square(x: int, plus: int = 0) -> int:
        calls.append(x)
        return x * x + plus

    with square.scope():
        first = [square(x) for x in range(5)]
        assert [square(x) for x in range(5)] == first == [0, 1, 4, 9, 16]
        assert square(3, plus=1) == 10 and square(3) == 9
        with square.scope():  # nested: the same memo
            square(4)
    assert calls == [0, 1, 2, 3, 4, 3] and square.computed == 6
    calls.clear()
    for x in (1, 2, 1, 7, 8, 1):  # outside: the LRU of two
        square(x)
    assert calls == [1, 2, 7, 8, 1]
    assert square.__name__ == "square" and square.cache_info().maxsize == 2


def test_scopes_are_per_thread_of_execution() -> None:
    seen: list[str] = []

    @scoped_cache(maxsize=0)
    def f(x: str) -> str:
        seen.append(x)
        return x

    def other() -> None:  # another thread does not share this one's scope
        f("a")
        f("a")

    with f.scope():
        f("a")
        f("a")
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == ["a", "a", "a"]

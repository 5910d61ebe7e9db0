"""One protocol for every model, and length-sorted batching in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from discourse.core.modelfiles import ModelRecord

T = TypeVar("T")
R = TypeVar("R")

TextPair = tuple[str, str]
"""(text, target): a reply and the comment or article it answers."""


@runtime_checkable
class Classifier(Protocol):
    """Every classifier, whatever its backend (torch port, transformers,
    scikit-learn head, rules), answers ``predict_batch`` with one dict per input
    holding a score for *every* label in ``labels``."""

    name: str
    labels: tuple[str, ...]

    def predict_batch(self, inputs: Sequence[str] | Sequence[TextPair]) -> list[dict[str, float]]: ...

    def record(self) -> ModelRecord: ...


def length_sorted_batches(
    items: Sequence[T], key: Callable[[T], int], batch_size: int
) -> Iterator[tuple[list[int], list[T]]]:
    """Yield (original indices, items) in batches of similar length, longest first,
    so padding is minimal. Callers scatter results back by index."""
    order = sorted(range(len(items)), key=lambda i: -key(items[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield idx, [items[i] for i in idx]


def map_sorted(
    items: Sequence[T], fn: Callable[[list[T]], list[R]], key: Callable[[T], int], batch_size: int
) -> list[R]:
    """Apply ``fn`` to length-sorted batches and return results in input order."""
    out: list[R | None] = [None] * len(items)
    for idx, batch in length_sorted_batches(items, key, batch_size):
        for i, r in zip(idx, fn(batch), strict=True):
            out[i] = r
    return out  # type: ignore[return-value]

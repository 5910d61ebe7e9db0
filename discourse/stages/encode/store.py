"""Sentence spans and vectors of one encoder pass, kept compactly (and off the heap when big).

A thread of 70,000 long comments has about 1.4 million sentences. As Python lists of tuples and
one small array per text they cost several hundred bytes each on top of the vectors; here every
text's sentences are one run of rows in two flat arrays (character spans as int32, vectors as
float16), indexed by a start and a count per text.

Past ``spill_bytes`` of vectors (default 128 MiB) the rows go to an anonymous temporary file
written with ordinary writes and read back through a read-only memory map, so only the pages a
stage actually reads (the chain summaries read a few comments' sentences) are ever resident. The
file is unlinked from the start: nothing is left behind, even after a kill.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, Any, overload

import numpy as np

SENTENCE_DTYPE = np.float16
"""Sentence vectors only rank sentences against each other (TextRank): half precision is plenty."""

SPILL_BYTES = 128 * 2**20
"""Sentence vectors beyond this many bytes go to a temporary file instead of the heap."""


class SentenceStore:
    """Sentence spans and vectors of many texts; ``spans(i)`` / ``vectors(i)`` give text ``i``'s."""

    def __init__(
        self, spans: np.ndarray, vectors: np.ndarray, starts: np.ndarray, counts: np.ndarray, file: IO[bytes] | None
    ) -> None:
        self._spans = spans  # (rows, 2) int32 character offsets
        self._vectors = vectors  # (rows, dim) SENTENCE_DTYPE, possibly a read-only memmap
        self._starts = starts  # (texts,) first row of each text
        self._counts = counts  # (texts,) rows of each text
        self._file = file  # keeps the spill file open as long as the map is used

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    @property
    def spilled(self) -> bool:
        """Whether the vectors live in a temporary file rather than on the heap."""
        return self._file is not None

    def spans(self, i: int) -> list[tuple[int, int]]:
        s, n = int(self._starts[i]), int(self._counts[i])
        return [(int(a), int(b)) for a, b in self._spans[s : s + n]]

    def vectors(self, i: int) -> np.ndarray:
        s, n = int(self._starts[i]), int(self._counts[i])
        return self._vectors[s : s + n]

    def take(self, start: int, stop: int) -> SentenceStore:
        """Texts ``start:stop`` (one thread of a group's pass); shares the rows, copies nothing big."""
        return SentenceStore(self._spans, self._vectors, self._starts[start:stop], self._counts[start:stop], self._file)

    def select(self, index: Sequence[int] | np.ndarray) -> SentenceStore:
        """Texts in the order of ``index`` (repeats allowed: one encoded text standing for its copies)."""
        idx = np.asarray(index, dtype=np.int64)
        return SentenceStore(self._spans, self._vectors, self._starts[idx], self._counts[idx], self._file)

    def span_lists(self) -> _Column:
        return _Column(self, "spans")

    def vector_lists(self) -> _Column:
        return _Column(self, "vectors")


class _Column(Sequence[Any]):
    """A read-only per-text view of one column of a store (``enc.sentence_spans[k]``)."""

    def __init__(self, store: SentenceStore, which: str) -> None:
        self._store, self._which = store, which

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def __getitem__(self, i: int) -> object: ...
    @overload
    def __getitem__(self, i: slice) -> list[object]: ...
    def __getitem__(self, i: int | slice) -> object:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._store.spans(i) if self._which == "spans" else self._store.vectors(i)

    def __iter__(self) -> Iterator[object]:
        return (self[k] for k in range(len(self)))


class StoreWriter:
    """Collects sentence rows text by text (in any order of texts) and builds a :class:`SentenceStore`."""

    def __init__(self, n_texts: int, dim: int, spill_bytes: int = SPILL_BYTES) -> None:
        self.dim = dim
        self.spill_bytes = spill_bytes
        self._starts = np.zeros(n_texts, dtype=np.int64)
        self._counts = np.zeros(n_texts, dtype=np.int64)
        self._spans: list[np.ndarray] = []
        self._pending: list[np.ndarray] = []  # vectors not yet in the file (or all, if never spilled)
        self._pending_bytes = 0
        self._rows = 0
        self._file: IO[bytes] | None = None

    def add(
        self,
        index: Sequence[int],
        spans: Sequence[Sequence[tuple[int, int]] | np.ndarray],
        vectors: Sequence[np.ndarray],
    ) -> None:
        """Rows of texts ``index`` (their spans and float vectors, one row per sentence)."""
        for i, sp, v in zip(index, spans, vectors, strict=True):
            n = len(sp)
            self._starts[i], self._counts[i] = self._rows, n
            self._rows += n
            if n:
                self._spans.append(np.asarray(sp, dtype=np.int32).reshape(n, 2))
                rows = np.ascontiguousarray(v, dtype=SENTENCE_DTYPE).reshape(n, self.dim)
                self._pending.append(rows)
                self._pending_bytes += rows.nbytes
        if self._file is not None or self._pending_bytes > self.spill_bytes:
            self._flush()

    def _flush(self) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="discourse-sentences-")
        for rows in self._pending:
            self._file.write(rows.tobytes())
        self._pending, self._pending_bytes = [], 0

    def build(self) -> SentenceStore:
        spans = np.concatenate(self._spans) if self._spans else np.zeros((0, 2), dtype=np.int32)
        if self._file is None:
            vectors = np.concatenate(self._pending) if self._pending else np.zeros((0, self.dim), dtype=SENTENCE_DTYPE)
        else:
            self._flush()
            self._file.flush()
            vectors = (
                np.memmap(self._file, dtype=SENTENCE_DTYPE, mode="r", shape=(self._rows, self.dim))
                if self._rows
                else np.zeros((0, self.dim), dtype=SENTENCE_DTYPE)
            )
        self._spans, self._pending = [], []
        return SentenceStore(spans, vectors, self._starts, self._counts, self._file)

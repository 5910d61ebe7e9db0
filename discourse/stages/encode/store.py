"""Sentence spans and vectors of one encoder pass, kept compactly (and off the heap when big).

A thread of 70,000 long comments has about 1.4 million sentences. As Python lists of tuples and
one small array per text they cost several hundred bytes each on top of the vectors; here every
text's sentences are one run of rows in two flat arrays (character spans as int32, vectors as
float16), indexed by a start and a count per text.

Past ``spill_bytes`` held (default 128 MiB) the rows, vectors and spans, go to anonymous temporary
files written with ordinary writes and read back through read-only memory maps, so only the pages a
stage actually reads (the chain summaries read a few comments' sentences) are ever resident. The
files are unlinked from the start: nothing is left behind, even after a kill.
"""

from __future__ import annotations

import mmap
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
        self,
        spans: np.ndarray,
        vectors: np.ndarray,
        starts: np.ndarray,
        counts: np.ndarray,
        file: tuple[IO[bytes], ...] | None,
    ) -> None:
        self._spans = spans  # (rows, 2) int32 character offsets
        self._vectors = vectors  # (rows, dim) SENTENCE_DTYPE, possibly a read-only memmap
        self._starts = starts  # (texts,) first row of each text
        self._counts = counts  # (texts,) rows of each text
        self._file = file  # keeps the spill files open as long as the maps are used

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

    def drop_pages(self) -> None:
        """Take the spilled rows' pages out of this process's resident set (the kernel keeps them
        in its page cache; a later read maps them back). A pass that reads every text's rows once
        (the result cache's writer) would otherwise keep the whole spill file resident: 0.4 GB at
        100,000 comments."""
        for rows in (self._spans, self._vectors):
            mapped = getattr(rows, "_mmap", None)  # np.memmap's map; None on the heap
            if isinstance(mapped, mmap.mmap) and hasattr(mapped, "madvise"):
                mapped.madvise(mmap.MADV_DONTNEED)

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


class _Rows:
    """Rows of one dtype and width, collected in pieces; on the heap, or past a size in a file."""

    def __init__(self, dtype: type, width: int, prefix: str) -> None:
        self.dtype, self.width, self.prefix = dtype, width, prefix
        self.pending: list[np.ndarray] = []
        self.pending_bytes = 0
        self.rows = 0
        self.file: IO[bytes] | None = None

    def add(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype).reshape(-1, self.width)
        self.pending.append(rows)
        self.pending_bytes += rows.nbytes
        self.rows += len(rows)

    def flush(self) -> None:
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix=self.prefix)
        for rows in self.pending:
            self.file.write(rows.tobytes())
        self.pending, self.pending_bytes = [], 0

    def build(self) -> np.ndarray:
        if self.file is None:
            return np.concatenate(self.pending) if self.pending else np.zeros((0, self.width), dtype=self.dtype)
        self.flush()
        self.file.flush()
        if not self.rows:
            return np.zeros((0, self.width), dtype=self.dtype)
        return np.memmap(self.file, dtype=self.dtype, mode="r", shape=(self.rows, self.width))


class StoreWriter:
    """Collects sentence rows text by text (in any order of texts) and builds a :class:`SentenceStore`.
    Past ``spill_bytes`` held, both the vectors and the spans go to temporary files."""

    def __init__(self, n_texts: int, dim: int, spill_bytes: int = SPILL_BYTES) -> None:
        self.dim = dim
        self.spill_bytes = spill_bytes
        self._starts = np.zeros(n_texts, dtype=np.int64)
        self._counts = np.zeros(n_texts, dtype=np.int64)
        self._spans = _Rows(np.int32, 2, "discourse-spans-")
        self._vectors = _Rows(SENTENCE_DTYPE, dim, "discourse-sentences-")
        self._rows = 0

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
                self._spans.add(np.asarray(sp, dtype=np.int32))
                self._vectors.add(np.asarray(v))
        spilled = self._vectors.file is not None
        if spilled or self._spans.pending_bytes + self._vectors.pending_bytes > self.spill_bytes:
            self._spans.flush()
            self._vectors.flush()

    def build(self) -> SentenceStore:
        spans, vectors = self._spans.build(), self._vectors.build()
        files = tuple(f for f in (self._spans.file, self._vectors.file) if f is not None)
        return SentenceStore(spans, vectors, self._starts, self._counts, files or None)

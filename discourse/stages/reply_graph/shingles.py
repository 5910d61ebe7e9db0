"""Does a comment repeat a run of words from another (a quote)? Asked for every candidate parent
on every decoding path, so the answer must be cheap, and a 100,000-comment thread must not hold
every comment's set of word runs as Python objects (about 5 KB a comment: half a gigabyte).

:class:`Shingles` keeps each comment's run hashes as one sorted int64 array (8 bytes a run) and
builds the Python set of a comment only when it is compared, keeping the ``keep`` most recently
compared ones (a depth-first decoder compares the path it is on, so the same few come back).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


def shingle_hashes(text: str, n: int = 6, limit: int = 20_000) -> frozenset[int]:
    """Hashes of the text's runs of ``n`` words (lower-cased; the first ``limit`` characters)."""
    words = [w.lower() for w in _WORD.findall(text[:limit])]
    return frozenset(hash(tuple(words[k : k + n])) for k in range(len(words) - n + 1))


class Shingles:
    """The ``n``-word run hashes of every text, with :meth:`overlap` and set access by index."""

    def __init__(self, texts: Sequence[str], n: int = 6, keep: int = 1024) -> None:
        self._arrays = [np.array(sorted(shingle_hashes(t, n)), dtype=np.int64) for t in texts]
        self._sets: OrderedDict[int, frozenset[int]] = OrderedDict()
        self._keep = keep

    def __len__(self) -> int:
        return len(self._arrays)

    def __getitem__(self, i: int) -> frozenset[int]:
        s = self._sets.get(i)
        if s is None:
            s = frozenset(self._arrays[i].tolist())
            self._sets[i] = s
            if len(self._sets) > self._keep:
                self._sets.popitem(last=False)
        else:
            self._sets.move_to_end(i)
        return s

    def overlap(self, i: int, j: int) -> bool:
        """Do texts ``i`` and ``j`` share a run of words?"""
        if not len(self._arrays[i]) or not len(self._arrays[j]):
            return False
        return not self[i].isdisjoint(self[j])

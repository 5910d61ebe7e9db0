"""A content-addressed cache of per-comment model outputs, so a nightly run re-reads only what changed.

Stages key each result by everything it depends on (the model files' sha256, the stage's
settings and the comment's text; see :func:`content_key`) and store it as bytes under a
``kind`` of their choosing. The cache is one SQLite file (``DIR/.discourse-cache/results.sqlite``
beside a batch's outputs): every write is one transaction, so a kill leaves it as it was before
the write or after it, and concurrent processes wait for each other (WAL mode, a busy timeout).
It is bounded: past ``max_bytes`` the least recently used rows are dropped. A damaged or
unreadable cache is set aside with a warning and the run goes on without it: a cache never
decides whether a run succeeds.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

CACHE_DIR = ".discourse-cache"
CACHE_FILE = "results.sqlite"
MAX_BYTES = 2 * 2**30
"""Default bound on the cache's stored values (2 GiB: about a million comments' encoder outputs)."""

_CHUNK = 500  # SQLite's parameter limit is 999 in old builds


def content_key(*parts: str | bytes) -> str:
    """A stable key for a result from everything it depends on (length-prefixed, so parts cannot run together)."""
    h = hashlib.sha256()
    for p in parts:
        b = p.encode("utf-8", "surrogatepass") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


class ResultCache:
    """Results by (kind, key). Use :meth:`open` for a batch's output folder."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.warnings: list[str] = []
        self.hits = 0
        self.misses = 0
        self._db: sqlite3.Connection | None = None
        for attempt in range(5):
            try:
                self._db = self._connect()
                break
            except sqlite3.OperationalError as exc:  # busy (another run holds it) or unwritable: not damage
                if attempt == 4:
                    self._busy(exc)
                time.sleep(0.2 * (attempt + 1))
            except sqlite3.DatabaseError as exc:  # damaged: set it aside, start afresh
                self._set_aside(exc)
                break

    @classmethod
    def open(cls, out: Path, max_bytes: int = MAX_BYTES) -> ResultCache:
        folder = Path(out) / CACHE_DIR
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / CACHE_FILE, max_bytes)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS results (kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
            " size INTEGER NOT NULL, used REAL NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID"
        )
        db.execute("CREATE INDEX IF NOT EXISTS results_used ON results (used)")
        db.execute("PRAGMA quick_check").fetchone()
        return db

    def _set_aside(self, exc: Exception) -> None:
        self.close()
        try:
            self.path.replace(self.path.with_name(self.path.name + f".damaged-{int(time.time())}"))
            self._db = self._connect()
            self.warnings.append(f"result cache {self.path} was unreadable ({exc}); set aside and started afresh")
        except (OSError, sqlite3.DatabaseError) as again:
            self._db = None
            self.warnings.append(f"result cache {self.path} is unusable ({again}); running without it")

    def _busy(self, exc: Exception) -> None:
        """A lock or I/O problem (not damage): go on without the cache, saying so once."""
        note = f"result cache {self.path} unavailable ({exc}); this run goes on without it"
        if note not in self.warnings:
            self.warnings.append(note)
        self.close()

    def get_many(self, kind: str, keys: Sequence[str], count: bool = True) -> dict[str, bytes]:
        """The stored values among ``keys`` (missing keys are simply absent). ``count=False``: the
        keys were already counted as hits or misses by :meth:`present`."""
        if self._db is None or not keys:
            self.misses += len(keys) if count else 0
            return {}
        found: dict[str, bytes] = {}
        try:
            found.update((k, bytes(v)) for k, v in self._select(kind, keys, "key, value"))
            if found:
                now = time.time()
                with self._transaction() as db:
                    db.executemany(
                        "UPDATE results SET used = ? WHERE kind = ? AND key = ?", [(now, kind, k) for k in found]
                    )
        except sqlite3.OperationalError as exc:
            self._busy(exc)
            found = {}
        except sqlite3.DatabaseError as exc:
            self._set_aside(exc)
            found = {}
        if count:
            self.hits += sum(1 for k in keys if k in found)
            self.misses += sum(1 for k in keys if k not in found)
        return found

    def present(self, kind: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are stored (counted as hits and misses; values not read: a caller that
        needs many big values fetches them a few at a time with ``get_many(..., count=False)``)."""
        if self._db is None or not keys:
            self.misses += len(keys)
            return set()
        out: set[str] = set()
        try:
            out.update(k for (k,) in self._select(kind, keys, "key"))
        except sqlite3.OperationalError as exc:
            self._busy(exc)
            out = set()
        except sqlite3.DatabaseError as exc:
            self._set_aside(exc)
            out = set()
        self.hits += sum(1 for k in keys if k in out)
        self.misses += sum(1 for k in keys if k not in out)
        return out

    def _select(
        self, kind: str, keys: Sequence[str], columns: Literal["key", "key, value"]
    ) -> Iterator[tuple[Any, ...]]:
        """Rows (``columns``) of the stored ``keys``, asked :data:`_CHUNK` keys at a time."""
        assert self._db is not None
        wanted = list(dict.fromkeys(keys))
        for s in range(0, len(wanted), _CHUNK):
            part = wanted[s : s + _CHUNK]
            marks = ",".join("?" * len(part))
            yield from self._db.execute(
                f"SELECT {columns} FROM results WHERE kind = ? AND key IN ({marks})",  # noqa: S608 - fixed columns, '?' marks
                (kind, *part),
            ).fetchall()

    def put_many(self, kind: str, items: Mapping[str, bytes]) -> None:
        """Store ``items`` in one transaction, then drop the least recently used rows past the bound."""
        if self._db is None or not items:
            return
        now = time.time()
        try:
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO results (kind, key, value, size, used) VALUES (?, ?, ?, ?, ?)",
                    [(kind, k, v, len(v), now) for k, v in items.items()],
                )
            self._evict()
        except sqlite3.OperationalError as exc:
            self._busy(exc)
        except sqlite3.DatabaseError as exc:
            self._set_aside(exc)

    def size(self) -> int:
        """Bytes of stored values."""
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT coalesce(sum(size), 0) FROM results").fetchone()[0])

    def _evict(self) -> None:
        assert self._db is not None
        total = self.size()
        if total <= self.max_bytes:
            return
        target = int(self.max_bytes * 0.9)  # some headroom, so eviction is not paid on every write
        with self._transaction() as db:
            drop: list[tuple[str, str]] = []
            for kind, key, size in db.execute("SELECT kind, key, size FROM results ORDER BY used").fetchall():
                if total <= target:
                    break
                drop.append((kind, key))
                total -= size
            db.executemany("DELETE FROM results WHERE kind = ? AND key = ?", drop)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (taken at once, so two processes never deadlock upgrading a read)."""
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_R = TypeVar("_R")


def cached_map(
    cache: ResultCache | None,
    kind: str,
    keys: Sequence[str],
    compute: Callable[[list[int]], Sequence[_R]],
    dump: Callable[[_R], bytes],
    load: Callable[[bytes], _R],
) -> list[_R]:
    """One result per key: from the cache where it holds the key, else from ``compute`` (called
    once, with the positions of the keys it lacks, returning their results in that order), which
    are then stored. Without a cache, ``compute`` runs over every position."""
    if cache is None:
        return list(compute(list(range(len(keys)))))
    found = cache.get_many(kind, keys)
    todo = [i for i, k in enumerate(keys) if k not in found]
    fresh = list(compute(todo)) if todo else []
    if len(fresh) != len(todo):
        raise ValueError(f"{kind}: computed {len(fresh)} results for {len(todo)} keys")
    cache.put_many(kind, {keys[i]: dump(r) for i, r in zip(todo, fresh, strict=True)})
    made = dict(zip(todo, fresh, strict=True))
    return [made[i] if i in made else load(found[k]) for i, k in enumerate(keys)]

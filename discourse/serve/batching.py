"""Micro-batching: requests that arrive within a short window run as one pipeline pass.

Request handlers ``submit(kind, payload)`` and await the returned future. One worker thread takes
the first waiting job, keeps collecting for ``window_s`` after that job arrived (or until
``max_batch`` jobs), then calls each kind's handler once with all of its payloads: for comments
that is one encoder pass and one tox-block pass over every text of every request. Only this
thread touches the models, so they load once and are never used from two threads at once.

The queue is bounded: when ``max_queue`` jobs wait, ``submit`` raises :class:`Overloaded` at once
(the server answers 429) instead of letting latency grow without limit.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from discourse.serve.errors import Overloaded

log = logging.getLogger("discourse.serve")

Handler = Callable[[Sequence[Any]], Sequence[Any]]
"""Gets the payloads of one batch, returns one result per payload, in order."""


@dataclass
class _Job:
    kind: str
    payload: Any
    future: Future[Any] = field(default_factory=Future)
    enqueued: float = field(default_factory=time.monotonic)


_STOP = object()


class MicroBatcher:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        window_s: float = 0.01,
        max_batch: int = 64,
        max_queue: int = 256,
    ) -> None:
        self.handlers = dict(handlers)
        self.window_s = window_s
        self.max_batch = max_batch
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self.batches = 0  # handler calls so far (for /healthz and tests)
        self.jobs = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="discourse-serve-batcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        self._thread = None

    def submit(self, kind: str, payload: Any) -> Future[Any]:
        if kind not in self.handlers:
            raise KeyError(kind)
        job = _Job(kind, payload)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise Overloaded(f"{self._queue.maxsize} requests are waiting") from None
        return job.future

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            deadline = first.enqueued + self.window_s
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    nxt = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._run(batch)
            if stop:
                return

    def _run(self, batch: list[_Job]) -> None:
        by_kind: dict[str, list[_Job]] = {}
        for job in batch:
            if job.future.set_running_or_notify_cancel():  # a cancelled request is dropped
                by_kind.setdefault(job.kind, []).append(job)
        for kind, jobs in by_kind.items():
            self.jobs += len(jobs)
            try:
                self._call(kind, jobs)
            except Exception as exc:  # one bad input must not fail the others: retry one by one
                if len(jobs) == 1:
                    jobs[0].future.set_exception(exc)
                    continue
                log.warning("batch of %d %s jobs failed (%s); retrying one by one", len(jobs), kind, exc)
                for job in jobs:
                    try:
                        self._call(kind, [job])
                    except Exception as one:
                        job.future.set_exception(one)

    def _call(self, kind: str, jobs: list[_Job]) -> None:
        self.batches += 1
        results = self.handlers[kind]([j.payload for j in jobs])
        if len(results) != len(jobs):
            raise RuntimeError(f"{kind} handler returned {len(results)} results for {len(jobs)} jobs")
        for job, result in zip(jobs, results, strict=True):
            job.future.set_result(result)

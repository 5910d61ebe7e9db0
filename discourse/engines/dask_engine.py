"""The Dask engine: groups of threads are analysed on a Dask distributed cluster.

The client (the ``discourse analyze`` process) reads the inputs, forms the groups exactly as
the local engine does, and submits each as a task; a worker runs the pipeline on it and renders
every thread's files to bytes with the same writers as a local run; the client writes them.
So only the client touches the output folder: the lock, the state file, the folder names and
the atomic renames are the local engine's, and the outputs are the same bytes.

Each worker process builds the pipeline once (a module-level cache keyed by the config's hash)
and keeps its models loaded for every group it gets. A worker that dies mid-group loses nothing
but time: the scheduler gives its groups to another worker (its nanny restarts it), and the
client, which writes a group only when its result arrives, writes every thread once. A group
that kills ``distributed.scheduler.allowed-failures`` workers in a row (3 by default: e.g. one
thread too big for a worker's memory) stops the run with a one-line error; what was written
stays, and a rerun resumes.

With no scheduler address a ``LocalCluster`` of worker processes (one thread each) is started
for the run and closed after it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from discourse.core.config import Config
from discourse.core.engine import Pipeline
from discourse.core.thread import Thread
from discourse.engines.base import ClusterError, Job, Rendered, Results, Say, ThreadResult, drain, render

CONNECT_TIMEOUT_S = 30.0
"""How long to try reaching a scheduler before giving up with a one-line error."""
GROUPS_PER_THREAD = 2
"""Groups kept submitted per worker thread: one running, one queued, so no worker waits."""

_lock = threading.Lock()
_cached: tuple[str, Pipeline] | None = None
pipelines_built = 0
"""How many pipelines this (worker) process has built: one per config, models loaded once."""


def worker_pipeline(config: Config) -> Pipeline:
    """This process's pipeline for ``config``, built on first use and kept (one config at a time:
    a long-lived worker given another config drops the old models)."""
    global _cached, pipelines_built
    key = config.hash()
    with _lock:
        if _cached is None or _cached[0] != key:
            _cached = None  # let the old models go before the new ones load
            _cached = (key, Pipeline(config))
            pipelines_built += 1
        return _cached[1]


def analyse_group(config: Config, threads: list[Thread], max_texts: int) -> list[Rendered]:
    """The task a worker runs: one group through the pipeline, each thread rendered to bytes."""
    pipeline = worker_pipeline(config)
    return [render(a, config.output) for a in pipeline.analyze(threads, max_texts=max_texts)]


class DaskEngine:
    """Run groups on the cluster whose scheduler is at ``scheduler`` (``tcp://host:8786``), or on
    a ``LocalCluster`` of ``n_workers`` processes (default: one per core) started for the run."""

    def __init__(
        self, scheduler: str | None = None, n_workers: int | None = None, connect_timeout: float = CONNECT_TIMEOUT_S
    ) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.connect_timeout = connect_timeout

    def run(self, config: Config, jobs: Iterator[Job], say: Say) -> Results:
        import dask
        from distributed import Client, LocalCluster, as_completed
        from distributed.scheduler import KilledWorker

        cluster: Any = None
        try:
            if self.scheduler is None:
                cluster = LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,  # the run's own progress lines say what happens
                )
            address = self.scheduler or cluster.scheduler_address
            client = Client(address, timeout=self.connect_timeout)
        except (OSError, TimeoutError, ValueError) as exc:
            if cluster is not None:
                cluster.close()
            where = f"the dask scheduler at {self.scheduler}" if self.scheduler else "a local dask cluster"
            raise ClusterError(f"cannot reach {where}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from None
        try:
            if not client.nthreads():
                say("wait", f"no dask worker is connected to {address} yet; waiting for one", {"scheduler": address})
                client.wait_for_workers(1)
            nthreads = client.nthreads()
            say(
                "cluster",
                f"dask cluster at {address}: {len(nthreads)} worker(s), {sum(nthreads.values())} thread(s)",
                {"scheduler": address, "workers": len(nthreads), "threads": sum(nthreads.values())},
            )
            # a group is one big task on purpose (up to 20,000 texts in one model pass): no warning
            with dask.config.set({"distributed.admin.large-graph-warning-threshold": "1GiB"}):
                yield from self._run(client, address, config, jobs, as_completed, KilledWorker)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _run(
        self,
        client: Any,
        address: str,
        config: Config,
        jobs: Iterator[Job],
        as_completed: Any,
        killed: type[Exception],
    ) -> Results:
        """Keep about GROUPS_PER_THREAD groups per worker thread submitted; hand back each as it
        completes (any order), then submit the next. Inputs are pulled only as groups are sent."""
        inflight: dict[Any, Job] = {}
        done = as_completed()
        source = iter(jobs)

        def fill() -> None:
            window = GROUPS_PER_THREAD * max(1, sum(client.nthreads().values()))
            while len(inflight) < window:
                job = next(source, None)
                if job is None:
                    return
                future = client.submit(analyse_group, config, job.threads, job.max_texts, pure=False)
                inflight[future] = job
                done.add(future)

        with lost_cluster(address):
            fill()
        for future in done:
            job = inflight.pop(future)
            try:
                with lost_cluster(address):
                    rendered: list[ThreadResult] = list(future.result())
            except killed as exc:
                n = len(job.threads)
                raise ClusterError(
                    f"a group of {n} thread(s) killed every worker that ran it ({exc}); "
                    "the threads written so far are kept, rerun to resume"
                ) from None
            future.release()
            yield job, drain(rendered)  # each let go of once written (a group's files can be 100 MB)
            with lost_cluster(address):
                fill()


@contextlib.contextmanager
def lost_cluster(address: str) -> Iterator[None]:
    """The scheduler gone (its groups cancelled, its connection closed) as a one-line ClusterError;
    an error raised by a group itself (a model that will not load...) passes through as it is."""
    from concurrent.futures import CancelledError

    from distributed.comm.core import CommClosedError

    try:
        yield
    except (CancelledError, CommClosedError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(
            f"lost the dask scheduler at {address} ({why}); the threads written so far are kept, rerun to resume"
        ) from None

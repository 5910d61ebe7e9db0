"""What an engine is given and what it hands back.

A :class:`Job` is one group of threads, as the batch forms it (the same groups whatever the
engine, so the models see the same batches and the outputs are the same bytes). An engine runs
jobs and yields each with an iterator of one :class:`ThreadResult` per thread, in the job's
order; jobs may come back in any order. A result knows its index-entry fields (:func:`summarize`) and how to
write its files into a folder the batch has claimed: the batch alone names, marks and renames
thread folders, so the lock and the state file stay in one process.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from discourse.core.analysis import Analysis
from discourse.core.config import Config, OutputConfig
from discourse.core.errors import DiscourseError
from discourse.core.thread import Thread
from discourse.report.atomic import atomic_write_bytes

Say = Callable[[str, str, dict[str, Any]], None]
"""How an engine tells the batch something: ``say(kind, message, data)`` (becomes an Event)."""


Results = Generator[tuple["Job", Iterator["ThreadResult"]], None, None]
"""What an engine's ``run`` yields: each job with its results, as it completes. The results come
one at a time, in the job's order, so a result written can be let go before the next is made."""


class ClusterError(DiscourseError):
    """The cluster cannot be reached, or it lost a group (its workers kept dying on it)."""

    exit_code = 7


@dataclass(frozen=True)
class Job:
    """One group: its threads, the engine's ``max_texts`` (one engine group), and the batch's
    own bookkeeping (``token``), handed back untouched with the results. ``threads`` is the only
    list holding the parsed threads: an engine may empty it as it takes them (:func:`drain`)."""

    token: Any
    threads: list[Thread]
    max_texts: int
    last: bool = False
    """No job comes after this one: an engine may let its models go once it has run the job, so
    the job's results are written with that memory free."""


class ThreadResult(Protocol):
    @property
    def summary(self) -> dict[str, Any]:
        """The index-entry fields taken from the analysis (see :func:`summarize`)."""
        ...

    def write_into(self, folder: Path) -> None:
        """Write the thread's output files into ``folder`` (a hidden folder the batch renames)."""
        ...


class Engine(Protocol):
    def run(self, config: Config, jobs: Iterator[Job], say: Say) -> Results:
        """Analyse ``jobs`` (pulled lazily: no more than the engine is about to run) and yield
        each with its results as it completes."""
        ...


def summarize(analysis: Analysis) -> dict[str, Any]:
    """What the index shows of a thread, from its analysis (the batch adds folder, id, source)."""
    t = analysis.thread
    queue = analysis.layer("attention")
    tox = [a.score for _, a in analysis.annotations.items("toxicity")]
    return {
        "title": t.title,
        "comments": len(t.comments),
        "chains": len(analysis.layer("chains", ())),
        "flagged": queue.flagged() if queue is not None else 0,
        "max_toxicity": max(tox, default=0.0),
        "status": "ok",
        "error": "",
        "seconds": round(analysis.timings.get("total", 0.0), 3),
        "created": t.meta.get("created") or min((c.created for c in t.comments if c.created), default=None),
        "source_format": t.source_format,
    }


@dataclass(frozen=True)
class Analysed:
    """A result still in memory (the local engine): written with the writers directly."""

    analysis: Analysis
    output: OutputConfig

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.analysis)

    def write_into(self, folder: Path) -> None:
        from discourse.report.writers import write_outputs

        write_outputs(self.analysis, folder, self.output)


@dataclass(frozen=True)
class Rendered:
    """A result rendered to bytes where it was analysed (a worker), to be written elsewhere:
    the files exactly as :func:`~discourse.report.writers.write_outputs` made them."""

    files: tuple[tuple[str, bytes], ...]
    summary: dict[str, Any]

    def write_into(self, folder: Path) -> None:
        for name, data in self.files:
            atomic_write_bytes(folder / name, data)


def _scratch_dir() -> str | None:
    """Memory-backed scratch space when there is some (the bytes are read straight back)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def render(analysis: Analysis, output: OutputConfig) -> Rendered:
    """Render one thread's files with the same writers as a local run, and keep their bytes.
    analysis.json comes last, as the writers write it (its presence means "done")."""
    from discourse.report.writers import ANALYSIS_JSON, write_outputs

    with tempfile.TemporaryDirectory(prefix="discourse-render-", dir=_scratch_dir()) as tmp:
        written = write_outputs(analysis, tmp, output)
        names = sorted(written, key=lambda n: (n == ANALYSIS_JSON, n))
        files = tuple((n, Path(written[n]).read_bytes()) for n in names)
    return Rendered(files, summarize(analysis))


T = TypeVar("T")


def drain(items: list[T]) -> Iterator[T]:
    """``items`` in order, each let go of by the list as it is handed out (the list ends empty).
    An engine analysing in this process takes a job's threads this way, so a huge parsed thread is
    not kept beside the thread it becomes; a group's rendered files (100 MB) go the same way."""
    items.reverse()
    while items:
        yield items.pop()

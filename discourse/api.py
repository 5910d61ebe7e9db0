"""The public Python API. The CLI only wraps these functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from discourse.core.analysis import Analysis
from discourse.core.config import Config, load_config
from discourse.core.engine import Pipeline
from discourse.core.errors import InputError
from discourse.core.thread import Thread

ConfigLike = str | Path | Mapping[str, Any] | Config | None


def slug(name: str) -> str:
    """A folder-safe name: a URL loses its scheme and ``www.``, anything else becomes "-"."""
    s = re.sub(r"^[a-z][a-z0-9+.-]*://(?:www\.)?", "", name.strip(), flags=re.I)
    s = re.sub(r"[^\w.-]+", "-", s).strip("-.")
    return s[:80] or "thread"


def _is_file(source: str) -> bool:
    """A string names a file when it is one line, short, and an existing file."""
    if "\n" in source or len(source) >= 4096:
        return False
    try:
        return Path(source).is_file()
    except (OSError, ValueError):  # name too long, NUL inside, ...
        return False


def load_threads(source: str | Path | bytes, name: str | None = None) -> Sequence[Thread]:
    """Read a file path, raw bytes or a text string and parse it into threads.

    The format (flat scraped text, Reddit JSON, Disqus XML, …) is detected. A JSONL file of
    1 MiB or more is read one thread at a time (:mod:`discourse.formats.lazy_jsonl`): the
    sequence returned parses a thread each time it is asked for one.
    """
    from discourse.formats.detect import detect_format, parse_structured
    from discourse.formats.flat import parse_flat
    from discourse.formats.reading import read_text, replace_surrogates, surrogate_note

    if isinstance(source, Path) or (isinstance(source, str) and _is_file(source)):
        path = Path(source)
        if path.is_dir():
            raise InputError(f"{path} is a folder; use analyze_many or the CLI for folders")
        lazy = _lazy_jsonl(path, name or path.stem)
        if lazy is not None:
            return lazy
        text, warnings = read_text(path)
        name = name or path.stem
        filename = path.name
    elif isinstance(source, bytes):
        text, warnings = read_text(source)
        name, filename = name or "thread", name or ""
    else:
        if not source.strip():
            raise InputError("the input text is empty")
        # A str may hold lone surrogates (a cut emoji): they have no UTF-8 form, so replace them
        # here rather than let them turn the whole text into a Windows-1252 guess.
        clean, bad = replace_surrogates(source)
        text, warnings = read_text(clean.encode("utf-8"), name=name or "input")
        if bad:
            warnings.insert(0, surrogate_note(name or "input", bad))
        name, filename = name or "thread", ""
    fmt = detect_format(text, filename)
    if fmt == "flat":
        try:
            threads = [parse_flat(text, slug(name))]
        except InputError as exc:
            raise InputError(f"{filename}: {exc}" if filename else str(exc)) from None
    else:
        threads = parse_structured(text, fmt, name)
        if not threads:
            raise InputError(f"{filename or 'input'}: no thread with comments found in this {fmt} file")
    return [t.with_warnings(*warnings) if warnings else t for t in threads]


def _lazy_jsonl(path: Path, name: str) -> Sequence[Thread] | None:
    """A big plain-UTF-8 JSONL file's threads, read one at a time; None for anything else."""
    from discourse.formats.detect import detect_format
    from discourse.formats.lazy_jsonl import LAZY_BYTES, open_jsonl

    try:
        if path.stat().st_size < LAZY_BYTES:
            return None
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return None  # the whole-file reader says why
    sample = head.decode("utf-8", errors="ignore")  # a character cut at the end is dropped
    try:
        if detect_format(sample, path.name) != "jsonl":
            return None
    except InputError:
        return None
    threads = open_jsonl(path, name)
    if threads is not None and not len(threads):
        raise InputError(f"{path.name}: no thread with comments found in this jsonl file")
    return threads


def analyze_thread(thread: Thread, pipeline: Pipeline) -> Analysis:
    return pipeline.analysis(pipeline.run(thread))


def analyze_threads(threads: Iterable[Thread], pipeline: Pipeline) -> Iterator[Analysis]:
    """Analyse many threads in groups: every stage runs over all threads of a group at once
    (small threads then batch as well as big ones); yields results in order."""
    yield from pipeline.analyze(threads)


def analyze(path_or_text: str | Path | bytes | Thread, config: ConfigLike = None) -> Analysis:
    """Analyse one thread: a file path, raw text/bytes, or a parsed Thread.

    A file holding several threads raises InputError; use ``analyze_many``.
    """
    pipeline = Pipeline(load_config(config))
    if isinstance(path_or_text, Thread):
        return analyze_thread(path_or_text, pipeline)
    threads = load_threads(path_or_text)
    if len(threads) != 1:
        raise InputError(f"the input holds {len(threads)} threads; use discourse.analyze_many")
    return analyze_thread(threads[0], pipeline)


def analyze_many(source: str | Path | bytes, config: ConfigLike = None) -> list[Analysis]:
    """Analyse every thread in one input, sharing loaded models."""
    pipeline = Pipeline(load_config(config))
    return list(analyze_threads(load_threads(source), pipeline))

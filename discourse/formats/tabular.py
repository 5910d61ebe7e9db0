"""Comment records as rows (JSONL, a JSON array, CSV) and the repairs every parser shares.

Rows carry ``id``, ``parent_id`` (empty = answers the article), ``author``, ``text`` and
optionally ``thread_id``/``title``; common aliases are accepted (see ``ALIASES``).

:func:`assemble` is the last step of every structured parser: it keeps the first of
duplicate ids, and points self-parented comments, comments whose parent is missing and
the first comment (in document order) of each reply cycle at the article, recording a
warning for each kind of repair, so the returned Thread passes ``validate()``.
:func:`needed_placeholders` tells the parsers which deleted comments to keep as empty
placeholders (those with a surviving reply below them).

A JSON array of row objects is read like JSONL (``source_format`` "json_rows" instead of "jsonl").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import PurePath
from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Comment, Thread
from discourse.formats.reading import load_json, load_json_counted, replace_surrogates, surrogate_note

ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "comment_id", "commentid", "cid", "message_id", "utterance_id"),
    "parent": ("parent_id", "parent", "reply_to", "in_reply_to", "replyto", "parentid", "parent_comment_id"),
    "author": ("author", "user", "user_text", "username", "user_name", "author_name", "speaker"),
    "text": ("text", "body", "message", "content", "comment", "comment_text"),
    "thread": ("thread_id", "thread", "conversation_id", "conversation", "discussion_id"),
    "title": ("title", "thread_title"),
    "article": ("article", "post_text"),
    "created": ("created", "created_at", "created_utc", "timestamp", "date", "time"),
}
_TOP_LEVEL_TOKENS = frozenset({"0", "-1", "root", "null", "none"})
_EXAMPLES = 5


# -- shared repairs -------------------------------------------------------------
def assemble(
    thread_id: str,
    comments: Iterable[Comment],
    *,
    title: str = "",
    article: str = "",
    source_format: str,
    warnings: Iterable[str] = (),
    meta: Mapping[str, Any] | None = None,
) -> Thread:
    """Build a Thread whose ``validate()`` is empty, recording every repair as a warning."""
    notes = list(warnings)
    kept = _drop_duplicates(list(comments), notes)
    kept = _fix_parents(kept, notes)
    kept = _break_cycles(kept, notes)
    thread = Thread(
        id=thread_id,
        title=title,
        comments=tuple(kept),
        article=article,
        source_format=source_format,
        structure_known=True,
        warnings=tuple(notes),
        meta=meta or {},
    )
    problems = thread.validate()
    if problems:  # defensive: the repairs above should leave nothing
        bad = {p.comment_id for p in problems}
        fixed = tuple(replace(c, parent_id=None) if c.id in bad else c for c in thread.comments)
        thread = replace(thread, comments=fixed).with_warnings(
            *(f"unexpected integrity problem repaired by detaching the comment: {p}" for p in problems)
        )
    return thread


def needed_placeholders(parent_of: Mapping[str, str | None], gone: set[str]) -> set[str]:
    """The ids in ``gone`` (deleted, removed) that are ancestors of a comment not in ``gone``."""
    needed: set[str] = set()
    for cid in parent_of:
        if cid in gone:
            continue
        seen: set[str] = set()
        node = parent_of.get(cid)
        while node is not None and node not in seen and node not in needed:
            seen.add(node)
            if node in gone:
                needed.add(node)
            node = parent_of.get(node)
    return needed


def listing(items: list[str]) -> str:
    shown = ", ".join(items[:_EXAMPLES])
    return shown + (f" and {len(items) - _EXAMPLES} more" if len(items) > _EXAMPLES else "")


def _drop_duplicates(comments: list[Comment], notes: list[str]) -> list[Comment]:
    seen: set[str] = set()
    kept: list[Comment] = []
    dupes: list[str] = []
    for c in comments:
        if c.id in seen:
            dupes.append(c.id)
            continue
        seen.add(c.id)
        kept.append(c)
    if dupes:
        notes.append(
            f"{len(dupes)} comment(s) repeated an id already used in this thread and were dropped, "
            f"keeping the first of each (ids {listing(dupes)})"
        )
    return kept


def _fix_parents(comments: list[Comment], notes: list[str]) -> list[Comment]:
    ids = {c.id for c in comments}
    out: list[Comment] = []
    selfp: list[str] = []
    missing: list[str] = []
    for c in comments:
        if c.parent_id is not None and c.parent_id == c.id:
            selfp.append(c.id)
            c = replace(c, parent_id=None, meta={**c.meta, "self_parent": True})
        elif c.parent_id is not None and c.parent_id not in ids:
            missing.append(f"{c.id} (parent {c.parent_id})")
            c = replace(c, parent_id=None, meta={**c.meta, "missing_parent": c.parent_id})
        out.append(c)
    if selfp:
        notes.append(
            f"{len(selfp)} comment(s) named themselves as their parent and now answer the article "
            f"(ids {listing(selfp)})"
        )
    if missing:
        notes.append(
            f"{len(missing)} comment(s) reply to a comment that is not in the thread and now answer "
            f"the article: {listing(missing)}"
        )
    return out


def _break_cycles(comments: list[Comment], notes: list[str]) -> list[Comment]:
    parent = {c.id: c.parent_id for c in comments}
    order = {c.id: i for i, c in enumerate(comments)}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = known to reach the article
    broken: dict[str, str] = {}
    for c in comments:
        path: list[str] = []
        node: str | None = c.id
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent[node]
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            first = min(cycle, key=order.__getitem__)
            broken[first] = parent[first] or ""
            parent[first] = None
        for p in path:
            state[p] = 2
    if not broken:
        return comments
    notes.append(
        f"{len(broken)} reply cycle(s) broken: the first comment of each in document order now answers the "
        f"article ({listing([f'{k} (was reply to {v})' for k, v in broken.items()])})"
    )
    return [
        replace(c, parent_id=None, meta={**c.meta, "cycle_broken_parent": broken[c.id]}) if c.id in broken else c
        for c in comments
    ]


def to_iso(value: Any) -> str | None:
    """Normalise a timestamp (epoch seconds or ms, ISO 8601, "… UTC", RFC 2822) to ISO 8601.

    Returns None when the value cannot be read."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            return _from_epoch(float(value))
        s = str(value).strip()
        if not s:
            return None
        if re.fullmatch(r"\d{9,13}(?:\.\d+)?", s):
            return _from_epoch(float(s))
        iso = re.sub(r"(?:Z|\s*UTC)$", "+00:00", s)
        try:
            return datetime.fromisoformat(iso).isoformat()
        except ValueError:
            return parsedate_to_datetime(s).isoformat()
    except (ValueError, TypeError, OverflowError, OSError, IndexError):
        return None


def _from_epoch(ts: float) -> str:
    if ts > 1e11:  # milliseconds
        ts /= 1000
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def id_str(value: Any) -> str | None:
    """An id as a string: 5 and 5.0 become "5"; None and "" become None."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value)
    return s if s != "" else None


# -- rows -----------------------------------------------------------------------
def json_line(no: int, line: str, bad: list[str]) -> tuple[Any, int] | None:
    """Line ``no`` of a JSONL file as (value, lone surrogates replaced), or None with the line's
    number and reason appended to ``bad``."""
    try:
        return load_json_counted(line, "line")
    except InputError as exc:
        bad.append(f"{no} ({str(exc).removeprefix('line: ')})")
        return None


def parse_jsonl(text: str, source_name: str = "input") -> list[Thread]:
    """JSON Lines (one object per line) or a JSON array of objects."""
    if text.lstrip().startswith("["):
        notes: list[str] = []
        data = load_json(text, source_name, notes)
        if not isinstance(data, list):
            raise InputError(f"{source_name}: expected a JSON array of comment objects")
        return _build(list(enumerate(data, start=1)), source_name, "json_rows", "item", notes)
    rows: list[tuple[int, Any]] = []
    bad: list[str] = []
    surrogates = 0
    for no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        got = json_line(no, line, bad)
        if got is None:
            continue
        row, n = got
        rows.append((no, row))
        surrogates += n
    if not rows:
        raise InputError(f"{source_name}: no line holds a JSON object" + (f" (line {bad[0]})" if bad else ""))
    warnings = [f"{len(bad)} line(s) are not valid JSON and were skipped: lines {listing(bad)}"] if bad else []
    if surrogates:
        warnings.append(surrogate_note(source_name, surrogates))
    return _build(rows, source_name, "jsonl", "line", warnings)


def parse_csv(text: str, source_name: str = "input") -> list[Thread]:
    """CSV with a header row; the delimiter is whichever makes the header most recognisable."""
    header = text.split("\n", 1)[0]
    delim = max(",\t;|", key=lambda d: (_known_columns(header, d), d == ","))
    return _parse_delimited(text, source_name, delim, "csv")


def parse_tsv(text: str, source_name: str = "input") -> list[Thread]:
    """Tab-separated rows with a header. Quotes are literal text unless the file quotes whole fields
    (as spreadsheet exports do, to hold tabs or line breaks), which is told from the file itself."""
    return _parse_delimited(text, source_name, "\t", "tsv")


def _parse_delimited(text: str, source_name: str, delim: str, fmt: str) -> list[Thread]:
    text, surrogates = replace_surrogates(text)
    notes = [surrogate_note(source_name, surrogates)] if surrogates else []
    header = text.split("\n", 1)[0]
    if _known_columns(header, delim) == 0:
        raise InputError(
            f"{source_name}: the {fmt.upper()} header names no known column "
            f"(expected e.g. {', '.join(ALIASES['text'][:4])})"
        )
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # long comments are legitimate
    quoted = delim != "\t" or _tsv_quotes_fields(text)
    rows, start = _read_rows(text, source_name, delim, fmt, quoted)
    if quoted and _unclosed_quote(text, delim, start):
        if delim == "\t":  # a TSV with a literal quote and ragged rows: read it as plain TSV
            rows, _ = _read_rows(text, source_name, delim, fmt, quoted=False)
            notes.append(f"the quote opening a field on line {start} never closes; quotes are read as text")
        else:
            notes.append(
                f"a quoted field on line {start} never closes: the rest of the file was read into it "
                "(check that line's quotes)"
            )
    return _build(rows, source_name, fmt, "line", notes)


def _read_rows(text: str, source_name: str, delim: str, fmt: str, quoted: bool) -> tuple[list[tuple[int, Any]], int]:
    """The rows (line number, field dict) and the first line of the last record."""
    source = io.StringIO(text, newline="")
    if quoted:
        reader = csv.DictReader(source, delimiter=delim, quoting=csv.QUOTE_MINIMAL)
    else:
        reader = csv.DictReader(source, delimiter=delim, quoting=csv.QUOTE_NONE)
    rows: list[tuple[int, Any]] = []
    start = end = 1  # first line of the last record read, and of the next
    try:
        if reader.fieldnames is not None:  # reads the header
            start = end = reader.line_num + 1
        for row in reader:
            extra = row.pop(None, None)
            if extra:
                row["_extra_fields"] = extra
            rows.append((reader.line_num, row))
            start, end = end, reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{source_name}: malformed {fmt.upper()} at line {reader.line_num} ({exc})") from None
    return rows, start


_FULLY_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def _tsv_quotes_fields(text: str) -> bool:
    """Whether a TSV quotes whole fields (CSV-style) rather than holding literal quote characters.

    Plain TSV has one record per line and no quoting. A file is read with quoting when some
    field is quoted whole (a quote, the text with quotes doubled, a quote) or a record spans
    lines (a quoted line break), and no field merely starts with a quote (as in: "quoted" start)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return False
    width = lines[0].count("\t")
    if any(line.count("\t") != width for line in lines):
        return True  # a record across lines (or a quoted tab): only quoting explains it
    starts = [field for line in lines[1:] for field in line.split("\t") if field.startswith('"')]
    return bool(starts) and all(_FULLY_QUOTED.fullmatch(field) for field in starts)


def _unclosed_quote(text: str, delim: str, line: int) -> bool:
    """Whether the record starting at ``line`` (1-based) opens a quoted field that never closes."""
    rest = "\n".join(text.split("\n")[line - 1 :])
    try:
        for _ in csv.reader(io.StringIO(rest, newline=""), delimiter=delim, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _known_columns(header: str, delim: str) -> int:
    names = {n.strip().lower() for n in next(csv.reader([header], delimiter=delim), [])}
    return sum(1 for aliases in ALIASES.values() if names & set(aliases))


def _pick(row: Mapping[str, Any], role: str) -> tuple[str | None, Any]:
    for alias in ALIASES[role]:
        if alias in row:
            return alias, row[alias]
    return None, None


def _build(rows: list[tuple[int, Any]], source_name: str, fmt: str, unit: str, warnings: list[str]) -> list[Thread]:
    default_thread = PurePath(source_name).stem or "thread"
    notes = list(warnings)
    not_objects = [str(no) for no, r in rows if not isinstance(r, dict)]
    if not_objects:
        notes.append(f"{len(not_objects)} {unit}(s) are not JSON objects and were skipped: {listing(not_objects)}")
    records = [(no, {str(k).strip().lower(): v for k, v in r.items()}) for no, r in rows if isinstance(r, dict)]
    if records and not any(_pick(r, "text")[0] for _, r in records):
        raise InputError(f"{source_name}: no text field (expected one of: {', '.join(ALIASES['text'])})")
    has_ids = any(_pick(r, "id")[0] for _, r in records)
    if records and not has_ids:
        notes.append(f"no id field; comments are numbered by {unit} and parent ids are read as those numbers")
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for no, r in records:
        tid = id_str(_pick(r, "thread")[1]) or default_thread
        groups.setdefault(tid, []).append((no, r))
    built = (_thread(tid, group, fmt, unit, has_ids) for tid, group in groups.items())
    threads = [t for t in built if t.comments]
    if threads and notes:  # file-level notes go to the first thread
        threads[0] = replace(threads[0], warnings=tuple(notes) + threads[0].warnings)
    return threads


def _thread(tid: str, group: list[tuple[int, dict[str, Any]]], fmt: str, unit: str, has_ids: bool) -> Thread:
    notes: list[str] = []
    used = {
        a for role in ("id", "parent", "author", "text", "thread", "title", "article", "created") for a in ALIASES[role]
    }
    ids: list[str] = []
    generated: list[str] = []
    for no, r in group:
        cid = id_str(_pick(r, "id")[1]) if has_ids else str(no)
        if cid is None:
            cid = f"{unit}-{no}"
            generated.append(str(no))
        ids.append(cid)
    if generated:
        notes.append(f"{len(generated)} {unit}(s) had no id and were named '{unit}-N': {unit}s {listing(generated)}")
    known = set(ids)
    parents: list[str | None] = []
    for _, r in group:
        p = id_str(_pick(r, "parent")[1])
        if p is not None and not p.strip():
            p = None
        if p is not None and p not in known and (p.lower() in _TOP_LEVEL_TOKENS or p == tid):
            p = None
        parents.append(p)
    replied_to = {p for p in parents if p is not None}

    comments: list[Comment] = []
    skipped: list[str] = []
    placeholders: list[str] = []
    bad_times: list[str] = []
    title = article = ""
    for (no, r), cid, pid in zip(group, ids, parents):
        title = title or str(_pick(r, "title")[1] or "")
        article = article or str(_pick(r, "article")[1] or "")
        raw_text = _pick(r, "text")[1]
        body = raw_text if isinstance(raw_text, str) else ("" if raw_text is None else str(raw_text))
        meta = {k: v for k, v in r.items() if k not in used}
        if not body.strip():
            if cid not in replied_to:
                skipped.append(str(no))
                continue
            placeholders.append(cid)
            meta["placeholder"] = True
        author = _pick(r, "author")[1]
        raw_time = _pick(r, "created")[1]
        created = to_iso(raw_time)
        if raw_time not in (None, "") and created is None:
            bad_times.append(str(no))
            meta["created_raw"] = raw_time
        comments.append(
            Comment(
                id=cid,
                text=body,
                author=None if author in (None, "") else str(author),
                parent_id=pid,
                parent_confidence=1.0,
                created=created,
                meta=meta,
            )
        )
    if skipped:
        notes.append(f"{len(skipped)} {unit}(s) without text were skipped: {unit}s {listing(skipped)}")
    if placeholders:
        notes.append(
            f"{len(placeholders)} comment(s) without text were kept as empty placeholders because "
            f"others reply to them (ids {listing(placeholders)})"
        )
    if bad_times:
        notes.append(
            f"{len(bad_times)} timestamp(s) could not be read and were left empty: {unit}s {listing(bad_times)}"
        )
    return assemble(tid, comments, title=title or tid, article=article, source_format=fmt, warnings=notes)

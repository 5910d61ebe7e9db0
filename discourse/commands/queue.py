"""``discourse queue OUT_DIR``: one moderator queue over many analysed threads.

Reads every ``<folder>/analysis.json`` directly under an output folder written by ``discourse
analyze``, keeps each thread's flagged comments (attention priority at or above the flag threshold
that thread was analysed with), ranks them across threads, highest priority first, and writes
``queue.html`` (self-contained, autoescaped, no scripts) and ``queue.json`` (both atomically). Each
entry links to the comment in its thread's report: ``<folder>/report.html#c-<id>``.

A folder whose analysis.json cannot be read is skipped and named (``skipped`` in queue.json), not
fatal: one broken thread does not hide the others' flags.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from discourse.commands import domain_errors, write_page
from discourse.core.errors import InputError

QUEUE_VERSION = 1
DEFAULT_FLAG = 0.5  # attention.v1's default flag threshold, for an analysis.json that records none
HTML_NAME = "queue.html"
JSON_NAME = "queue.json"


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One flagged comment in the cross-thread queue."""

    rank: int
    priority: float
    codes: tuple[str, ...]
    target: str | None
    reasons: tuple[str, ...]
    thread_id: str
    thread_title: str
    folder: str
    comment_id: str
    author: str | None
    snippet: str
    href: str  # relative to OUT_DIR; "" when the thread has no report.html

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["codes"], d["reasons"] = list(self.codes), list(self.reasons)
        return d


@dataclass(frozen=True, slots=True)
class ModerationQueue:
    entries: tuple[QueueEntry, ...]  # at most ``limit``
    threads: int  # threads read
    flagged: int  # flagged comments in all of them (before the limit)
    skipped: tuple[tuple[str, str], ...]  # (path, why) of analysis.json files that could not be read

    def to_json(self) -> dict[str, Any]:
        return {
            "queue_version": QUEUE_VERSION,
            "threads": self.threads,
            "flagged": self.flagged,
            "shown": len(self.entries),
            "items": [e.to_json() for e in self.entries],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


def _number(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else default


def _flag_threshold(data: Mapping[str, Any]) -> float:
    """The flag threshold the thread was analysed with (recorded in its resolved config)."""
    try:
        value = data["config"]["stages"]["attention.v1"]["flag_threshold"]
    except (KeyError, TypeError):
        return DEFAULT_FLAG
    return _number(value, DEFAULT_FLAG)


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _thread_items(folder: Path, data: Any) -> list[tuple[float, str, int, dict[str, Any]]]:
    """The flagged items of one analysis.json as sortable rows; ValueError when it is not one."""
    from discourse.report.html import anchor, snippet  # jinja2 and the stages: only when the command runs

    if not isinstance(data, Mapping) or not isinstance(data.get("comments"), list):
        raise ValueError("not an analysis.json (no comments list)")
    attention = data.get("attention", [])
    if not isinstance(attention, list):
        raise ValueError("its attention is not a list")
    given = data.get("thread")
    thread: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    comments = {str(c.get("id")): c for c in data["comments"] if isinstance(c, Mapping)}
    flag = _flag_threshold(data)
    name = folder.name
    report = folder / "report.html"
    rows = []
    for k, item in enumerate(attention):
        if not isinstance(item, Mapping) or "comment_id" not in item:
            raise ValueError(f"attention item {k} has no comment_id")
        priority = _number(item.get("priority"), 0.0)
        if priority < flag:
            continue
        cid = str(item["comment_id"])
        c = comments.get(cid, {})
        author = c.get("author")
        row = {
            "priority": round(priority, 6),
            "codes": _strs(item.get("codes")),
            "target": item.get("target") if isinstance(item.get("target"), str) else None,
            "reasons": _strs(item.get("reasons")),
            "thread_id": str(thread.get("id") or name),
            "thread_title": str(thread.get("title") or thread.get("id") or name),
            "folder": name,
            "comment_id": cid,
            "author": author if isinstance(author, str) else None,
            "snippet": snippet(str(c.get("text") or "")),
            "href": f"{quote(name)}/report.html#{anchor(cid)}" if report.is_file() else "",
        }
        rows.append((priority, name, k, row))
    return rows


def build_queue(out_dir: str | Path, limit: int | None = None) -> ModerationQueue:
    """The flagged comments of every ``<folder>/analysis.json`` under ``out_dir``, ranked across threads."""
    out = Path(out_dir)
    if not out.is_dir():
        raise InputError(f"{out} is not a folder")
    files = sorted(p for p in out.glob("*/analysis.json") if not p.parent.name.startswith("."))
    if not files:
        raise InputError(f"no analysed threads in {out} (no <folder>/analysis.json); run discourse analyze --out {out}")
    rows: list[tuple[float, str, int, dict[str, Any]]] = []
    skipped: list[tuple[str, str]] = []
    threads = 0
    for path in files:
        rel = str(path.relative_to(out))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            rows.extend(_thread_items(path.parent, data))
        except (OSError, UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            skipped.append((rel, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            continue
        threads += 1
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    kept = rows if limit is None else rows[: max(limit, 0)]
    entries = tuple(QueueEntry(rank=i + 1, **r[3]) for i, r in enumerate(kept))
    return ModerationQueue(entries, threads, len(rows), tuple(skipped))


def render_queue(queue: ModerationQueue) -> str:
    from discourse.report.html import environment

    return environment().get_template(HTML_NAME).render(queue=queue)


def write_queue(queue: ModerationQueue, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``queue.html`` and ``queue.json`` into ``out_dir``, each atomically."""
    return write_page(out_dir, "queue", HTML_NAME, render_queue(queue), JSON_NAME, queue.to_json())


def _cut(text: str, width: int) -> str:
    from discourse.report.html import shown_text

    flat = " ".join(shown_text(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def table(queue: ModerationQueue) -> str:
    """A short plain-text table of the queue (invisible controls made visible)."""
    lines = [f"{'#':>3}  {'prio':>4}  {'codes':<26}  {'thread':<24}  {'author':<16}  comment"]
    for e in queue.entries:
        lines.append(
            f"{e.rank:>3}  {e.priority:4.2f}  {_cut(','.join(e.codes) or '-', 26):<26}  {_cut(e.thread_title, 24):<24}"
            f"  {_cut(e.author or '?', 16):<16}  {_cut(e.snippet, 50)}"
        )
    return "\n".join(lines)


@click.command("queue")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print queue.json on stdout instead of the table.")
@click.option("--limit", type=click.IntRange(min=1), help="Keep only the N highest-priority comments.")
@domain_errors
def queue_command(out_dir: str, as_json: bool, limit: int | None) -> None:
    """Rank the flagged comments of every thread analysed into OUT_DIR, across threads.

    Writes OUT_DIR/queue.html (each comment linked into its thread's report) and OUT_DIR/queue.json,
    and prints the queue as a short table (or, with --json, queue.json)."""
    q = build_queue(out_dir, limit)
    html, _ = write_queue(q, out_dir)
    if as_json:
        click.echo(json.dumps(q.to_json(), ensure_ascii=False, indent=2))
    else:
        if q.entries:
            click.echo(table(q))
        more = f" (showing {len(q.entries)})" if len(q.entries) < q.flagged else ""
        click.echo(f"{q.flagged} flagged in {q.threads} thread{'s' if q.threads != 1 else ''}{more}; queue: {html}")
    for path, why in q.skipped:
        click.echo(f"skipped: {path}: {why}", err=True)

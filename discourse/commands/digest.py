"""``discourse digest DIR [--since PREVIOUS_DIR]``: what changed since the last night.

Compares the threads analysed into DIR with an earlier run and lists, as ``DIR/digest.html``
(self-contained, autoescaped, no script) and ``DIR/digest.json`` (both written atomically):

- **new flags**: comments flagged now (attention priority at or above the thread's flag threshold)
  that were not before, including every flag of a thread that is new;
- **resolved flags**: comments flagged before and not now (no longer flagged, removed from the
  thread, or the thread is no longer in the folder);
- **toxicity rose**: threads whose highest comment toxicity rose by at least ``min_rise`` (0.1);
- **escalation rose**: threads whose highest chain escalation (the toxicity slope per turn) rose by
  at least ``min_rise``, or that have more escalated chains than before;
- **new chains**: argument chains between a pair of users who had none before;
- **failed**: every input whose last run failed (``new`` when it did not fail before), and the
  inputs that failed before and were analysed this time (``recovered``).

What "before" is: with ``--since PREVIOUS_DIR``, the threads analysed into that folder. Without it,
the run the last digest of DIR saw. Thread folders are replaced when their input changes, so each
digest keeps a small summary (flags, chains and a few numbers per thread, never the comments) of the
last two runs it saw in ``DIR/.discourse-digest.json``: run ``discourse digest DIR`` after every
``discourse analyze ... --out DIR`` (the nightly job), and each night's digest compares with the
night before. Digesting twice after one run gives the same digest. The first digest of a folder has
nothing to compare with: it lists everything as new and says so.

Threads are matched by source file and thread id, then (for ``--since`` a folder of another day's
files) by thread id alone when that is unique on both sides.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from discourse.batch import DIGEST_PAGE, locked, refresh_index
from discourse.commands import domain_errors, write_page
from discourse.commands.digest_runs import (
    Flag,
    RunSummary,
    ThreadSummary,
    fingerprint,
    history_json,
    load_history,
    summarise,
)
from discourse.core.errors import InputError, OutputError
from discourse.exports.source import read_analyses
from discourse.report.atomic import atomic_write_text

DIGEST_VERSION = 1
SNAPSHOT = ".discourse-digest.json"
HTML_NAME = DIGEST_PAGE
JSON_NAME = "digest.json"
MIN_RISE = 0.1


@dataclass(frozen=True)
class ThreadRef:
    folder: str
    title: str
    thread_id: str
    source: str
    href: str  # the thread's report, relative to DIR; "" when it has none (or is gone)


@dataclass(frozen=True)
class FlagChange:
    thread: ThreadRef
    comment_id: str
    author: str | None
    priority: float
    codes: tuple[str, ...]
    snippet: str
    why: str  # "new thread", "newly flagged", "no longer flagged (priority 0.12)", ...
    href: str


@dataclass(frozen=True)
class Rise:
    thread: ThreadRef
    before: float
    after: float
    detail: str


@dataclass(frozen=True)
class NewChain:
    thread: ThreadRef
    participants: tuple[str, str]
    turns: int
    outcome: str
    escalation: float
    href: str


@dataclass(frozen=True)
class Failure:
    source: str
    error: str
    new: bool


@dataclass(frozen=True)
class Digest:
    folder: str
    since: str  # "previous run", "folder PATH", or "" for a first digest
    since_time: str | None
    run_time: str | None
    threads: int
    new_threads: tuple[ThreadRef, ...]
    new_flags: tuple[FlagChange, ...]
    resolved_flags: tuple[FlagChange, ...]
    toxicity_rose: tuple[Rise, ...]
    escalation_rose: tuple[Rise, ...]
    new_chains: tuple[NewChain, ...]
    failed: tuple[Failure, ...]
    recovered: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # analysis.json files that could not be read

    @property
    def first(self) -> bool:
        return not self.since

    def counts(self) -> dict[str, int]:
        return {
            "new_threads": len(self.new_threads),
            "new_flags": len(self.new_flags),
            "resolved_flags": len(self.resolved_flags),
            "toxicity_rose": len(self.toxicity_rose),
            "escalation_rose": len(self.escalation_rose),
            "new_chains": len(self.new_chains),
            "failed": len(self.failed),
            "recovered": len(self.recovered),
        }

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return {"digest_version": DIGEST_VERSION, "counts": self.counts(), **d}


# -- comparing two runs ------------------------------------------------------------------------
def _match(now: Iterable[ThreadSummary], before: Iterable[ThreadSummary]) -> dict[tuple[str, str], ThreadSummary]:
    """Each current thread's earlier self (by current key): same source and thread id, else the
    same thread id when exactly one thread on each side still unmatched has it."""
    now, before = list(now), list(before)
    old = {t.key: t for t in before}
    out = {t.key: old[t.key] for t in now if t.key in old}
    used = {t.key for t in out.values()}
    left_now = [t for t in now if t.key not in out]
    left_old: dict[str, list[ThreadSummary]] = {}
    for t in before:
        if t.key not in used:
            left_old.setdefault(t.thread_id, []).append(t)
    ids_now = Counter(t.thread_id for t in left_now)
    for t in left_now:
        same_old = left_old.get(t.thread_id, [])
        if ids_now[t.thread_id] == 1 and len(same_old) == 1:
            out[t.key] = same_old[0]
    return out


def compare(
    root: Path, now: RunSummary, before: RunSummary | None, since: str, min_rise: float = MIN_RISE
) -> dict[str, Any]:
    """The changes from ``before`` to ``now`` as lists of entries (see :class:`Digest`)."""
    from discourse.report.html import anchor

    def ref(t: ThreadSummary, present: bool = True) -> ThreadRef:
        report = root / t.folder / "report.html"
        href = f"{quote(t.folder)}/report.html" if present and report.is_file() else ""
        return ThreadRef(t.folder, t.title, t.thread_id, t.source, href)

    def link(r: ThreadRef, cid: str, exists: bool) -> str:
        return f"{r.href}#{anchor(cid)}" if r.href and exists else r.href

    def change(r: ThreadRef, f: Flag, why: str, exists: bool) -> FlagChange:
        return FlagChange(r, f.comment_id, f.author, f.priority, f.codes, f.snippet, why, link(r, f.comment_id, exists))

    earlier = _match(now.threads, before.threads) if before is not None else {}
    matched = {id(t) for t in earlier.values()}
    gone = [t for t in before.threads if id(t) not in matched] if before is not None else []
    out: dict[str, list[Any]] = {k: [] for k in ("new_threads", "new_flags", "resolved", "tox", "esc", "chains")}
    for t in now.threads:
        r = ref(t)
        old = earlier.get(t.key)
        if old is None:
            out["new_threads"].append(r)
        pairs = pair_flags(old, t) if old is not None else {}
        for cid, f in t.flags.items():
            if cid not in pairs:
                out["new_flags"].append(change(r, f, "new thread" if old is None else "newly flagged", True))
        for key, ch in t.chains.items():
            if old is None or key not in old.chains:
                href = link(r, ch.first_id, True)
                out["chains"].append(NewChain(r, ch.participants, ch.turns, ch.outcome, ch.escalation, href))
        if old is None:
            continue
        kept = set(pairs.values())
        resolved = [f for cid, f in old.flags.items() if cid not in kept]
        present = _comments(root, t) if resolved else {}
        for f in resolved:  # linked to where the comment is now, when it is still there
            now_id = present.get(f.fingerprint) or (
                f.comment_id if t.structured and f.comment_id in present.values() else None
            )
            why = "no longer flagged" if now_id else "comment no longer in the thread"
            out["resolved"].append(change(r, replace(f, comment_id=now_id or f.comment_id), why, now_id is not None))
        if _rose(old.max_toxicity, t.max_toxicity, min_rise):
            out["tox"].append(Rise(r, old.max_toxicity, t.max_toxicity, f"flags {len(old.flags)} -> {len(t.flags)}"))
        if _rose(old.escalation, t.escalation, min_rise) or t.escalated > old.escalated:
            detail = f"escalated chains {old.escalated} -> {t.escalated}"
            out["esc"].append(Rise(r, old.escalation, t.escalation, detail))
    for t in gone:
        r = ref(t, present=False)
        for f in t.flags.values():
            out["resolved"].append(change(r, f, "thread no longer in the folder", False))
    failed_before = before.failed if before is not None else {}
    failures = [Failure(src, err, src not in failed_before) for src, err in sorted(now.failed.items())]
    recovered = sorted(src for src in failed_before if src not in now.failed)
    return {
        "since": since if before is not None else "",
        "since_time": before.run_time if before is not None else None,
        "new_threads": tuple(out["new_threads"]),
        "new_flags": tuple(sorted(out["new_flags"], key=lambda c: -c.priority)),
        "resolved_flags": tuple(out["resolved"]),
        "toxicity_rose": tuple(sorted(out["tox"], key=lambda x: x.before - x.after)),
        "escalation_rose": tuple(sorted(out["esc"], key=lambda x: x.before - x.after)),
        "new_chains": tuple(out["chains"]),
        "failed": tuple(failures),
        "recovered": tuple(recovered),
    }


def _rose(before: float, after: float, by: float) -> bool:
    """``after - before >= by`` on the 6 decimals analysis.json keeps (0.15 - 0.10 is 0.0499999...)."""
    return round(after - before, 6) >= by


def pair_flags(old: ThreadSummary, now: ThreadSummary) -> dict[str, str]:
    """Which of ``now``'s flags were flagged before: current comment id -> earlier comment id. The
    same comment is the same id with the same text; else the same text elsewhere (flat-text ids are
    positions: a reply inserted above shifts them); else, where ids come from the export on both
    sides, the same id (its text was edited)."""
    pairs: dict[str, str] = {}
    for cid, f in now.flags.items():
        before = old.flags.get(cid)
        if before is not None and before.fingerprint == f.fingerprint:
            pairs[cid] = cid
    pool: dict[str, list[str]] = {}
    for cid, f in old.flags.items():
        if cid not in pairs.values():
            pool.setdefault(f.fingerprint, []).append(cid)
    for cid, f in now.flags.items():
        if cid not in pairs and pool.get(f.fingerprint):
            pairs[cid] = pool[f.fingerprint].pop(0)
    if now.structured and old.structured:
        used = set(pairs.values())
        for cid in now.flags:
            if cid not in pairs and cid in old.flags and cid not in used:
                pairs[cid] = cid
    return pairs


def _comments(root: Path, t: ThreadSummary) -> dict[str, str]:
    """The thread's comments now: text fingerprint -> comment id (the first with that text)."""
    try:
        data = json.loads((root / t.folder / "analysis.json").read_text(encoding="utf-8"))
        out: dict[str, str] = {}
        for c in data["comments"]:
            out.setdefault(fingerprint(str(c.get("text") or "")), str(c.get("id")))
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


# -- the API --------------------------------------------------------------------------------------
def build_digest(
    out_dir: str | Path,
    since: str | Path | None = None,
    min_rise: float = MIN_RISE,
    on_wait: Callable[[str], None] | None = None,
) -> Digest:
    """The digest of ``out_dir`` against ``since`` (a folder) or the run the last digest saw.

    Holds ``out_dir``'s lock, as ``discourse analyze`` does: a digest started while a run is still
    writing waits for it (``on_wait`` is told why), so it never reads half a night. Updates
    ``out_dir``'s snapshot (the last two runs seen) so the next digest compares with this run."""
    root = Path(out_dir)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder")
    for folder in (root, *([Path(since)] if since is not None else [])):
        if (folder / "analysis.json").is_file():
            raise InputError(f"{folder} is one thread's folder; digest the output folder that holds it")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(locked(root, lambda event: on_wait(event.message) if on_wait else None))
        except OSError as exc:
            raise OutputError(f"cannot write to {root} (its lock file): {exc.strerror or exc}") from None
        return _build(root, since, min_rise)


def _build(root: Path, since: str | Path | None, min_rise: float) -> Digest:
    found = read_analyses(root, allow_failures_only=True)
    now = summarise(found)
    history = load_history(root / SNAPSHOT)
    if history and history[-1].run_id == now.run_id:  # this run was digested already: same baseline
        history = history[:-1]
    before: RunSummary | None
    if since is not None:
        previous = Path(since)
        if previous.resolve() == root.resolve():
            raise InputError(f"--since {previous} is the folder being digested; give the previous night's folder")
        before, label = summarise(read_analyses(previous, allow_failures_only=True)), f"folder {previous}"
    else:
        before, label = (history[-1] if history else None), "previous run"
    changes = compare(root, now, before, label, min_rise)
    digest = Digest(
        folder=str(root),
        run_time=now.run_time,
        threads=len(now.threads),
        skipped=tuple(found.skipped.items()),
        **changes,
    )
    kept = [*history[-1:], now]
    try:
        atomic_write_text(root / SNAPSHOT, history_json(kept, DIGEST_VERSION))
    except OSError as exc:
        raise OutputError(f"cannot write {root / SNAPSHOT}: {exc.strerror or exc}") from None
    return digest


def render_digest(digest: Digest) -> str:
    from discourse.report.html import environment

    return environment().get_template(HTML_NAME).render(d=digest, counts=digest.counts())


def write_digest(digest: Digest, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``digest.html`` and ``digest.json`` into ``out_dir``, each atomically, and link the
    digest from the folder's index.html."""
    written = write_page(out_dir, "digest", HTML_NAME, render_digest(digest), JSON_NAME, digest.to_json())
    refresh_index(Path(out_dir))
    return written


def summary_line(d: Digest) -> str:
    c = d.counts()
    against = "first digest: nothing to compare with" if d.first else f"since the {d.since}"
    return (
        f"{c['new_flags']} new flag(s), {c['resolved_flags']} resolved, {c['toxicity_rose']} thread(s) more toxic,"
        f" {c['escalation_rose']} escalating, {c['new_chains']} new chain(s), {c['failed']} failed input(s)"
        f" ({against})"
    )


@click.command("digest")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--since",
    "since",
    type=click.Path(exists=True, file_okay=False),
    help="Compare with this output folder (default: the run the last digest of OUT_DIR saw).",
)
@click.option(
    "--min-rise",
    type=click.FloatRange(min=0.0, max=1.0),
    default=MIN_RISE,
    show_default=True,
    help="How much a thread's highest toxicity or chain escalation must rise to be listed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print digest.json on stdout instead of the summary line.")
@domain_errors
def digest_command(out_dir: str, since: str | None, min_rise: float, as_json: bool) -> None:
    """What changed in OUT_DIR since the last night: new and resolved flags, threads whose toxicity or
    escalation rose, new argument chains, failed inputs. Writes OUT_DIR/digest.html and digest.json.

    Run it after every `discourse analyze ... --out OUT_DIR`: each digest remembers the run it saw
    (OUT_DIR/.discourse-digest.json) and the next one compares with it."""
    d = build_digest(out_dir, since, min_rise, on_wait=lambda why: click.echo(why, err=True))
    html, _ = write_digest(d, out_dir)
    if as_json:
        click.echo(json.dumps(d.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{summary_line(d)}; digest: {html}")
    for path, why in d.skipped:
        click.echo(f"skipped: {path}: {why}", err=True)

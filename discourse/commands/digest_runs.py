"""What one ``discourse analyze`` run left in an output folder, in a few numbers per thread: the
summary the night-over-night digest compares (:mod:`discourse.commands.digest`).

A :class:`RunSummary` holds, per thread, its flagged comments (attention priority at or above the
thread's flag threshold), its argument chains (by pair of participants), its highest toxicity and
its highest chain escalation, plus the inputs whose last run failed. It is small (flags and chains
only, never the comments), so the digest keeps the last two in the output folder
(``.discourse-digest.json``): a thread folder is replaced when its input changes, and the snapshot
is all that is left of the night before.

A run is told apart from the next by its ``run_id``: the state file's bytes and time and every
thread's analysis.json time and size. Digesting twice after one analyze gives the same run_id.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from discourse.batch import STATE_FILE
from discourse.exports.source import AnalysedThread, AnalysisSet, number

SNIPPET_CHARS = 160


@dataclass(frozen=True)
class Flag:
    comment_id: str
    priority: float
    codes: tuple[str, ...]
    author: str | None
    snippet: str
    fingerprint: str = ""  # of the comment's text: finds the same comment when flat-text ids shift


@dataclass(frozen=True)
class ChainSummary:
    participants: tuple[str, str]
    first_id: str
    turns: int
    outcome: str
    escalation: float


@dataclass(frozen=True)
class ThreadSummary:
    source: str
    thread_id: str
    folder: str
    title: str
    comments: int
    max_toxicity: float
    escalation: float  # the highest chain escalation (toxicity slope per turn); 0 with no chain
    escalated: int  # chains whose outcome is "escalated"
    structured: bool = True  # ids come from the export (stable), not from position (flat text)
    flags: Mapping[str, Flag] = field(default_factory=dict)  # comment id -> flag
    chains: Mapping[str, ChainSummary] = field(default_factory=dict)  # pair key -> chain

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.thread_id)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    run_time: str | None  # when the run last wrote the folder (ISO 8601, UTC)
    threads: tuple[ThreadSummary, ...]
    failed: Mapping[str, str]  # source -> error

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_time": self.run_time,
            "failed": dict(self.failed),
            "threads": [_thread_json(t) for t in self.threads],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunSummary:
        return cls(
            run_id=str(data["run_id"]),
            run_time=data.get("run_time"),
            threads=tuple(_thread_from(t) for t in data["threads"]),
            failed={str(k): str(v) for k, v in data["failed"].items()},
        )


def pair_key(a: str, b: str) -> str:
    """A chain's identity within its thread: its two participants, in either order."""
    return "\x00".join(sorted((a, b)))


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def summarise(found: AnalysisSet) -> RunSummary:
    """The summary of a folder, reading one thread at a time (an unreadable analysis.json is
    recorded in ``found.skipped``; a folder with none readable and no state file is an InputError)."""
    threads = tuple(thread_summary(t) for t in found)
    if found.files and not threads and not (found.root / STATE_FILE).is_file():
        raise found.nothing_read()
    return RunSummary(run_id=run_id(found), run_time=run_time(found.root), threads=threads, failed=dict(found.failed))


def thread_summary(t: AnalysedThread) -> ThreadSummary:
    comments = {c["id"]: c for c in t.comments}
    flag = t.flag_threshold()
    flags: dict[str, Flag] = {}
    for item in t.list_of("attention"):
        priority = number(item.get("priority"), 0.0)
        cid = str(item.get("comment_id"))
        if priority < flag or cid in flags:
            continue
        c = comments.get(cid, {})
        author = c.get("author")
        codes = item.get("codes")
        flags[cid] = Flag(
            comment_id=cid,
            priority=round(priority, 6),
            codes=tuple(str(x) for x in codes) if isinstance(codes, list) else (),
            author=author if isinstance(author, str) else None,
            snippet=snippet(str(c.get("text") or "")),
            fingerprint=fingerprint(str(c.get("text") or "")),
        )
    chains: dict[str, ChainSummary] = {}
    for ch in t.list_of("chains"):
        people = ch.get("participants")
        ids = ch.get("comment_ids")
        if not (isinstance(people, list) and len(people) == 2 and isinstance(ids, list) and ids):
            continue
        chains[pair_key(str(people[0]), str(people[1]))] = ChainSummary(
            participants=(str(people[0]), str(people[1])),
            first_id=str(ids[0]),
            turns=len(ids),
            outcome=str(ch.get("outcome") or ""),
            escalation=round(number(ch.get("escalation"), 0.0), 6),
        )
    tox = [
        number((c.get("toxicity") or {}).get("score"), 0.0) for c in t.comments if isinstance(c.get("toxicity"), dict)
    ]
    return ThreadSummary(
        source=t.source or t.name,
        thread_id=t.thread_id,
        folder=t.name,
        title=t.title,
        comments=len(comments),
        max_toxicity=round(max(tox, default=0.0), 6),
        escalation=round(max((c.escalation for c in chains.values()), default=0.0), 6),
        escalated=sum(1 for c in chains.values() if c.outcome == "escalated"),
        structured=not t.thread.get("structure_inferred", False),
        flags=flags,
        chains=chains,
    )


def run_id(found: AnalysisSet) -> str:
    """Changes whenever an analyze run writes the folder (the state file is rewritten at every
    run's end; a thread's analysis.json whenever it is redone); stays while nothing writes."""
    h = hashlib.sha256()
    state = found.root / STATE_FILE
    try:
        h.update(state.read_bytes())
        h.update(str(state.stat().st_mtime_ns).encode())
    except OSError:
        h.update(b"-")
    for file in found.files:
        try:
            st = file.stat()
        except OSError:
            continue
        h.update(f"\0{file.parent.name}\0{st.st_mtime_ns}\0{st.st_size}".encode())
    return h.hexdigest()


def run_time(root: Path) -> str | None:
    """When the last run wrote the folder: the state file's time, else the newest analysis.json's."""
    times = []
    for p in [root / STATE_FILE, *root.glob("*/analysis.json")]:
        with contextlib.suppress(OSError):
            times.append(p.stat().st_mtime)
            if p.name == STATE_FILE:
                break
    if not times:
        return None
    return datetime.fromtimestamp(max(times), timezone.utc).isoformat(timespec="seconds")


def _thread_json(t: ThreadSummary) -> dict[str, Any]:
    return {
        "source": t.source,
        "thread_id": t.thread_id,
        "folder": t.folder,
        "title": t.title,
        "comments": t.comments,
        "max_toxicity": t.max_toxicity,
        "escalation": t.escalation,
        "escalated": t.escalated,
        "structured": t.structured,
        "flags": [
            {
                "comment_id": f.comment_id,
                "priority": f.priority,
                "codes": list(f.codes),
                "author": f.author,
                "snippet": f.snippet,
                "fingerprint": f.fingerprint,
            }
            for f in t.flags.values()
        ],
        "chains": [
            {
                "participants": list(c.participants),
                "first_id": c.first_id,
                "turns": c.turns,
                "outcome": c.outcome,
                "escalation": c.escalation,
            }
            for c in t.chains.values()
        ],
    }


def _thread_from(d: Mapping[str, Any]) -> ThreadSummary:
    flags = [
        Flag(
            str(f["comment_id"]),
            float(f["priority"]),
            tuple(f["codes"]),
            f.get("author"),
            str(f["snippet"]),
            str(f.get("fingerprint") or ""),
        )
        for f in d["flags"]
    ]
    chains = [
        ChainSummary(
            (str(c["participants"][0]), str(c["participants"][1])),
            str(c["first_id"]),
            int(c["turns"]),
            str(c["outcome"]),
            float(c["escalation"]),
        )
        for c in d["chains"]
    ]
    return ThreadSummary(
        source=str(d["source"]),
        thread_id=str(d["thread_id"]),
        folder=str(d["folder"]),
        title=str(d["title"]),
        comments=int(d["comments"]),
        max_toxicity=float(d["max_toxicity"]),
        escalation=float(d["escalation"]),
        escalated=int(d["escalated"]),
        structured=bool(d.get("structured", True)),
        flags={f.comment_id: f for f in flags},
        chains={pair_key(*c.participants): c for c in chains},
    )


def load_history(path: Path) -> list[RunSummary]:
    """The run summaries a digest kept (oldest first); [] when none or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [RunSummary.from_json(r) for r in data["runs"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return []


def history_json(runs: list[RunSummary], version: int) -> str:
    return json.dumps({"digest_version": version, "runs": [r.to_json() for r in runs]}, ensure_ascii=False) + "\n"

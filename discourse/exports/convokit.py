"""A ConvoKit corpus folder: ``utterances.jsonl``, ``speakers.json``, ``conversations.json``,
``corpus.json``, ``index.json``, in the layout ``convokit.Corpus.dump`` writes (ConvoKit itself is
not needed), loadable with ``convokit.Corpus(filename=FOLDER)`` and by ``discourse analyze FOLDER``.

Every thread is one conversation. Its first utterance is the article (``meta.discourse_role`` =
"article", text = the article, ``meta.title`` and ``meta.thread_id``), as ConvoKit's Reddit corpora
root each conversation at its post; the conversation id is that utterance's id. Comments follow in
document order; a top-level comment replies to the article utterance. Ids: the thread and comment
ids as they are when all are unique across the export; otherwise every conversation is named by its
thread folder and every comment utterance ``<folder>/<comment id>``, its own id kept in
``meta.discourse_id``. A comment with no known author has the speaker ``[unknown]`` and
``meta.author_known`` false. ``timestamp`` is epoch seconds (null when the time is unknown; the
verbatim ``created`` is in meta).

Utterance meta carries our labels: ``toxicity`` (score or null), ``toxicity_labels``,
``toxicity_model``, ``toxicity_evidence``, ``toxicity_evidence_spans``, ``stance`` (label or null),
``stance_scores``, ``stance_target_id`` (a comment id), ``stance_model``, ``stance_evidence``,
``attention_priority``, ``attention_codes``, ``attention_target``, ``attention_reasons``, ``flagged``;
plus what ConvoKit has no field for (``author_known``, ``author_inferred``, ``author_evidence``,
``parent_confidence``, ``parent_evidence``, ``created``) and any plug-in comment layer under its own
name. Conversation meta: ``thread_id``, ``title``, ``folder``, ``source``, ``source_format``,
``structure_inferred``, ``missing``, ``chains`` (as in analysis.json), ``warnings``. Speaker meta:
``comments`` and ``flagged`` counts. ``index.json`` lists every meta key with its Python type name,
as ConvoKit's does. JSON is ASCII-escaped, as ConvoKit writes it.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from discourse.core.errors import OutputError
from discourse.exports.source import AnalysedThread, number
from discourse.formats.convokit import ARTICLE, COMPANIONS, ROLE, UNKNOWN_SPEAKER, UTTERANCES
from discourse.report.atomic import atomic_folder

BASE_KEYS = {
    "id",
    "author",
    "author_inferred",
    "author_evidence",
    "parent_id",
    "parent_confidence",
    "parent_evidence",
    "created",
    "text",
    "toxicity",
    "stance",
}


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _epoch(created: Any) -> int | float | None:
    """ISO 8601 -> epoch seconds (a time without zone is read as UTC); None when unreadable."""
    if not isinstance(created, str) or not created:
        return None
    try:
        dt = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    ts = dt.timestamp()
    return int(ts) if ts.is_integer() else ts


def needs_prefix(threads: Iterable[AnalysedThread]) -> bool:
    """Do the thread and comment ids collide anywhere in the export (so every utterance id must be
    prefixed by its thread folder's name)?"""
    seen: set[str] = set()
    for t in threads:
        for uid in (t.thread_id, *(c["id"] for c in t.comments)):
            if uid in seen:
                return True
            seen.add(uid)
    return False


def corpus_files(threads: Iterable[AnalysedThread]) -> dict[str, str]:
    """The five corpus files as text (file name -> content); ``threads`` is iterated twice."""
    sinks = {name: io.StringIO() for name in (UTTERANCES, *COMPANIONS)}
    write_corpus_files(threads, sinks)
    return {name: sink.getvalue() for name, sink in sinks.items()}


def write_corpus_files(threads: Iterable[AnalysedThread], sinks: Mapping[str, TextIO]) -> tuple[int, int]:
    """Write the five files into ``sinks`` (file name -> text stream), one thread at a time;
    ``threads`` is iterated twice (the ids first). Returns (threads, comments)."""
    prefixed = needs_prefix(threads)
    speakers: dict[str, Counter[str]] = {UNKNOWN_SPEAKER: Counter()}
    utt_index: dict[str, list[str]] = {}
    conv_index: dict[str, list[str]] = {}
    out, convs = sinks[UTTERANCES], sinks["conversations.json"]
    n_threads = n_comments = 0
    version = ""
    convs.write("{")
    for t in threads:
        conv = t.name if prefixed else t.thread_id

        def uid(cid: str, conv: str = conv) -> str:
            return f"{conv}/{cid}" if prefixed else cid

        items = {str(a.get("comment_id")): a for a in t.list_of("attention")}
        flag = t.flag_threshold()
        article = {ROLE: ARTICLE, "title": str(t.thread.get("title") or ""), "thread_id": t.thread_id}
        lines = [_utterance(conv, conv, str(t.thread.get("article") or ""), UNKNOWN_SPEAKER, None, None, article)]
        for c in t.comments:
            meta = _comment_meta(c, items.get(c["id"]), flag)
            if uid(c["id"]) != c["id"]:
                meta = {"discourse_id": c["id"], **meta}
            author = c.get("author")
            speaker = author if isinstance(author, str) else UNKNOWN_SPEAKER
            parent = c.get("parent_id")
            reply = uid(parent) if isinstance(parent, str) else conv
            lines.append(_utterance(uid(c["id"]), conv, c["text"], speaker, reply, _epoch(c.get("created")), meta))
            counts = speakers.setdefault(speaker, Counter())
            counts["comments"] += 1
            counts["flagged"] += int(bool(meta["flagged"]))
        for line in lines:
            _index(utt_index, line["meta"])
            out.write(json.dumps(line) + "\n")
        cmeta = _conversation_meta(t)
        _index(conv_index, cmeta)
        convs.write((", " if n_threads else "") + json.dumps(conv) + ": " + json.dumps({"meta": cmeta, "vectors": []}))
        n_threads += 1
        n_comments += len(t.comments)
        version = version or str(t.data.get("schema_version") or "")
    convs.write("}")
    speaker_json: dict[str, dict[str, Any]] = {
        s: {"meta": {"comments": n["comments"], "flagged": n["flagged"]}, "vectors": []} for s, n in speakers.items()
    }
    corpus_meta = {
        "generator": "discourse export --to convokit",
        "schema_version": version,
        "threads": n_threads,
        "comments": n_comments,
    }
    spk_index: dict[str, list[str]] = {}
    for data in speaker_json.values():
        _index(spk_index, data["meta"])
    index = {
        "utterances-index": utt_index,
        "speakers-index": spk_index,
        "conversations-index": conv_index,
        "overall-index": _index({}, corpus_meta),
        "version": 1,
        "vectors": [],
    }
    sinks["speakers.json"].write(json.dumps(speaker_json))
    sinks["corpus.json"].write(json.dumps(corpus_meta))
    sinks["index.json"].write(json.dumps(index))
    return n_threads, n_comments


def _utterance(
    uid: str, conv: str, text: str, speaker: str, reply: str | None, ts: int | float | None, meta: dict[str, Any]
) -> dict[str, Any]:
    # the key order of ConvoKit's own dump_utterances
    return {
        "id": uid,
        "conversation_id": conv,
        "text": text,
        "speaker": speaker,
        "meta": meta,
        "reply-to": reply,
        "timestamp": ts,
        "vectors": [],
    }


def _comment_meta(c: Mapping[str, Any], item: Mapping[str, Any] | None, flag: float) -> dict[str, Any]:
    tox, st = _obj(c.get("toxicity")), _obj(c.get("stance"))
    att = item or {}
    priority = number(att.get("priority"), 0.0) if item is not None else None
    meta: dict[str, Any] = {
        "toxicity": tox.get("score"),
        "toxicity_labels": dict(_obj(tox.get("labels"))),
        "toxicity_model": tox.get("model"),
        "toxicity_evidence": list(tox.get("evidence") or []),
        "toxicity_evidence_spans": list(tox.get("evidence_spans") or []),
        "stance": st.get("label"),
        "stance_scores": dict(_obj(st.get("scores"))),
        "stance_target_id": st.get("target_id"),
        "stance_model": st.get("model"),
        "stance_evidence": list(st.get("evidence") or []),
        "attention_priority": priority,
        "attention_codes": list(att.get("codes") or []),
        "attention_target": att.get("target"),
        "attention_reasons": list(att.get("reasons") or []),
        "flagged": priority is not None and priority >= flag,
        "author_known": isinstance(c.get("author"), str),
        "author_inferred": bool(c.get("author_inferred")),
        "author_evidence": c.get("author_evidence"),
        "parent_confidence": c.get("parent_confidence"),
        "parent_evidence": list(c.get("parent_evidence") or []),
        "created": c.get("created"),
    }
    for key, value in c.items():  # plug-in comment layers
        if key not in BASE_KEYS and key not in meta:
            meta[key] = value
    return meta


def _conversation_meta(t: AnalysedThread) -> dict[str, Any]:
    return {
        "thread_id": t.thread_id,
        "title": str(t.thread.get("title") or ""),
        "folder": t.name,
        "source": t.source,
        "source_format": t.thread.get("source_format"),
        "structure_inferred": t.thread.get("structure_inferred"),
        "missing": t.thread.get("missing") or [],
        "chains": t.list_of("chains"),
        "warnings": t.data.get("warnings") or [],
    }


def _index(index: dict[str, list[str]], meta: Mapping[str, Any]) -> dict[str, list[str]]:
    """Record each meta key's type as ConvoKit does (``["<class 'float'>"]``), from its first
    non-null value."""
    for key, value in meta.items():
        if key not in index or (index[key] == _NONE and value is not None):
            index[key] = [str(type(value))]
    return index


_NONE = [str(type(None))]


def check_target(target: Path) -> None:
    """Refuse a file, or a folder holding anything but an earlier corpus (never overwritten)."""
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} is a file; a ConvoKit corpus is a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / UTTERANCES).is_file():
        raise OutputError(f"{target} holds other files and is not a ConvoKit corpus; choose another --out")


def write_into(threads: Iterable[AnalysedThread], folder: Path) -> tuple[int, int]:
    """Write the five files into ``folder``; return (threads, comments)."""
    names = (UTTERANCES, *COMPANIONS)
    with contextlib.ExitStack() as stack:
        sinks = {n: stack.enter_context((folder / n).open("w", encoding="utf-8", newline="")) for n in names}
        return write_corpus_files(threads, sinks)


def write_corpus(threads: Iterable[AnalysedThread], out: str | Path) -> Path:
    """Write the corpus folder ``out`` whole: built hidden beside it and renamed into place (an
    earlier corpus there is replaced; a folder holding anything else is refused)."""
    target = Path(out)
    check_target(target)
    try:
        with atomic_folder(target) as tmp:
            write_into(threads, tmp)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target

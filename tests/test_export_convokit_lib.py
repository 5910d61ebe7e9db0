"""The exported corpus as ConvoKit itself sees it: ``convokit.Corpus(filename=...)`` loads it, every
conversation passes ConvoKit's integrity check, and ConvoKit dumps it back byte for byte (only
index.json's version goes up, as on every ConvoKit dump).

ConvoKit does not install beside our stack (it pins h5py and pulls spaCy), so the check runs in
a subprocess: the interpreter in $DISCOURSE_CONVOKIT_PYTHON, or this one if it can import convokit;
otherwise the test skips. Checked with convokit 5.0.0 in a separate venv (pip install --no-deps
convokit, then numpy pandas pymongo pyyaml tqdm dill joblib msgpack-numpy scipy requests scikit-learn).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from discourse.exports.convokit import write_corpus
from discourse.exports.source import AnalysedThread

CHECK = r"""
import json, sys, pathlib
from convokit import Corpus
src, again = sys.argv[1], sys.argv[2]
corpus = Corpus(filename=src)
out = {"utterances": len(list(corpus.iter_utterances())), "conversations": [], "same": {}}
for convo in corpus.iter_conversations():
    out["conversations"].append([convo.id, convo.meta["title"], bool(convo.check_integrity(verbose=False))])
insult = corpus.get_utterance("t1/4")
out["insult"] = [insult.speaker.id, insult.reply_to, insult.meta["flagged"]]
corpus.dump(pathlib.Path(again).name, base_path=str(pathlib.Path(again).parent))
for name in ("utterances.jsonl", "speakers.json", "conversations.json", "corpus.json"):
    out["same"][name] = (pathlib.Path(src) / name).read_bytes() == (pathlib.Path(again) / name).read_bytes()
a = json.loads((pathlib.Path(src) / "index.json").read_text())
b = json.loads((pathlib.Path(again) / "index.json").read_text())
out["index_version"] = [a.pop("version"), b.pop("version")]
out["same"]["index.json"] = a == b
print(json.dumps(out))
"""


def _python() -> str:
    given = os.environ.get("DISCOURSE_CONVOKIT_PYTHON")
    if given:
        return given
    if importlib.util.find_spec("convokit") is not None:
        return sys.executable
    pytest.skip("convokit is not installed (set DISCOURSE_CONVOKIT_PYTHON to a Python that has it)")


def _thread(
    tid: str, comments: list[tuple[str, str | None, str | None, str]], flagged: str | None = None
) -> AnalysedThread:
    data = {
        "schema_version": "1.1",
        "thread": {"id": tid, "title": f"Thread {tid}", "article": "An article.", "source_format": "jsonl"},
        "comments": [
            {
                "id": i,
                "author": a,
                "author_inferred": False,
                "author_evidence": None,
                "parent_id": p,
                "parent_confidence": 1.0,
                "parent_evidence": [],
                "created": "2024-05-01T10:00:00+00:00",
                "text": t,
                "toxicity": {"score": 0.99 if i == flagged else 0.01, "labels": {}, "model": "m"},
            }
            for i, p, a, t in comments
        ],  # fmt: skip
        "attention": [{"comment_id": flagged, "priority": 0.9, "codes": ["INSULT"], "target": "commenter"}]
        if flagged
        else [],
    }
    return AnalysedThread(Path(f"/x/{tid}"), data, {})


def test_convokit_loads_checks_and_redumps_our_corpus_unchanged(tmp_path: Path) -> None:
    python = _python()
    threads = [
        _thread("t1", [("1", None, "Ann", "Hi\r\nthere ☕"), ("2", "1", None, "who?"), ("3", "2", "Bob", "me"),
                       ("4", "3", "Ann", "You idiot")], flagged="4"),
        _thread("t2", [("1", None, "Zed", "=1+1"), ("2", "1", "Ann", "two")]),
    ]  # fmt: skip
    corpus = write_corpus(threads, tmp_path / "corpus")
    done = subprocess.run(
        [python, "-c", CHECK, str(corpus), str(tmp_path / "again")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["utterances"] == 6 + 2
    assert out["conversations"] == [["t1", "Thread t1", True], ["t2", "Thread t2", True]]
    assert out["insult"] == ["Ann", "t1/3", True]
    assert out["same"] == dict.fromkeys(
        ["utterances.jsonl", "speakers.json", "conversations.json", "corpus.json", "index.json"], True
    )
    assert out["index_version"] == [1, 2]

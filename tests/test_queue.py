"""``discourse queue OUT_DIR``: the flagged comments of many analysed threads, ranked across threads,
with codes, reasons and links into each thread's report; HTML and JSON written atomically."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from discourse.batch import run_batch
from discourse.cli import main
from discourse.commands.queue import build_queue, write_queue
from discourse.core.config import load_config
from discourse.core.errors import InputError

THREAD = """{title}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

{reply}

Ann Lee

Bob thank you, but I still disagree.
"""


def _analysis(tid: str, title: str, items: list[tuple[str, float, list[str]]], flag: float = 0.5) -> dict:
    comments = [
        {"id": cid, "author": f"<b>{cid}</b>", "text": f"text of {cid} <script>x</script>"} for cid, _, _ in items
    ]
    attention = [
        {"comment_id": cid, "priority": p, "codes": codes, "target": None, "reasons": [f"{c}: because" for c in codes]}
        for cid, p, codes in items
    ]
    config = {"stages": {"attention.v1": {"flag_threshold": flag, "watch_threshold": 0.2, "max_items": 25}}}
    return {"thread": {"id": tid, "title": title}, "comments": comments, "attention": attention, "config": config}


def _write(out: Path, folder: str, data: dict | str, report: bool = True) -> None:
    (out / folder).mkdir(parents=True)
    text = data if isinstance(data, str) else json.dumps(data)
    (out / folder / "analysis.json").write_text(text, encoding="utf-8")
    if report:
        (out / folder / "report.html").write_text("<html></html>", encoding="utf-8")


def test_ranks_flagged_comments_across_threads(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write(out, "a-1", _analysis("a", "Thread A", [("x1", 0.9, ["THREAT"]), ("x2", 0.3, ["PROFANITY"])]))
    _write(out, "b-2", _analysis("b", "Thread B", [("y 1/é", 0.95, ["INSULT", "TOXIC"]), ("y2", 0.6, ["TOXIC"])]))
    _write(
        out, "c-3", _analysis("c", "Thread C", [("z1", 0.6, ["TOXIC"])], flag=0.7), report=False
    )  # not flagged there
    _write(out, "d-4", "{not json")
    _write(out, ".discourse-tmp.e", _analysis("e", "hidden", [("h", 1.0, ["THREAT"])]))  # a half-written folder
    q = build_queue(out)
    assert [(e.folder, e.comment_id) for e in q.entries] == [("b-2", "y 1/é"), ("a-1", "x1"), ("b-2", "y2")]
    assert [e.rank for e in q.entries] == [1, 2, 3] and q.flagged == 3 and q.threads == 3
    first = q.entries[0]
    assert first.codes == ("INSULT", "TOXIC") and first.reasons == ("INSULT: because", "TOXIC: because")
    assert first.thread_title == "Thread B" and first.author == "<b>y 1/é</b>"
    assert first.href == "b-2/report.html#c-y~20~1~2f~~e9~"  # discourse.report.html.anchor
    assert [p for p, _ in q.skipped] == ["d-4/analysis.json"]
    assert [e.comment_id for e in build_queue(out, limit=1).entries] == ["y 1/é"]

    html_path, json_path = write_queue(q, out)
    html = html_path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script" not in html and "<b>y" not in html
    assert "&lt;script&gt;" in html and 'href="b-2/report.html#c-y~20~1~2f~~e9~"' in html
    assert "INSULT" in html and "d-4/analysis.json" in html and "</a> by <span" in html
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["flagged"] == 3 and data["shown"] == 3 and data["threads"] == 3
    assert data["items"][0]["codes"] == ["INSULT", "TOXIC"] and data["items"][0]["rank"] == 1
    assert set(data["items"][0]) == {
        "rank", "priority", "codes", "target", "reasons", "thread_id", "thread_title", "folder",
        "comment_id", "author", "snippet", "href",
    }  # fmt: skip
    assert not list(out.glob(".queue.*"))  # no temporary files left


def test_an_older_analysis_without_codes_still_queues(tmp_path: Path) -> None:
    data = _analysis("a", "A", [("x", 0.8, [])])
    del data["attention"][0]["codes"], data["attention"][0]["target"], data["config"]
    _write(tmp_path, "a", data)
    (e,) = build_queue(tmp_path).entries
    assert e.codes == () and e.target is None and e.priority == 0.8


def test_no_analysed_threads_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no analysed threads"):
        build_queue(tmp_path)
    r = CliRunner().invoke(main, ["queue", str(tmp_path)])
    assert r.exit_code == 2 and r.output.startswith("error: no analysed threads in")


def test_queue_over_a_batch_run(tmp_path: Path, tiny_config: dict) -> None:
    src = tmp_path / "threads"
    src.mkdir()
    replies = {
        "stadium": "Ann, you are a stupid idiot and a moron.",
        "bridge": "Ann, I disagree. The bridge plan brings jobs.",
        "library": "Damn, the library plan is a bloody mess.",
    }
    for topic, reply in replies.items():
        text = THREAD.format(title=f"Vote on the {topic}", topic=topic, reply=reply)
        (src / f"{topic}.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    res = run_batch([src], out, load_config(tiny_config))
    assert len(res.processed) == 3 and not res.failed

    r = CliRunner().invoke(main, ["queue", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "queue.html").is_file() and (out / "queue.json").is_file()
    data = json.loads((out / "queue.json").read_text(encoding="utf-8"))
    assert data["threads"] == 3 and data["flagged"] >= 1
    top = data["items"][0]
    assert top["thread_title"] == "Vote on the stadium" and top["snippet"].startswith("Ann, you are a stupid idiot")
    assert "INSULT" in top["codes"] and top["target"] == "commenter" and top["author"] == "Bob Ray"
    assert all(reason.split(":")[0] in top["codes"] for reason in top["reasons"])
    titles = {item["thread_title"] for item in data["items"]}
    assert titles == {"Vote on the stadium"}  # civil disagreement, and swearing at no one, are not flagged
    assert data["flagged"] == 1
    # the link opens the thread's report at that comment
    folder, frag = top["href"].split("/report.html#")
    report = (out / folder / "report.html").read_text(encoding="utf-8")
    assert f'id="{frag}"' in report
    lines = r.output.strip().splitlines()
    assert lines[0].split()[:3] == ["#", "prio", "codes"] and "stupid idiot" in lines[1]
    assert re.match(r"\d+ flagged in 3 threads; queue: ", lines[-1])

    r = CliRunner().invoke(main, ["queue", str(out), "--json", "--limit", "1"])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.output)
    assert printed["shown"] == 1 and printed["items"][0]["href"] == top["href"]
    assert CliRunner().invoke(main, ["queue", str(out), "--limit", "0"]).exit_code == 2  # usage error
    again = run_batch([src], out, load_config(tiny_config))  # the queue files do not disturb a rerun
    assert len(again.skipped) == 3 and not again.failed and (out / "queue.json").is_file()

"""Many threads: reruns skip unchanged inputs, a crashed run resumes, bad files fail alone;
the CLI is a thin, documented layer with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from discourse.batch import STATE_FILE, run_batch
from discourse.cli import main
from discourse.core.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]

THREAD = """{title}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

Ann, I disagree. The {topic} plan brings jobs.

Ann Lee

Bob thank you, but I still disagree.
"""


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "threads"
    d.mkdir()
    for k, topic in enumerate(["stadium", "bridge", "library"]):
        (d / f"t{k}.txt").write_text(THREAD.format(title=f"Vote on the {topic}", topic=topic), encoding="utf-8")
    return d


@pytest.fixture()
def cfg(tiny_config: dict) -> Config:
    return load_config(tiny_config)


def test_rerun_skips_unchanged_and_redoes_changed(tmp_path: Path, cfg: Config, tiny_config: dict) -> None:
    src, out = _folder(tmp_path), tmp_path / "out"
    first = run_batch([src], out, cfg)
    assert len(first.processed) == 3 and not first.failed
    folders = {Path(e["source"]).stem: out / e["folder"] for e in first.entries}
    assert sorted(folders) == ["t0", "t1", "t2"]
    for k in range(3):
        folder = folders[f"t{k}"]
        assert folder.name.startswith(f"t{k}-")  # readable stem, then a hash of source and thread id
        data = json.loads((folder / "analysis.json").read_text())
        assert len(data["comments"]) == 3 and len(data["chains"]) == 1
        assert (folder / "report.html").exists() and (folder / "graph.graphml").exists()
    index = (out / "index.html").read_text()
    assert all(f"{folder.name}/report.html" in index for folder in folders.values())

    again = run_batch([src], out, cfg)
    assert again.processed == [] and len(again.skipped) == 3

    (src / "t1.txt").write_text(THREAD.format(title="Vote on the park", topic="park"), encoding="utf-8")
    third = run_batch([src], out, cfg)
    assert [Path(p).name for p in third.processed] == ["t1.txt"] and len(third.skipped) == 2

    changed = load_config({**tiny_config, "stages": {**tiny_config["stages"], "chains.v1": {"min_replies": 3}}})
    fourth = run_batch([src], out, changed)
    assert len(fourth.processed) == 3  # a config change invalidates every thread


def test_crashed_run_resumes_without_redoing_finished_threads(
    tmp_path: Path, cfg: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import discourse.batch as batch

    src, out = _folder(tmp_path), tmp_path / "out"
    real = batch._write
    calls: list[tuple] = []

    def crash_on_third(*args):  # type: ignore[no-untyped-def]
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the machine goes down mid-batch
        return real(*args)

    monkeypatch.setattr(batch, "_write", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_batch([src], out, cfg)
    state = json.loads((out / STATE_FILE).read_text())
    assert sum(1 for s in state.values() if s["status"] == "ok") == 2
    assert not list(out.glob("t2-*/analysis.json"))

    monkeypatch.setattr(batch, "_write", real)
    resumed = run_batch([src], out, cfg)
    assert [Path(p).name for p in resumed.processed] == ["t2.txt"] and len(resumed.skipped) == 2


def test_a_model_error_stops_the_batch_instead_of_failing_every_file(tmp_path: Path, tiny_config: dict) -> None:
    from discourse.core.errors import ModelError

    stages = {**tiny_config["stages"], "toxicity.v1": {"model": {"name": "no-such-model"}}}
    broken = load_config({**tiny_config, "stages": stages})
    with pytest.raises(ModelError, match="no-such-model"):
        run_batch([_folder(tmp_path)], tmp_path / "out", broken)


def test_a_bad_file_fails_alone(tmp_path: Path, cfg: Config) -> None:
    src, out = _folder(tmp_path), tmp_path / "out"
    (src / "junk.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    (src / "empty.txt").write_text("", encoding="utf-8")
    res = run_batch([src], out, cfg)
    assert len(res.processed) == 3
    assert set(map(lambda p: Path(p).name, res.failed)) == {"junk.txt", "empty.txt"}
    assert all("\n" not in msg for msg in res.failed.values())
    assert "failed" in (out / "index.html").read_text()


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_analyze_and_summary_line(tmp_path: Path, tiny_config: dict) -> None:
    import yaml

    src = _folder(tmp_path)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["analyze", str(src), "--out", str(out), "--config", str(conf), "-q"])
    assert r.exit_code == 0, r.output
    assert "3 analysed, 0 unchanged, 0 failed" in r.output
    r = CliRunner().invoke(main, ["analyze", str(src), "--out", str(out), "--config", str(conf), "-q"])
    assert "0 analysed, 3 unchanged" in r.output


def test_cli_bad_input_is_one_line_and_exit_code(tmp_path: Path, tiny_config: dict) -> None:
    import yaml

    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02" * 1000)
    conf = tmp_path / "tiny.yaml"
    conf.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    r = CliRunner().invoke(main, ["analyze", str(bad), "--out", str(tmp_path / "o"), "--config", str(conf)])
    assert r.exit_code == 2
    assert "Traceback" not in r.output
    assert any(line.startswith("failed:") and "binary" in line for line in r.output.splitlines())


def test_cli_bad_config_is_a_one_line_error(tmp_path: Path) -> None:
    conf = tmp_path / "c.yaml"
    conf.write_text("stagez: {}\n", encoding="utf-8")
    src = _folder(tmp_path)
    r = CliRunner().invoke(main, ["analyze", str(src), "--out", str(tmp_path / "o"), "--config", str(conf)])
    assert r.exit_code == 3 and r.output.strip().startswith(
        "error: config: unknown key 'stagez' (did you mean 'stages'?)"
    )


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, cmd in main.commands.items():
        r = CliRunner().invoke(main, [name, "--help"])
        assert r.exit_code == 0 and cmd.help
        assert f"discourse {name}" in readme, f"README does not mention `discourse {name}`"


def test_models_command_verifies_checksums() -> None:
    r = CliRunner().invoke(main, ["models", "--json"])
    assert r.exit_code == 0
    rows = json.loads(r.output)
    assert {"tox-block-0.1.2", "reply-links-v1"} <= {x["name"] for x in rows}
    assert all(x["status"] == "ok" for x in rows)


def test_index_lists_threads_needing_attention_first() -> None:
    from discourse.report.html import render_index

    entries = [
        {"folder": "calm", "title": "Calm", "comments": 5, "flagged": 0, "max_toxicity": 0.01, "status": "ok"},
        {"folder": "", "title": "Broken", "status": "failed", "error": "x.txt is empty"},
        {"folder": "hot", "title": "Hot <b>", "comments": 9, "flagged": 3, "max_toxicity": 0.97, "status": "ok"},
    ]
    html = render_index(entries)
    assert html.index("Hot &lt;b&gt;") < html.index("Calm") < html.index("Broken")
    assert 'href="./hot/report.html"' in html and "x.txt is empty" in html


def test_index_entries_carry_date_and_format(tmp_path: Path, cfg: Config) -> None:
    import json as _json

    src = tmp_path / "t.jsonl"
    rows = [
        {
            "thread_id": "t",
            "title": "Same title",
            "id": "1",
            "author": "Ann",
            "text": "Hello.",
            "created": "2024-05-02",
        },
        {
            "thread_id": "t",
            "title": "Same title",
            "id": "2",
            "parent_id": "1",
            "author": "Bob",
            "text": "Hi Ann.",
            "created": "2024-05-01",
        },
    ]
    src.write_text("".join(_json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    [entry] = run_batch([src], tmp_path / "out", cfg).entries
    assert entry["created"].startswith("2024-05-01") and entry["source_format"] == "jsonl"  # the earliest comment
    assert "2024-05-01" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")

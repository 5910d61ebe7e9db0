"""Which files a folder stands for (issue 7, cases 3 and 5): an output folder is never read back
as input, .tsv files are inputs, and a folder with nothing to read is an error, not "0 analysed"."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from discourse.batch import expand_inputs, run_batch
from discourse.cli import main
from discourse.core.config import Config, load_config

THREAD = """Vote on the {topic}

An article about the {topic} vote.


Ann Lee

I think the {topic} plan is a waste of public money.

Bob Ray

Ann, I disagree. The {topic} plan brings jobs.
"""

TSV = "id\tparent_id\tauthor\ttext\n1\t\tAnn\tThe bridge is a waste.\n2\t1\tBob\tAnn, I disagree.\n"


@pytest.fixture()
def cfg(tiny_config: dict) -> Config:
    return load_config(tiny_config)


@pytest.fixture()
def conf(tmp_path: Path, tiny_config: dict) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny_config), encoding="utf-8")
    return path


def test_out_inside_the_input_folder_is_not_read_back(tmp_path: Path, cfg: Config) -> None:
    src = tmp_path / "threads"
    src.mkdir()
    (src / "a.txt").write_text(THREAD.format(topic="stadium"), encoding="utf-8")
    out = src / "out"
    first = run_batch([src], out, cfg)
    assert [Path(p).name for p in first.processed] == ["a.txt"]
    second = run_batch([src], out, cfg)
    assert second.processed == [] and not second.failed and [Path(p).name for p in second.skipped] == ["a.txt"]
    assert len(list(out.glob("*/analysis.json"))) == 1


def test_any_folder_holding_a_state_file_is_skipped(tmp_path: Path, cfg: Config) -> None:
    src = tmp_path / "threads"
    src.mkdir()
    (src / "a.txt").write_text(THREAD.format(topic="stadium"), encoding="utf-8")
    old = src / "old-results"
    run_batch([src], old, cfg)  # an earlier run's output, now inside the input folder
    assert expand_inputs([src], exclude=[tmp_path / "elsewhere"]) == [src / "a.txt"]
    [thread_folder] = [p.parent for p in old.glob("*/analysis.json")]
    assert expand_inputs([thread_folder]) == []  # a thread folder of an output is not input either


def test_tsv_files_in_a_folder_are_inputs(tmp_path: Path, cfg: Config) -> None:
    src = tmp_path / "threads"
    src.mkdir()
    (src / "rows.tsv").write_text(TSV, encoding="utf-8")
    assert expand_inputs([src]) == [src / "rows.tsv"]


def test_an_empty_folder_is_an_error_not_zero_analysed(tmp_path: Path, conf: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.pdf").write_bytes(b"%PDF-1.4")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["analyze", str(empty), "--out", str(out), "--config", str(conf)])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no input files found in") and str(empty) in lines[0]
    assert not out.exists()  # nothing was started


def test_an_output_folder_given_as_input_is_refused_with_the_reason(tmp_path: Path, cfg: Config) -> None:
    from discourse.core.errors import InputError

    src = tmp_path / "threads"
    src.mkdir()
    (src / "a.txt").write_text(THREAD.format(topic="stadium"), encoding="utf-8")
    out = tmp_path / "out"
    run_batch([src], out, cfg)
    with pytest.raises(InputError, match="holds discourse output, never read as input"):
        run_batch([out], tmp_path / "again", cfg)
    assert not (tmp_path / "again").exists()

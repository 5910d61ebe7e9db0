"""``discourse export ANALYSIS_DIR --to parquet|convokit|gexf|jsonl``: a thin layer over
:func:`discourse.exports.run.export` (docs/exports.md)."""

from __future__ import annotations

import click

from discourse.commands import domain_errors
from discourse.exports.run import DEFAULT_NAMES, FORMATS


@click.command("export")
@click.argument("analysis_dir", type=click.Path(exists=True))
@click.option("--to", "to", type=click.Choice(FORMATS), required=True, help="The export format.")
@click.option(
    "--out",
    "out",
    type=click.Path(),
    help="File (a folder for convokit) to write; default: "
    + ", ".join(f"{name} for {fmt}" for fmt, name in DEFAULT_NAMES.items())
    + " inside ANALYSIS_DIR.",
)
@domain_errors
def export_command(analysis_dir: str, to: str, out: str | None) -> None:
    """Export the threads analysed into ANALYSIS_DIR (an output folder, or one thread folder) for
    research tools: Parquet or JSONL (one row per comment), GEXF (the reply graph, for Gephi) or a
    ConvoKit corpus folder (which `discourse analyze` reads back)."""
    from discourse.exports.run import export

    res = export(analysis_dir, to, out)
    click.echo(
        f"{res.comments} comment{'s' if res.comments != 1 else ''} in {res.threads}"
        f" thread{'s' if res.threads != 1 else ''} -> {res.path}"
    )
    for path, why in res.skipped:
        click.echo(f"skipped: {path}: {why}", err=True)

"""``discourse evaluate structure PATH...``: reply-structure recovery on threads with known trees."""

from __future__ import annotations

import json
from pathlib import Path

import click

from discourse.commands import domain_errors


@click.command("structure")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--model", default="reply-links-v2", show_default=True, help="Reply-link model (shipped name).")
@click.option("--drop", default=0.2, show_default=True, type=float, help="Share of author lines dropped.")
@click.option("--seed", default=0, show_default=True, type=int, help="Which author lines are dropped.")
@click.option("--beam", default=8, show_default=True, type=int, help="Hypotheses kept by the decoder (1 = greedy).")
@click.option(
    "--layout",
    type=click.Choice(["reference", "disqus", "reddit", "forum"]),
    default="reference",
    show_default=True,
    help="Page layout the threads are rendered in (configs/layouts; parsed back with auto-detection).",
)
@click.option(
    "--markers",
    default=0.0,
    show_default=True,
    type=float,
    help="Share of replies carrying an explicit marker ('@X' line, 'X wrote:' quote, forum 'in reply to X').",
)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@domain_errors
def evaluate_structure(
    paths: tuple[str, ...],
    model: str,
    drop: float,
    seed: int,
    beam: int,
    as_json: bool,
    layout: str = "reference",
    markers: float = 0.0,
) -> None:
    """Render threads with known reply links (exports in PATHS: files or folders) flat, rebuild them,
    and print parent accuracy overall / by depth / by thread kind, top-level comments found, dropped
    authors named and their precision, link ECE, and both baselines."""
    from discourse.train.structure_run import evaluate_structure as run
    from discourse.train.structure_run import format_summary

    r = run(
        [Path(p) for p in paths],
        model=model,
        drop=drop,
        seed=seed,
        beam=max(1, beam),
        layout=layout,
        markers=markers,
    )
    click.echo(json.dumps(r, indent=2, default=float) if as_json else format_summary(r))

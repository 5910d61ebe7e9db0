"""``discourse evaluate stance [FILE.csv] [--model NAME|PATH]``: a stance pair model on held-out pairs;
``discourse train stance``: retrain the shipped pair model (:mod:`discourse.train.stance_pair`)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import click

from discourse.commands import domain_errors, write_page


def report_stem(model: str) -> str:
    """``stance-eval-<model name>`` (a folder's name for a path), safe as a file name."""
    name = Path(model).name if Path(model).is_dir() else model
    return "stance-eval-" + (re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model")


@click.command("stance")
@click.argument("csv_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--model", default="stance-pair-minilm-v1", show_default=True, help="Pair model: registered name or folder."
)
@click.option(
    "--data",
    type=click.Path(file_okay=False),
    help="Folder of the labelled sets (default: ../shared/data/labeled); ignored with FILE.csv.",
)
@click.option("--reports", type=click.Path(file_okay=False), help="Where the .md/.json go (default: reports/).")
@click.option("--threads", type=int, default=0, help="Torch threads (default: torch's).")
@click.option(
    "--backend",
    type=click.Choice(["auto", "torch", "openvino"]),
    default="auto",
    show_default=True,
    help="Where the pair pass runs (auto: as the stage chooses).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@domain_errors
def evaluate_stance(
    csv_file: str | None,
    model: str,
    data: str | None,
    reports: str | None,
    threads: int,
    backend: str,
    as_json: bool,
) -> None:
    """Score a stance pair model on the card's held-out groups (DEBAGREEMENT, subreddit-agreement,
    RumourEval Reddit and Twitter; or on FILE.csv with columns parent,reply,label): macro-F1 per
    source, per-class precision/recall/F1, query F1, confusion, ECE and the model pass's cost; writes
    reports/stance-eval-<model>.md and .json (each atomically)."""
    from discourse.train import REPO
    from discourse.train.stance_data import DEFAULT_ROOT
    from discourse.train.stance_pair_eval import csv_rows, evaluate, held_out_rows, markdown, predict, summary

    if threads:
        import torch

        torch.set_num_threads(threads)
    test = csv_rows(Path(csv_file)) if csv_file else held_out_rows(Path(data) if data else DEFAULT_ROOT)
    result = evaluate(predict(model, test, backend), test)
    words = [*([csv_file] if csv_file else []), "--model", model]
    words += ["--data", data] if data and not csv_file else []
    words += ["--threads", str(threads)] if threads else []
    words += ["--backend", backend] if backend != "auto" else []
    result["command"] = "discourse evaluate stance " + shlex.join(words)
    stem = report_stem(model)
    out = Path(reports) if reports else REPO / "reports"
    md, js = write_page(
        out, "stance evaluation", f"{stem}.md", markdown(result, result["command"]), f"{stem}.json", result
    )
    click.echo(json.dumps(result, indent=2) if as_json else summary(result))
    if not as_json:
        click.echo(f"wrote {md} and {js}")


@click.command("stance")
@click.option(
    "--data", type=click.Path(exists=True, file_okay=False), help="The labelled data (../shared/data/labeled)."
)
@click.option(
    "--work",
    type=click.Path(file_okay=False),
    help="Checkpoints; a rerun resumes after the last stage done (default: ~/.cache/discourse/<model>).",
)
@click.option("--out", type=click.Path(file_okay=False), help="The model folder to write (default: the shipped one).")
@click.option("--reports", type=click.Path(file_okay=False), help="Where stance.md goes (default: reports/).")
@click.option("--threads", type=int, default=2, show_default=True, help="Torch threads.")
@click.option("--limit", type=int, default=0, help="Smoke test: at most this many rows per dataset (0: all).")
@click.option("--no-save", is_flag=True, help="Train and print the held-out scores; write no model, card or report.")
@domain_errors
def train_stance(
    data: str | None,
    work: str | None,
    out: str | None,
    reports: str | None,
    threads: int,
    limit: int,
    no_save: bool,
) -> None:
    """Retrain the stance cross-encoder stance-pair-minilm-v1 from ../shared/data (seeded: the same data,
    thread count and machine give the same weights): stage A on the pair and NLI sets, stage B on the
    training groups of the Reddit and Twitter agreement sets, then its held-out groups scored, the
    weights written fp16 with registry entry, model card and the cross-encoder section of
    reports/stance.md. About an hour or
    more on two cores; a rerun with the same --work resumes."""
    from discourse.train.stance_pair import main as run

    argv = ["--threads", str(threads), "--limit", str(limit)]
    for flag, value in (("--data", data), ("--work", work), ("--out", out), ("--reports", reports)):
        argv += [flag, value] if value else []
    if no_save:
        argv.append("--no-save")
    run(argv)

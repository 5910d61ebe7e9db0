"""``discourse train toxicity``, ``discourse train toxicity-spans``, ``discourse evaluate toxicity FILE.csv`` and
``discourse calibrate FILE.csv``: thin commands over :mod:`discourse.train.toxicity_train`,
:mod:`discourse.train.toxicity_spans_fit` and :mod:`discourse.train.toxicity_site`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from discourse.commands import domain_errors


@click.group()
def train() -> None:
    """Retrain a shipped model from ../shared/data (deterministic)."""


@train.command("toxicity")
@click.option(
    "--data", type=click.Path(exists=True, file_okay=False), help="The labelled data (../shared/data/labeled)."
)
@click.option(
    "--models", type=click.Path(file_okay=False), help="The models/ folder to write (default: the shipped one)."
)
@click.option("--reports", type=click.Path(file_okay=False), help="Where toxicity.md/.json go (default: reports/).")
@click.option("--cache", type=click.Path(file_okay=False), help="Cache the encoder pass here (by the texts' hash).")
@domain_errors
def train_toxicity(data: str | None, models: str | None, reports: str | None, cache: str | None) -> None:
    """Rebuild models/tox-minilm-v1, its card and reports/toxicity.md from the labelled sources."""
    from discourse.train import REPO
    from discourse.train.toxicity_train import Settings
    from discourse.train.toxicity_train import train as run

    s = Settings(
        reports=Path(reports) if reports else REPO / "reports",
        cache=Path(cache) if cache else None,
        models=Path(models) if models else None,
    )
    if data:
        s.labeled = Path(data)
    result = run(s)
    for src, v in result["loso"].items():
        click.echo(f"{src:<14} LOSO AUROC {v['auroc']:.3f} (tox-block alone {v['toxblock_auroc']:.3f})")
    click.echo(f"wrote {s.models or 'models'}/{result['model']} and {s.reports}/toxicity.md")


@train.command("toxicity-spans")
@click.option(
    "--data", type=click.Path(exists=True, file_okay=False), help="The labelled data (../shared/data/labeled)."
)
@click.option(
    "--models", type=click.Path(file_okay=False), help="The models/ folder to write (default: the shipped one)."
)
@click.option("--reports", type=click.Path(file_okay=False), help="Where toxicity_spans.json goes (default: reports/).")
@domain_errors
def train_toxicity_spans(data: str | None, models: str | None, reports: str | None) -> None:
    """Rebuild models/tox-spans-v1 (the evidence words: layer-3 token probe, lexicon, tox-block word table)."""
    from discourse.train import REPO
    from discourse.train.toxicity_spans_fit import SpanSettings
    from discourse.train.toxicity_spans_fit import train as run

    s = SpanSettings(reports=Path(reports) if reports else REPO / "reports", models=Path(models) if models else None)
    if data:
        s.labeled = Path(data)
    result = run(s)
    for name, v in result["held_out"].items():
        click.echo(f"{name:<10} held-out evidence char-F1 {v['char_f1']:.3f} ({v['posts']} posts)")
    click.echo(f"wrote {s.models or 'models'}/{result['model']} and {s.reports}/toxicity_spans.json")


@click.group()
def evaluate() -> None:
    """Measure a model on your own labelled comments."""


@evaluate.command("toxicity")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="YAML config (e.g. a calibration)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON.")
@domain_errors
def evaluate_toxicity(file: str, config_path: str | None, as_json: bool) -> None:
    """AUROC, F1 at the threshold, ECE and the confusion matrix on FILE.csv (text,label[,parent])."""
    from discourse.train.toxicity_site import evaluate as run

    r = run(Path(file), config_path)
    if as_json:
        click.echo(json.dumps(r, indent=2))
        return
    c = r["confusion"]
    auroc = "n/a (one class)" if r["auroc"] is None else f"{r['auroc']:.3f}"
    click.echo(f"{r['n']} comments, {r['positives']} toxic; model {r['model']}")
    click.echo(f"AUROC {auroc}   F1 at {r['threshold']:.3f}: {r['f1']:.3f}   ECE {r['ece']:.3f}")
    click.echo(f"            predicted toxic  predicted ok\ntoxic       {c['tp']:>15}  {c['fn']:>12}")
    click.echo(f"not toxic   {c['fp']:>15}  {c['tn']:>12}")
    w = r.get("without_parent")
    if w:
        wa = "n/a" if w["auroc"] is None else f"{w['auroc']:.3f}"
        click.echo(
            f"parent as context: {w['replies']} replies; the parent changed {w['decisions_changed_by_parent']}"
            f" decisions ({w['changed_and_now_right']} now right); without it AUROC {wa}, F1 {w['f1']:.3f}"
        )


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out", "out_path", default="calibration.yaml", type=click.Path(dir_okay=False), help="Config file to write."
)
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="YAML config to score with."
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@domain_errors
def calibrate(file: str, out_path: str, config_path: str | None, force: bool) -> None:
    """Fit a site's Platt map and thresholds on FILE.csv (text,label; ~100+ rows) into a --config file."""
    from discourse.train.toxicity_site import calibrate as run
    from discourse.train.toxicity_site import calibration_yaml

    out = Path(out_path)
    if out.exists() and not force:
        click.echo(f"error: {out} exists (use --force to overwrite)", err=True)
        sys.exit(2)
    r = run(Path(file), config_path)
    out.write_text(calibration_yaml(r, Path(file)), encoding="utf-8")
    cal, fit = r["calibration"], r["in_sample"]
    if r["few_rows"]:
        click.echo(f"warning: only {r['rows']} rows; 100+ give a steadier fit", err=True)
    click.echo(f"a={cal['a']:.4f} b={cal['b']:.4f} threshold={cal['threshold']:.3f}; in-sample ECE {fit['ece']:.3f}")
    click.echo(f"wrote {out} (use it with --config)")

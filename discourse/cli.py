"""Command line: a thin layer over the Python API.

Domain errors (our DiscourseError types) become one-line messages and exit codes
here and only here.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from discourse.core.errors import DiscourseError


def _domain_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DiscourseError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; rerun the same command to resume", err=True)
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="discourse")
def main() -> None:
    """discourse: comment-thread discourse analysis (reply graph, toxicity, stance, argument chains)."""


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=True))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(),
    help="Output folder: one sub-folder per thread plus index.html.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML config merged over the default (configs/default.yaml).",
)
@click.option("--force", is_flag=True, help="Re-analyse inputs even when unchanged since the last run.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
@_domain_errors
def analyze(inputs: tuple[str, ...], out_dir: str, config_path: str | None, force: bool, quiet: bool) -> None:
    """Analyse thread files or folders of them; write analysis.json, report.html and graph.graphml."""
    from discourse.batch import Event, run_batch
    from discourse.core.config import load_config

    cfg = load_config(config_path)

    def say(event: Event) -> None:
        if not quiet:
            click.echo(f"[{event.kind}] {event.message}", err=True)

    res = run_batch(inputs, out_dir, cfg, force=force, on_event=say)
    for e in res.entries:
        if e["status"] == "ok" and not quiet:
            report = Path(out_dir) / e["folder"] / "report.html"
            click.echo(f"{report}  ({e['comments']} comments, {e['chains']} chains, {e['flagged']} flagged)")
    click.echo(
        f"{len(res.processed)} analysed, {len(res.skipped)} unchanged, {len(res.failed)} failed"
        f" in {res.seconds:.1f}s; index: {Path(out_dir) / 'index.html'}"
    )
    for path, msg in res.failed.items():
        click.echo(f"failed: {path}: {msg}", err=True)
    if res.failed and not res.processed and not res.skipped:
        sys.exit(2)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
@_domain_errors
def models(as_json: bool) -> None:
    """List the shipped models and verify every file's sha256."""
    from discourse.core.modelfiles import load_registry, resolve

    reg = load_registry()
    rows = []
    for name in sorted(reg):
        folder, rec = resolve(name)
        rows.append(
            {"name": name, "version": rec.version, "path": str(folder), "files": len(rec.files), "status": "ok"}
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            click.echo(f"{r['name']:<24} v{r['version']:<8} {r['files']} file(s) sha256 ok  {r['path']}")


@main.command("config")
@click.option(
    "--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="YAML config merged over the default."
)
@_domain_errors
def show_config(config_path: str | None) -> None:
    """Print the resolved config: every stage's settings with their defaults filled in."""
    import yaml

    from discourse.core.config import load_config

    click.echo(yaml.safe_dump(load_config(config_path).to_dict(), sort_keys=False), nl=False)


@main.command()
@_domain_errors
def plugins() -> None:
    """List the stages, layers, model kinds and input formats installed (built-in and plug-ins)."""
    import dataclasses

    from discourse.core.inputs import FORMATS
    from discourse.core.layers import LAYERS
    from discourse.core.models import MODEL_KINDS
    from discourse.core.stage import STAGES

    click.echo("stages:")
    for name, spec in sorted(STAGES.items()):
        keys = ", ".join(f.name for f in dataclasses.fields(spec.config)) or "-"
        click.echo(
            f"  {name:<16} requires {', '.join(spec.requires) or '-'}; assigns {', '.join(spec.assigns)};"
            f" settings: {keys}  ({spec.factory.__module__})"
        )
    click.echo("layers:")
    for name, layer in sorted(LAYERS.items()):
        kind = f"{layer.level}{', many' if layer.many else ''}{'' if layer.public else ', internal'}"
        click.echo(f"  {name:<16} {kind}: {layer.type.__name__}")
    click.echo("model kinds:")
    for name, model_kind in sorted(MODEL_KINDS.items()):
        task = f", predicts {model_kind.task}" if model_kind.task else ""
        click.echo(f"  {name:<16} reads {model_kind.inputs}{task}")
    click.echo("input formats: " + ", ".join(sorted(FORMATS.names())))


if __name__ == "__main__":
    main()

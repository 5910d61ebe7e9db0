"""Command line: a thin layer over the Python API.

Domain errors (our DiscourseError types) become one-line messages and exit codes
here and only here.
"""

from __future__ import annotations

import json
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click

from discourse.commands import domain_errors


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
@click.option("-q", "--quiet", is_flag=True, help="No progress: print only the summary line (and failures).")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object per line on stdout for every event (start, parse, group, stage, thread, skip, "
    "fail, warn, done, wait, cluster) and a final summary, for scripts.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Do not read or fill the result cache in OUT/.discourse-cache (by default a thread that gained "
    "comments re-encodes only those; the outputs are the same either way).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where groups of threads are analysed: this process, or a Dask cluster (docs/cluster.md).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use (tcp://host:8786); without it a local cluster is started.",
)
@click.option(
    "--layout",
    metavar="NAME",
    default="auto",
    show_default=True,
    help="How flat text files are laid out: a profile of configs/layouts (reference, disqus, reddit, forum) "
    "or auto (the best-scoring one per file, recorded in its warnings). A file analysed before with "
    "another layout is analysed again.",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Read each comment's stance toward NAME (favor / against / none, with the sentence that says so); "
    "repeat for several. Sets `targets` of target_stance.v1.",
)
@domain_errors
def analyze(
    inputs: tuple[str, ...],
    out_dir: str,
    config_path: str | None,
    force: bool,
    quiet: bool,
    as_json: bool,
    no_cache: bool = False,
    engine: str = "local",
    scheduler: str | None = None,
    layout: str = "auto",
    targets: tuple[str, ...] = (),
) -> None:
    """Analyse thread files or folders of them; write analysis.json, report.html and graph.graphml.

    Progress goes to stderr: a live line on a terminal (files, threads and comments done, rate,
    time left), one line per event otherwise; --json prints JSON lines on stdout instead, -q
    nothing. A second run into the same --out waits until the first has finished."""
    from discourse.batch import Event, run_batch
    from discourse.core.config import load_config

    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler needs --engine dask")
    from discourse.stages.target_stance import with_targets

    cfg = with_targets(load_config(config_path), targets)  # a bad config is one line, before anything else
    live = _Live() if not (quiet or as_json) and stderr_is_terminal() else None

    def say(event: Event) -> None:
        if as_json:
            click.echo(json.dumps({"event": event.kind, "message": event.message, **event.data}, ensure_ascii=False))
        elif live is not None:
            live.show(event)
        elif not quiet:
            click.echo(f"[{event.kind}] {event.message}", err=True)

    from discourse.formats.convokit import corpus_inputs
    from discourse.formats.layouts import use_layout

    inputs = tuple(corpus_inputs(inputs))  # a ConvoKit corpus folder is one input, not five files
    try:
        with use_layout(None if layout == "auto" else layout):  # files are parsed in this process
            res = run_batch(
                inputs, out_dir, cfg, force=force, on_event=say, engine=_engine(engine, scheduler), cache=not no_cache
            )
    finally:
        if live is not None:
            live.close()
    index = Path(out_dir) / "index.html"
    if as_json:
        summary = {
            "event": "summary",
            "analysed": len(res.processed),
            "unchanged": len(res.skipped),
            "failed": len(res.failed),
            "failures": res.failed,
            "seconds": round(res.seconds, 3),
            "index": str(index),
        }
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for e in res.entries:
            if e["status"] == "ok" and not quiet:
                report = Path(out_dir) / e["folder"] / "report.html"
                click.echo(f"{report}  ({e['comments']} comments, {e['chains']} chains, {e['flagged']} flagged)")
        click.echo(
            f"{len(res.processed)} analysed, {len(res.skipped)} unchanged, {len(res.failed)} failed"
            f" in {res.seconds:.1f}s; index: {index}"
        )
    for path, msg in res.failed.items():
        click.echo(f"failed: {msg if msg.startswith(path) else f'{path}: {msg}'}", err=True)
    if res.failed and not res.processed and not res.skipped:
        sys.exit(2)


def _engine(name: str, scheduler: str | None) -> Any:
    if name != "dask":
        return None  # the local engine
    from discourse.engines.dask_engine import DaskEngine

    return DaskEngine(scheduler)


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class _Live:
    """One status line on a terminal, redrawn in place: the last progress line, plus what is
    running now (reading a file, analysing a group) and for how long, ticking every second so a
    long group never looks stuck. Failures and waits are printed above it as lines of their own."""

    def __init__(self) -> None:
        self.status = "starting"
        self.doing: tuple[str, float] | None = None
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.ticker = threading.Thread(target=self._tick, daemon=True)
        self.ticker.start()

    def show(self, event: Any) -> None:
        with self.lock:
            if event.kind in ("fail", "wait", "warn"):
                click.echo(f"\r\x1b[2K[{event.kind}] {event.message}", err=True)
            elif event.kind in ("parse", "group"):
                self.doing = (event.message, time.monotonic())
            elif event.kind == "stage" and self.doing is not None:  # same group, further on
                self.doing = (event.message, self.doing[1])
            elif event.kind in ("thread", "start"):
                self.status, self.doing = event.message, None
            self._draw()

    def _draw(self) -> None:
        text = self.status
        if self.doing is not None:  # what runs now first: a narrow terminal cuts the end
            s = int(time.monotonic() - self.doing[1])
            text = f"{self.doing[0]} for {s // 60}:{s % 60:02d} · {text}"
        width = shutil.get_terminal_size().columns - 1
        click.echo("\r\x1b[2K" + (text if len(text) <= width else text[: width - 1] + "…"), nl=False, err=True)

    def _tick(self) -> None:
        while not self.stopped.wait(1.0):
            with self.lock:
                if self.doing is not None:
                    self._draw()

    def close(self) -> None:
        self.stopped.set()
        self.ticker.join()
        click.echo("\r\x1b[2K", nl=False, err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry as JSON.")
@domain_errors
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
@domain_errors
def show_config(config_path: str | None) -> None:
    """Print the resolved config: every stage's settings with their defaults filled in."""
    import yaml

    from discourse.core.config import load_config

    click.echo(yaml.safe_dump(load_config(config_path).to_dict(), sort_keys=False), nl=False)


@main.command()
@domain_errors
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


from discourse.commands.queue import queue_command  # noqa: E402  (its heavy imports wait for the command)

main.add_command(queue_command)

from discourse.commands.toxicity import calibrate, evaluate, train  # noqa: E402  (heavy imports wait for the command)

main.add_command(train)
main.add_command(evaluate)
main.add_command(calibrate)

from discourse.commands.structure import evaluate_structure  # noqa: E402

evaluate.add_command(evaluate_structure)

from discourse.commands.stance import evaluate_stance, train_stance  # noqa: E402

evaluate.add_command(evaluate_stance)
train.add_command(train_stance)

from discourse.commands.serve import serve  # noqa: E402  (fastapi and uvicorn wait for the command)

main.add_command(serve)

from discourse.commands.digest import digest_command  # noqa: E402
from discourse.commands.export import export_command  # noqa: E402

main.add_command(digest_command)
main.add_command(export_command)

if __name__ == "__main__":
    main()

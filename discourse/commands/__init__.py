"""Command groups beside the core ones in :mod:`discourse.cli`, and the one place where our
DiscourseError types become a one-line message and an exit code."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from discourse.core.errors import DiscourseError, OutputError
from discourse.report.atomic import atomic_write_text


def domain_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DiscourseError into ``error: <message>`` on stderr and its exit code; Ctrl-C into a
    line saying how to resume."""

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


def write_page(
    out_dir: str | Path, what: str, html_name: str, html: str, json_name: str, data: Any
) -> tuple[Path, Path]:
    """Write a command's page and its JSON (``data``) into ``out_dir``, each atomically; a write
    failure is one OutputError naming ``what``."""
    out = Path(out_dir)
    try:
        page = atomic_write_text(out / html_name, html)
        text = atomic_write_text(out / json_name, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    except OSError as exc:
        raise OutputError(f"cannot write the {what} into {out}: {exc.strerror or exc}") from None
    return page, text

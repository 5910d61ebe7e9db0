"""Command groups beside the core ones in :mod:`discourse.cli`, and the one place where our
DiscourseError types become a one-line message and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from discourse.core.errors import DiscourseError


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

"""``discourse serve``: the local Perspective-compatible endpoint (docs/serve.md).

Parses options into :class:`discourse.serve.ServeSettings` and hands them to uvicorn; with
``--workers N`` each worker process builds the app from the same settings (passed in the
environment) and loads the models once.
"""

from __future__ import annotations

import os

import click

from discourse.commands import domain_errors
from discourse.core.errors import InputError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every one).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1), help="Server processes.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML config merged over the default (models, thresholds), as for discourse analyze.",
)
@click.option(
    "--batch-window-ms",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, 1000),
    help="How long a request waits for others to share its pipeline pass.",
)
@click.option("--max-batch", default=64, show_default=True, type=click.IntRange(1), help="Requests per pass.")
@click.option(
    "--max-queue", default=256, show_default=True, type=click.IntRange(1), help="Waiting requests before 429."
)
@click.option(
    "--max-comment-bytes", default=20_480, show_default=True, type=click.IntRange(1), help="comment.text limit (413)."
)
@click.option(
    "--api-key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Require a key: one per line; clients send x-goog-api-key or ?key=.",
)
@click.option("--cors-origin", "cors_origins", multiple=True, help="Allow browser calls from this origin (repeat).")
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning", "error"])
)
@domain_errors
def serve(
    host: str,
    port: int,
    workers: int,
    config_path: str | None,
    batch_window_ms: float,
    max_batch: int,
    max_queue: int,
    max_comment_bytes: int,
    api_key_file: str | None,
    cors_origins: tuple[str, ...],
    log_level: str,
) -> None:
    """Serve a local Perspective-compatible API: POST /v1alpha1/comments:analyze, POST
    /v1/threads:analyze (a thread in any input format -> analysis.json), GET /healthz, GET /v1/models.
    Nothing is stored."""
    try:
        import uvicorn

        from discourse.serve.app import SETTINGS_ENV, ServeSettings, read_api_keys
    except ImportError as exc:
        raise InputError(f"discourse serve needs fastapi and uvicorn ({exc}); pip install fastapi uvicorn") from None
    settings = ServeSettings(
        config=os.path.abspath(config_path) if config_path else None,
        batch_window_ms=batch_window_ms,
        max_batch=max_batch,
        max_queue=max_queue,
        max_comment_bytes=max_comment_bytes,
        api_key_file=os.path.abspath(api_key_file) if api_key_file else None,
        cors_origins=cors_origins,
    )
    if config_path:
        from discourse.core.config import load_config

        load_config(config_path)  # a bad config fails here with one line, not in every worker
    if api_key_file:
        read_api_keys(api_key_file)  # an unreadable or empty key file fails here, once, not in every worker
    os.environ[SETTINGS_ENV] = settings.to_env()
    click.echo(
        f"discourse serve: loading models, then listening on http://{host}:{port} ({workers} worker(s))", err=True
    )
    uvicorn.run(
        "discourse.serve.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,  # nothing about requests is kept
    )

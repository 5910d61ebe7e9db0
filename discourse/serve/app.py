"""The FastAPI application: Perspective's ``comments:analyze``, whole threads, health and models.

Every error leaves in Google's error shape (:mod:`discourse.serve.errors`) with a one-line
message; an unexpected exception is logged here and answered with a generic 500, never a
traceback. Nothing a client sends is stored or logged.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from discourse.core.errors import DiscourseError, InputError
from discourse.serve.analyzer import Analyzer, CommentJob
from discourse.serve.batching import MicroBatcher
from discourse.serve.errors import ApiError, Overloaded, error_body
from discourse.serve.models import build_response, discovery_document, model_list, parse_request, sentence_spans

log = logging.getLogger("discourse.serve")

SETTINGS_ENV = "DISCOURSE_SERVE_SETTINGS"
THREAD_TYPES = frozenset(
    {"application/json", "application/x-ndjson", "application/jsonl", "application/xml", "application/octet-stream"}
)


@dataclass(frozen=True)
class ServeSettings:
    config: str | None = None  # a YAML config path (merged over the default), as for discourse analyze
    batch_window_ms: float = 10.0  # how long the first request of a batch waits for others
    max_batch: int = 64  # requests per pipeline pass
    max_queue: int = 256  # waiting requests before 429
    max_comment_bytes: int = 20_480  # comment.text, UTF-8 (Perspective's limit is 20 KB)
    max_body_bytes: int = 1_048_576  # a whole comments:analyze request (context included)
    max_thread_bytes: int = 20_971_520  # a threads:analyze body
    timeout_s: float = 120.0  # waiting for the batcher before 504
    api_key_file: str | None = None
    cors_origins: tuple[str, ...] = ()
    warm_up: bool = True

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServeSettings:
        data = json.loads(os.environ.get(SETTINGS_ENV, "{}"))
        data["cors_origins"] = tuple(data.get("cors_origins", ()))
        return cls(**data)


def read_api_keys(path: str | Path) -> tuple[str, ...]:
    """One key per line; blank lines and ``#`` comments are skipped. An empty file is an error:
    it would otherwise lock every client out (or, worse, be mistaken for "no keys")."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the API key file {path}: {exc}") from None
    keys = tuple(s for line in lines if (s := line.strip()) and not s.startswith("#"))
    if not keys:
        raise InputError(f"the API key file {path} holds no key")
    return keys


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"Request body too large: {declared} bytes, the limit is {limit} bytes.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"Request body too large: over {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(settings: ServeSettings | None = None, analyzer: Analyzer | None = None) -> FastAPI:
    """The app. ``analyzer`` (tests) skips building one from ``settings.config``."""
    s = settings or ServeSettings()
    keys = read_api_keys(s.api_key_file) if s.api_key_file else ()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        az = analyzer
        if az is None:
            az = await run_in_threadpool(Analyzer, s.config)
        if s.warm_up:
            await run_in_threadpool(az.warm_up)
        batcher = MicroBatcher(
            {"comments": az.score, "threads": az.analyze_threads},
            window_s=s.batch_window_ms / 1000,
            max_batch=s.max_batch,
            max_queue=s.max_queue,
        )
        batcher.start()
        state.update(analyzer=az, batcher=batcher)
        try:
            yield
        finally:
            await run_in_threadpool(batcher.stop)

    app = FastAPI(title="discourse serve", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.discourse = state
    if s.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(s.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-goog-api-key"],
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.to_json(), status_code=exc.code, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body(500, "Internal error; the server log has the details."), status_code=500)

    def check_key(request: Request) -> None:
        if not keys:
            return
        given = request.headers.get("x-goog-api-key") or request.query_params.get("key") or ""
        ok = False
        for key in keys:  # compare with every key, in constant time each
            ok |= hmac.compare_digest(given.encode(), key.encode())
        if not ok:
            raise ApiError(401, "API key not valid. Please pass a valid API key.")

    async def run(kind: str, payload: Any) -> Any:
        try:
            future = state["batcher"].submit(kind, payload)
        except Overloaded:
            raise ApiError(429, "Too many requests are waiting; retry shortly.", {"Retry-After": "1"}) from None
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), s.timeout_s)
        except asyncio.TimeoutError:
            raise ApiError(504, f"The analysis took longer than {s.timeout_s:g} s.") from None
        except DiscourseError as exc:
            log.error("%s failed: %s", kind, exc)
            raise ApiError(400 if isinstance(exc, InputError) else 500, str(exc)) from None

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        batcher = state.get("batcher")
        if batcher is None:
            raise ApiError(503, "starting")
        return {"status": "ok", "pid": os.getpid(), "batches": batcher.batches, "requests": batcher.jobs}

    @app.get("/v1/models")
    async def models(request: Request) -> dict[str, Any]:
        check_key(request)
        az: Analyzer = state["analyzer"]
        return {
            "models": model_list(az.models),
            "pipelines": {"comments": list(az.comments.config.pipeline), "threads": list(az.threads.config.pipeline)},
        }

    @app.get("/$discovery/rest")
    async def discovery(request: Request) -> dict[str, Any]:
        return discovery_document(str(request.base_url))

    @app.post("/v1alpha1/comments:analyze")
    async def analyze_comment(request: Request) -> dict[str, Any]:
        check_key(request)
        if _media_type(request) != "application/json":
            raise ApiError(415, "Content-Type must be application/json.")
        body = await _read_body(request, s.max_body_bytes)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"Invalid JSON payload received. {exc}") from None
        req = parse_request(data, s.max_comment_bytes)
        text = req.comment.text
        spans = sentence_spans(text) if req.spanAnnotations else []
        extra = spans if len(spans) > 1 else []  # one sentence: its score is the summary's
        results = await run("comments", CommentJob((text, *(text[b:e] for b, e in extra))))
        scored = list(zip(extra, results[1:], strict=True)) if extra else [(sp, results[0]) for sp in spans]
        return build_response(req, results[0], scored)

    @app.post("/v1/threads:analyze")
    async def analyze_thread(request: Request, name: str = "thread") -> dict[str, Any]:
        check_key(request)
        media = _media_type(request)
        if media not in THREAD_TYPES and not media.startswith("text/"):
            raise ApiError(
                415, "Content-Type must be the thread's format: text/plain, application/json, application/xml, …"
            )
        body = await _read_body(request, s.max_thread_bytes)
        if not body.strip():
            raise ApiError(400, "The request body is empty.")
        from discourse.api import load_threads

        try:
            threads = await run_in_threadpool(load_threads, body, name)
        except DiscourseError as exc:
            raise ApiError(400, str(exc)) from None
        if len(threads) != 1:
            raise ApiError(400, f"The input holds {len(threads)} threads; send one thread per request.")
        result: dict[str, Any] = await run("threads", threads[0])
        return result

    return app


def app_from_env() -> FastAPI:
    """The factory uvicorn calls in every worker process (``discourse serve --workers N``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(ServeSettings.from_env())

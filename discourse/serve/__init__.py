"""``discourse serve``: a local, Perspective-compatible HTTP endpoint (docs/serve.md).

``POST /v1alpha1/comments:analyze`` answers Perspective's AnalyzeComment requests;
``POST /v1/threads:analyze`` turns a whole thread into analysis.json; ``GET /healthz`` and
``GET /v1/models``. Concurrent requests are micro-batched into one pipeline pass.
"""

from __future__ import annotations

from discourse.serve.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app"]

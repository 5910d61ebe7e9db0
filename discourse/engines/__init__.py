"""Engines: where a batch's groups of threads are analysed.

The batch (:mod:`discourse.batch`) reads the inputs, forms the groups, and writes every thread
folder, the state file and the index itself, holding the output folder's lock. An engine only
turns groups into per-thread results: :class:`~discourse.engines.local.LocalEngine` in this
process, :class:`~discourse.engines.dask_engine.DaskEngine` on a Dask distributed cluster.
"""

from __future__ import annotations

from discourse.engines.base import ClusterError, Engine, Job, ThreadResult
from discourse.engines.local import LocalEngine

__all__ = ["ClusterError", "Engine", "Job", "LocalEngine", "ThreadResult"]

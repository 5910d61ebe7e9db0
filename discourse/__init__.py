"""discourse: comment-thread discourse analysis.

>>> import discourse
>>> analysis = discourse.analyze("thread.txt")   # doctest: +SKIP
>>> analysis.to_json()["chains"]                   # doctest: +SKIP
"""

from __future__ import annotations

import os

# OpenMP threads that spin while they wait starve each other when the cores are shared: torch on 2
# threads ran about 4x slower than on 1 on a busy 2-core machine, and as fast as 1 thread with
# sleeping waiters (reports/encoder_backends.md). Effective only before torch is first imported;
# a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from discourse.api import analyze, analyze_many, load_threads
from discourse.core.analysis import SCHEMA_VERSION, Analysis
from discourse.core.config import Config, load_config
from discourse.core.engine import Pipeline
from discourse.core.errors import ConfigError, DiscourseError, InputError, ModelError, PipelineError
from discourse.core.thread import Comment, Thread

__all__ = [
    "SCHEMA_VERSION",
    "Analysis",
    "Comment",
    "Config",
    "ConfigError",
    "DiscourseError",
    "InputError",
    "ModelError",
    "Pipeline",
    "PipelineError",
    "Thread",
    "analyze",
    "analyze_many",
    "load_config",
    "load_threads",
]
__version__ = "0.1.0"

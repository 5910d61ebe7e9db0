"""discourse: comment-thread discourse analysis.

>>> import discourse
>>> analysis = discourse.analyze("thread.txt")   # doctest: +SKIP
>>> analysis.to_json()["chains"]                   # doctest: +SKIP
"""

from __future__ import annotations

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

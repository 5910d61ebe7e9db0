"""Our own exception types. The CLI turns these into one-line messages and exit codes."""

from __future__ import annotations


class DiscourseError(Exception):
    """Base class: a problem the user can act on (never a bug)."""

    exit_code = 1


class InputError(DiscourseError):
    """The input could not be read or holds no comment section."""

    exit_code = 2


class ConfigError(DiscourseError):
    """The configuration names something unknown or is malformed."""

    exit_code = 3


class ModelError(DiscourseError):
    """A model could not be found or loaded, or failed its checksum."""

    exit_code = 4


class PipelineError(DiscourseError):
    """Stages are in an order that cannot satisfy their requirements, or a
    stage returned something other than what it declared."""

    exit_code = 5


class OutputError(DiscourseError):
    """The output folder cannot be written, or a folder there holds something else."""

    exit_code = 6

"""Input formats: a registry of parsers, built-in and plug-in alike.

A format has a ``parse(text, name) -> list[Thread]`` and, for plug-ins, a ``sniff(sample,
filename) -> bool`` that claims an input from its first 64 KiB and file name; plug-in sniffers
are asked before the built-in detection rules (``discourse.formats.detect``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from discourse.core.registry import Registry
from discourse.core.thread import Thread


@dataclass(frozen=True)
class InputFormat:
    name: str
    parse: Callable[[str, str], list[Thread]]
    sniff: Callable[[str, str], bool] | None = None


FORMATS: Registry[InputFormat] = Registry("input format")


def register_format(
    name: str, parse: Callable[[str, str], list[Thread]], sniff: Callable[[str, str], bool] | None = None
) -> InputFormat:
    return FORMATS.register(name, InputFormat(name, parse, sniff))

"""Layout profiles of scraped flat text: how a scraper left a comment page, described as data.

One YAML file per layout in ``configs/layouts/`` (installed as ``discourse._configs/layouts``):

* ``header``: regexes of a comment's header line; group ``author`` is the author (empty = unknown),
  the rest of the line (time, points) is page furniture;
* ``start``: lines that stand only at the start of a comment, before or after its header: group
  ``depth`` ("level 3": the comment's depth, 1 = top level) or ``parent`` ("in reply to Ann": the
  author of the comment answered);
* ``start_after_header``: start lines may stand after the header too ("in reply to Ann" under it),
  not only before it ("level 3" over it); otherwise a start line under a header is text;
* ``furniture``: whole lines the page prints around comments ("Reply · Share ›"), dropped only
  where furniture stands (after a comment's text, between comments), never from inside a text;
* ``ends_comment``: that furniture closes a comment, so the next block starts one even without a
  header (pages with no blank-line cue for a lost header);
* ``markers``: what repliers type that names the comment answered, kept in the text and read as
  reply evidence: ``mention`` ("@Ann" on its own line), ``quote_header`` ("Ann wrote:") and
  ``quote_line`` ("> ..." lines quoting the parent);
* ``default_score``: the score of a profile without header lines (the fallback layout);
  ``min_hits``: header or start lines a profile must see before it can be chosen.

:func:`detect_layout` scores every profile on a file's lines and picks the best; a bad profile is
a one-line :class:`~discourse.core.errors.ConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from discourse.core.errors import ConfigError

DEFAULT = "reference"
KEYS = (
    "name",
    "description",
    "header",
    "start",
    "start_after_header",
    "furniture",
    "ends_comment",
    "markers",
    "default_score",
    "min_hits",
)
MARKER_KEYS = ("mention", "quote_header", "quote_line")
HEADER_WEIGHT = 3.0  # a header line says more about the layout than a furniture line
START_WEIGHT = 2.0
FURNITURE_WEIGHT = 1.0


@dataclass(frozen=True)
class Layout:
    """One layout profile (see the module doc)."""

    name: str
    description: str = ""
    header: tuple[re.Pattern[str], ...] = ()
    start: tuple[re.Pattern[str], ...] = ()
    start_after_header: bool = False
    furniture: tuple[re.Pattern[str], ...] = ()
    ends_comment: bool = False
    mention: tuple[re.Pattern[str], ...] = ()
    quote_header: tuple[re.Pattern[str], ...] = ()
    quote_line: re.Pattern[str] | None = None
    default_score: float = 0.0
    min_hits: int = 2

    @property
    def has_headers(self) -> bool:
        return bool(self.header)

    def header_match(self, line: str) -> re.Match[str] | None:
        s = line.strip()
        return next((m for p in self.header if (m := p.match(s))), None)

    def start_match(self, line: str) -> re.Match[str] | None:
        s = line.strip()
        return next((m for p in self.start if (m := p.match(s))), None)

    def is_furniture(self, line: str) -> bool:
        s = line.strip()
        return any(p.match(s) for p in self.furniture)

    def score(self, lines: Iterable[str]) -> tuple[float, int]:
        """(score, header and start lines seen) of this profile on a file's lines: furniture alone
        ("Load more comments" twice) never makes a file a header layout."""
        hits = 0
        score = 0.0
        for line in lines:
            s = line.strip()
            if not s or len(s) > 200:
                continue
            if self.header_match(s):
                score += HEADER_WEIGHT
            elif self.start_match(s):
                score += START_WEIGHT
            elif self.is_furniture(s):
                score += FURNITURE_WEIGHT
                continue
            else:
                continue
            hits += 1
        return score, hits


@dataclass(frozen=True)
class Detection:
    """The layout chosen for a file, its score, the runner-up's and whether it was forced."""

    layout: Layout
    score: float
    runner_up: str | None
    margin: float
    forced: bool = False

    def note(self) -> str:
        how = "forced" if self.forced else "auto-detected"
        other = f", next {self.runner_up} by a margin of {self.margin:g}" if self.runner_up else ""
        return f"layout {self.layout.name} ({how}; score {self.score:g}{other})"


def _compile(where: str, pattern: object, groups: Sequence[str] = ()) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{where}: expected a regular expression (a non-empty string), got {pattern!r}")
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regular expression {pattern!r} ({exc})") from None
    if groups and not set(groups) & set(rx.groupindex):
        raise ConfigError(f"{where}: the pattern needs a named group {' or '.join(groups)}: {pattern!r}")
    return rx


def _patterns(where: str, value: object, groups: Sequence[str] = ()) -> tuple[re.Pattern[str], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list of regular expressions, got {type(value).__name__}")
    return tuple(_compile(f"{where}[{k}]", p, groups) for k, p in enumerate(value))


def layout_from_dict(raw: Mapping[str, Any], where: str = "layout") -> Layout:
    """Build and validate one profile; a one-line ConfigError names the file and the key."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: a layout profile is a mapping of {', '.join(KEYS)}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,39}", name):
        raise ConfigError(f"{where}: 'name' must be a short lower-case identifier, got {name!r}")
    markers = raw.get("markers") or {}
    if not isinstance(markers, Mapping) or set(markers) - set(MARKER_KEYS):
        raise ConfigError(f"{where}: 'markers' takes only {', '.join(MARKER_KEYS)}")
    quote_line = markers.get("quote_line")
    ends = raw.get("ends_comment", False)
    after = raw.get("start_after_header", False)
    for key, flag in (("ends_comment", ends), ("start_after_header", after)):
        if not isinstance(flag, bool):
            raise ConfigError(f"{where}: {key!r} must be true or false, got {flag!r}")
    try:
        default_score = float(raw.get("default_score", 0.0))
        min_hits = int(raw.get("min_hits", 2))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: 'default_score' and 'min_hits' must be numbers") from None
    return Layout(
        name=name,
        description=str(raw.get("description", "")),
        header=_patterns(f"{where}: header", raw.get("header"), ("author",)),
        start=_patterns(f"{where}: start", raw.get("start"), ("depth", "parent")),
        start_after_header=after,
        furniture=_patterns(f"{where}: furniture", raw.get("furniture")),
        ends_comment=ends,
        mention=_patterns(f"{where}: markers.mention", markers.get("mention"), ("parent",)),
        quote_header=_patterns(f"{where}: markers.quote_header", markers.get("quote_header"), ("parent",)),
        quote_line=_compile(f"{where}: markers.quote_line", quote_line, ("text",)) if quote_line else None,
        default_score=default_score,
        min_hits=max(1, min_hits),
    )


def layouts_dir() -> Path:
    from discourse.core.config import configs_dir

    return configs_dir() / "layouts"


def load_layouts(folder: Path | None = None) -> dict[str, Layout]:
    """Every profile in ``folder`` (default: the shipped ``configs/layouts``), by name."""
    folder = folder or layouts_dir()
    return dict(_load(str(folder)))


@lru_cache(maxsize=8)
def _load(folder: str) -> tuple[tuple[str, Layout], ...]:
    out: dict[str, Layout] = {}
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise ConfigError(f"{folder}: no layout profiles (*.yaml) found")
    for f in files:
        try:
            raw = yaml.safe_load(f.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{f.name}: unreadable layout profile ({first})") from None
        lay = layout_from_dict(raw, f.name)
        if lay.name in out:
            raise ConfigError(f"{f.name}: a layout named {lay.name!r} is defined twice")
        out[lay.name] = lay
    if DEFAULT not in out:
        raise ConfigError(f"{folder}: the fallback layout {DEFAULT!r} is missing")
    return tuple(out.items())


_FORCED: ContextVar[str | None] = ContextVar("discourse_layout", default=None)


@contextmanager
def use_layout(name: str | None) -> Iterator[None]:
    """Read every flat file parsed inside the block with the profile ``name`` (None: auto-detect),
    wherever the parsing is called from (``discourse analyze --layout``, ``discourse.analyze``)."""
    if name is not None:
        get_layout(name)  # an unknown name fails here, once
    token = _FORCED.set(name)
    try:
        yield
    finally:
        _FORCED.reset(token)


def forced_layout() -> str | None:
    """The layout :func:`use_layout` forces here, if any."""
    return _FORCED.get()


def get_layout(name: str, layouts: Mapping[str, Layout] | None = None) -> Layout:
    layouts = layouts if layouts is not None else load_layouts()
    if name not in layouts:
        raise ConfigError(f"unknown layout {name!r}; known: {', '.join(sorted(layouts))}")
    return layouts[name]


def detect_layout(
    lines: Sequence[str], layouts: Mapping[str, Layout] | None = None, force: str | None = None
) -> Detection:
    """The profile that explains the file's lines best (``force``: that one, by name).

    A profile with header or start lines is eligible only when ``min_hits`` of them are seen; the
    others score their ``default_score``. Ties go to the fallback layout."""
    layouts = layouts if layouts is not None else load_layouts()
    scored: list[tuple[float, int, str]] = []
    for name, lay in layouts.items():
        score, hits = lay.score(lines) if lay.has_headers or lay.start or lay.furniture else (0.0, 0)
        if (lay.has_headers or lay.start) and hits < lay.min_hits:
            score = 0.0
        scored.append((max(score, lay.default_score), int(name == DEFAULT), name))
    scored.sort(reverse=True)
    if force is not None:
        lay = get_layout(force, layouts)
        best = next(s for s in scored if s[2] == force)
        other = next((s for s in scored if s[2] != force), None)
        return Detection(lay, best[0], other[2] if other else None, best[0] - (other[0] if other else 0.0), True)
    top = scored[0]
    second = scored[1] if len(scored) > 1 else None
    return Detection(
        layouts[top[2]], top[0], second[2] if second else None, top[0] - (second[0] if second else 0.0), False
    )

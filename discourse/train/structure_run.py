"""``discourse evaluate structure``: score reply-structure recovery on threads whose tree is known.

Every file under the given paths that parses into threads with known reply links (a Reddit,
WikiConv, Disqus, JSONL or CSV export, ...) is rendered flat as a scraper would leave it (depth
first, siblings oldest first, ``drop`` of the author lines lost), rebuilt by the reply-graph model, and scored with the
measure the reports use (:mod:`discourse.train.structure_eval`): parent accuracy overall, by depth
and by thread kind, top-level comments found, authors of dropped lines named and the precision of
those names, link ECE, and the two baselines side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from discourse.core.errors import InputError
from discourse.core.thread import Thread
from discourse.train.structure_data import oldest_first
from discourse.train.structure_eval import Counts, evaluate_thread, summary


def known_threads(paths: Iterable[Path]) -> tuple[list[Thread], list[str]]:
    """Threads with known structure (and 2+ comments) in the files under ``paths``; one
    warning line per file that cannot be read or holds no such thread."""
    from discourse.api import load_threads
    from discourse.core.errors import DiscourseError

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    threads: list[Thread] = []
    warnings: list[str] = []
    for f in files:
        try:
            got = [t for t in load_threads(f) if t.structure_known and len(t.comments) >= 2]
        except (DiscourseError, UnicodeDecodeError, ValueError) as exc:
            warnings.append(f"{f}: skipped ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
            continue
        if not got:
            warnings.append(f"{f}: skipped (no thread with known reply links)")
        threads.extend(oldest_first(t) for t in got)
    return threads, warnings


def evaluate_structure(
    paths: Sequence[Path],
    model: str | None = "reply-links-v2",
    drop: float = 0.2,
    seed: int = 0,
    beam: int = 8,
    embed: Any = None,
    layout: str = "reference",
    markers: float = 0.0,
) -> dict[str, Any]:
    """The numbers for every known thread under ``paths`` (see the module doc). ``embed``: texts
    -> L2-normalised vectors (default: the shipped MiniLM encoder, one pass per thread).
    ``layout``: the page layout rendered (``configs/layouts``; parsed back with auto-detection);
    ``markers``: the share of replies that carry an explicit marker ("@X", a quote, "in reply to X")."""
    from discourse.formats.render_flat import LAYOUTS
    from discourse.stages.reply_graph import load_reply_weights

    if not 0.0 <= drop <= 1.0:
        raise InputError(f"--drop must be between 0 and 1, not {drop}")
    if not 0.0 <= markers <= 1.0:
        raise InputError(f"--markers must be between 0 and 1, not {markers}")
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    threads, warnings = known_threads(paths)
    if not threads:
        raise InputError("no thread with known reply links under " + ", ".join(map(str, paths)))
    scorer, record = load_reply_weights(model)
    if embed is None:
        from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder

        encoder = SentenceEncoder(DEFAULT_ENCODER)

        def embed(texts: Sequence[str]) -> Any:
            return encoder.encode(list(texts)).vectors

    counts: list[Counts] = [evaluate_thread(t, drop, seed, embed, scorer, beam, layout, markers) for t in threads]
    out = summary(counts)
    out.update(
        model=record.name if record is not None else "hand-set prior",
        authors_dropped=drop,
        beam=beam,
        layout=layout,
        markers=markers,
        warnings=warnings,
    )
    return out


def format_summary(r: dict[str, Any]) -> str:
    def f(x: Any) -> str:
        return "-" if x != x or x is None else f"{x:.3f}"  # NaN != NaN

    lines = [
        f"{r['threads']} threads, {r['comments']} comments; model {r['model']}, beam {r['beam']},"
        f" {r['authors_dropped']:.0%} of author lines dropped",
        f"layout            {r.get('layout', 'reference')} (detected in {f(r.get('layout_detected'))} of threads),"
        f" {r.get('markers', 0.0):.0%} of replies marked; marked comments {r.get('marked_comments', 0)},"
        f" parent {f(r.get('parent_accuracy_marked'))}",
        f"parent accuracy   {f(r['parent_accuracy'])}   (baselines: previous comment"
        f" {f(r['baseline_previous_comment'])}, article {f(r['baseline_all_top_level'])})",
        f"top-level found   {f(r['parent_accuracy_top_level'])}   nested {f(r['parent_accuracy_nested'])}",
        f"dropped authors   {r['dropped_authors']} lost, named right {f(r['author_accuracy_dropped'])},"
        f" precision {f(r['author_precision_inferred'])}",
        f"link confidence   mean {f(r['mean_confidence'])}, ECE {f(r['link_ece'])}",
        "by depth          " + "  ".join(f"{d}: {f(v)}" for d, v in r["by_depth"].items()),
        "by kind:",
    ]
    for kind, k in r["by_kind"].items():
        lines.append(
            f"  {kind:<11} {k['comments']:>6} comments  parent {f(k['parent_accuracy'])}"
            f"  previous {f(k['baseline_previous_comment'])}  article {f(k['baseline_all_top_level'])}"
        )
    lines += [f"warning: {w}" for w in r["warnings"]]
    return "\n".join(lines)

"""Reply structure per page layout, on the held-out threads of every structure source.

    python -m discourse.train.structure_layouts [--shared ../shared/data] [--cache FILE] [--save]

Each held-out set of ``reports/reply_graph.md`` (the test 30% of each source's threads and the
whole r/nfl thread) is rendered in every layout of ``configs/layouts`` (one header in five lost,
seed 0), with no explicit markers and with half the replies marked ("@X" lines, "X wrote:"
quotes; "in reply to X" on the forum; Reddit pages always show "level N"), parsed back with
auto-detection and rebuilt by the shipped ``reply-links-v2`` (beam 8, MiniLM similarities).
``--save`` adds the table to ``reports/reply_graph.json`` and rewrites ``reply_graph.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from discourse.formats.render_flat import LAYOUTS
from discourse.stages.reply_graph import load_reply_weights
from discourse.train import REPO, SHARED_DATA
from discourse.train.reply_links import CachedEmbedder
from discourse.train.structure_data import SOURCES, load_sources
from discourse.train.structure_eval import evaluate_thread, summary
from discourse.train.structure_train import layout_lines, report_markdown, test_sets

DROP = 0.2
MARKED = 0.5
KEEP = (
    "comments",
    "recovered_whole",
    "layout_detected",
    "parent_accuracy",
    "parent_accuracy_top_level",
    "marked_comments",
    "parent_accuracy_marked",
    "author_accuracy_kept",
    "author_accuracy_dropped",
    "author_precision_inferred",
    "baseline_previous_comment",
    "baseline_all_top_level",
    "link_ece",
)


def measure(
    tests: Mapping[str, Sequence[Any]], embed: Any, model: str = "reply-links-v2", beam: int = 8
) -> list[dict[str, Any]]:
    scorer, _ = load_reply_weights(model)
    rows: list[dict[str, Any]] = []
    for name, threads in tests.items():
        for layout in LAYOUTS:
            for marked in (0.0, MARKED):
                t0 = time.perf_counter()
                counts = [evaluate_thread(t, DROP, 0, embed, scorer, beam, layout, marked) for t in threads]
                s = summary(counts)
                row = {"set": name, "layout": layout, "markers": marked, **{k: s[k] for k in KEEP}}
                row["seconds"] = round(time.perf_counter() - t0, 1)
                rows.append(row)
                print(
                    f"{name:20} {layout:9} markers {marked:.0%}  parent {s['parent_accuracy']:.3f}"
                    f"  whole {s['recovered_whole']:.3f}  detected {s['layout_detected']:.3f}",
                    flush=True,
                )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    from discourse.report.atomic import atomic_write_text

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=SHARED_DATA)
    ap.add_argument("--cache", type=Path, default=REPO / ".cache" / "reply_links_emb.npz")
    ap.add_argument("--irc-logs", type=int, default=60, help="IRC training logs to read (the dev logs are added)")
    ap.add_argument("--sets", nargs="*", help="only these held-out sets (default: every source)")
    ap.add_argument("--save", action="store_true", help="add the table to reports/reply_graph.json/.md")
    ap.add_argument("--reports", type=Path, default=REPO / "reports")
    args = ap.parse_args(argv)
    tests = test_sets(load_sources(args.shared, irc_logs=args.irc_logs, sources=SOURCES))
    tests.pop("two-person chains", None)
    if args.sets:
        tests = {k: v for k, v in tests.items() if k in args.sets}
    embed = CachedEmbedder(args.cache)
    try:
        rows = measure(tests, embed)
    finally:
        embed.save()
    if args.save:
        path = args.reports / "reply_graph.json"
        saved = json.loads(path.read_text(encoding="utf-8"))
        saved["layouts"] = rows
        atomic_write_text(path, json.dumps(saved, indent=2, default=float) + "\n")
        atomic_write_text(args.reports / "reply_graph.md", report_markdown(saved))
    print("\n".join(layout_lines(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

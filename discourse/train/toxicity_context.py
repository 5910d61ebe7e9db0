"""How often the parent (the context) changes a moderator's decision, on real threads.

No labelled set we hold pairs a toxicity label with the parent's text (ruddit's reply structure
is not in the data, the others are single posts), so whether the context *helps* cannot be
measured here; this counts how often it *changes* the decision. Two uses of the parent:

* **quotes** (``toxicity.v1`` ``context``): a reply is scored on its own words, what it quotes
  (``>`` lines, six or more of its parent's words) left out;
* **target** (``attention.v1``): a reply in the second person to its parent's author is aimed
  at that commenter, so an insult in it ranks as an attack on a person.

The decision is the queue: a comment is *flagged* when its priority reaches the flag threshold;
its *codes* are the reasons. Each thread is run with both uses, with neither (toxicity without
``context``, attention with every parent hidden), and with each alone.

    OMP_NUM_THREADS=1 nice -n 19 python -m discourse.train.toxicity_context
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from discourse.train import SHARED_DATA

THREADS = {
    "r/nfl (200 Reddit comments, reply tree known)": "formats/reddit-nfl-thread/comments.json",
    "reference Idlib thread (14 comments, links inferred)": "threads/idlib_patrol_thread.txt",
}
COMMAND = "OMP_NUM_THREADS=1 nice -n 19 python -m discourse.train.toxicity_context"


def _queue(doc: Any, hide_parents: bool) -> dict[str, tuple[bool, tuple[str, ...], float]]:
    """comment id -> (flagged, codes, priority) of the attention queue for this doc."""
    from discourse.stages.attention import AttentionConfig
    from discourse.stages.attention.rank import rank_attention

    thread = doc.thread
    if hide_parents:
        thread = dataclasses.replace(
            thread, comments=tuple(dataclasses.replace(c, parent_id=None) for c in thread.comments)
        )
    cfg = AttentionConfig()
    items = rank_attention(thread, doc.annotations, doc.annotations.value("chains", ()), cfg)
    return {it.comment_id: (it.priority >= cfg.flag_threshold, it.codes, it.priority) for it in items}


def compare(path: Path) -> dict[str, Any]:
    from discourse import load_threads
    from discourse.core.engine import Pipeline

    [thread] = load_threads(path)
    docs = {}
    for ctx in (True, False):
        docs[ctx] = Pipeline({"stages": {"toxicity.v1": {"context": ctx}}}).run(thread)
    runs = {
        "both": _queue(docs[True], hide_parents=False),
        "neither": _queue(docs[False], hide_parents=True),
        "quotes only": _queue(docs[True], hide_parents=True),
        "target only": _queue(docs[False], hide_parents=False),
    }
    tox = {ctx: {c.id: d.annotations.get(c.id, "toxicity").score for c in d.thread.comments} for ctx, d in docs.items()}
    texts = {c.id: c.text for c in docs[True].thread.comments}
    n = len(thread.comments)
    replies = sum(c.parent_id is not None for c in docs[True].thread.comments)
    out: dict[str, Any] = {"comments": n, "replies": replies}
    none: tuple[bool, tuple[str, ...], float] = (False, (), 0.0)
    for name in ("both", "quotes only", "target only"):
        a, b = runs[name], runs["neither"]
        ids = sorted(set(a) | set(b))
        flag = [i for i in ids if a.get(i, none)[0] != b.get(i, none)[0]]
        codes = [i for i in ids if a.get(i, none)[1] != b.get(i, none)[1]]
        out[name] = {
            "flag_changed": len(flag),
            "codes_changed": len(codes),
            "flagged_with": sum(v[0] for v in a.values()),
            "flagged_without": sum(v[0] for v in b.values()),
            "examples": [
                {
                    "id": i,
                    "text": texts[i][:140],
                    "without": list(b.get(i, none)[1]),
                    "with": list(a.get(i, none)[1]),
                    "flagged": [b.get(i, none)[0], a.get(i, none)[0]],
                }
                for i in codes[:6]
            ],
        }
    queue = docs[True].annotations.value("attention")
    out["queue"] = {
        "flagged": queue.flagged(),
        "every_reason_names_its_code": all(
            any(r.startswith(f"{c}:") for c in it.codes) for it in queue.items for r in it.reasons
        ),
        "top": [
            {"id": it.comment_id, "codes": list(it.codes), "priority": it.priority, "text": texts[it.comment_id][:100]}
            for it in queue.items[:5]
        ],
        "profanity_only": sum(it.codes == ("PROFANITY",) for it in queue.items),
    }
    # > 1e-3: batch composition alone moves scores by ~1e-7 (the blanked texts sort differently)
    moved = [i for i in tox[True] if abs(tox[True][i] - tox[False][i]) > 1e-3]
    out["toxicity_changed_by_quotes"] = [
        {"id": i, "text": texts[i][:140], "without": round(tox[False][i], 4), "with": round(tox[True][i], 4)}
        for i in moved
    ]
    return out


def long_case() -> dict[str, Any]:
    """The default pipeline on a toxic sentence followed by 260 ordinary words."""
    from discourse import analyze
    from discourse.core.thread import Comment, Thread
    from discourse.train.toxicity_spans import long_case_text

    text = long_case_text()
    tox = analyze(Thread(id="long", title="", comments=(Comment("c1", text),))).toxicity("c1")
    end = text.index(".") + 1
    return {
        "words": len(text.split()),
        "score": tox.score,
        "evidence": list(tox.evidence),
        "evidence_spans": [list(s) for s in tox.evidence_spans],
        "evidence_text": [text[b:e] for b, e in tox.evidence_spans],
        "all_in_toxic_sentence": bool(tox.evidence_spans) and all(e <= end for _, e in tox.evidence_spans),
    }


def run(shared: Path = SHARED_DATA) -> dict[str, Any]:
    out: dict[str, Any] = {name: compare(shared / rel) for name, rel in THREADS.items()}
    out["long comment"] = long_case()
    return out


def lines(result: dict[str, Any]) -> list[str]:
    """The report's markdown for :func:`run`'s result."""
    out = [
        "| thread | replies | flagged: no context -> both | flag changed by quotes / target / both |"
        " codes changed by quotes / target / both |",
        "|---|---|---|---|---|",
    ]
    threads = {k: v for k, v in result.items() if "queue" in v}
    for name, r in threads.items():
        q, t, b = r["quotes only"], r["target only"], r["both"]
        out.append(
            f"| {name} | {r['replies']} of {r['comments']} | {b['flagged_without']} -> {b['flagged_with']} "
            f"| {q['flag_changed']} / {t['flag_changed']} / {b['flag_changed']} "
            f"| {q['codes_changed']} / {t['codes_changed']} / {b['codes_changed']} |"
        )
    for name, r in threads.items():
        for ex in r["toxicity_changed_by_quotes"]:
            out.append(f"\n- {name}: quote left out, toxicity {ex['without']:.3f} -> {ex['with']:.3f}: “{ex['text']}”")
        for ex in r["both"]["examples"]:
            out.append(
                f"\n- {name}: codes {', '.join(ex['without']) or 'none'} -> {', '.join(ex['with']) or 'none'}"
                f" (flagged {ex['flagged'][0]} -> {ex['flagged'][1]}): “{ex['text']}”"
            )
    return out


def main(argv: Sequence[str] = ()) -> None:
    import torch

    torch.set_num_threads(1)
    result = run()
    out = Path(argv[0]) if argv else None
    if out is not None:
        out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines(result)))


if __name__ == "__main__":
    main(sys.argv[1:])

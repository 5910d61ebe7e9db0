"""Measure a toxicity model on labelled data: HateXplain and the Jigsaw test-set sample.

    .venv/bin/python scripts/eval_toxicity.py [--data ../shared/data] [--out reports]
        [--model '{"name": "tox-block-0.1.2"}'] [--batch-size 256] [--threads N] [--minilm-head]

:func:`main` prints a table and writes ``<out>/toxicity.json`` and ``<out>/toxicity.md``
(:mod:`discourse.train.toxicity_report`). The JSON also carries the keys
``scripts/convert_toxblock.py --eval`` reads for the model card.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_curve, precision_score, recall_score, roc_auc_score

from discourse.core.models import ModelSpec, load_model
from discourse.stages.toxicity.scoring import overall_toxicity
from discourse.train import SHARED_DATA
from discourse.train.heads import grouped_folds
from discourse.train.toxicity_report import markdown, table

HATEXPLAIN = Path("labeled/hatexplain/hatexplain.csv")
JIGSAW = Path("labeled/jigsaw-sample/test_examples.csv")
JIGSAW_LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
COMMAND = ".venv/bin/python scripts/eval_toxicity.py"


def read_csv(path: Path, limit: int | None = None) -> list[dict[str, str]]:
    """The rows of a CSV file (the first ``limit`` of them, when given)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows[:limit] if limit else rows


def binary_metrics(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """AUROC, and F1 / precision / recall at 0.5 and at the F1-best threshold (chosen on the
    same data, so that F1 is an optimistic upper bound), beside the F1 of flagging everything."""
    pred = score >= 0.5
    prec, rec, thr = precision_recall_curve(y, score)
    f1s = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    best = int(np.argmax(f1s[:-1]))
    return {
        "auroc": float(roc_auc_score(y, score)),
        "f1_at_0.5": float(f1_score(y, pred, zero_division=0)),
        "precision_at_0.5": float(precision_score(y, pred, zero_division=0)),
        "recall_at_0.5": float(recall_score(y, pred, zero_division=0)),
        "best_threshold": float(thr[best]),
        "f1_at_best": float(f1s[best]),
        "f1_all_positive": float(2 * y.mean() / (1 + y.mean())),  # baseline: flag everything
    }


def toxicity_model(spec: dict[str, Any]) -> Any:
    """The model a spec names (``{"name": ...}``, ``{"path": ...}`` or ``{"hf_model": ...}``), built lazily."""
    fields: dict[str, Any] = {k: tuple(v) if k == "labels" else v for k, v in spec.items()}
    return load_model(ModelSpec(**fields), task="toxicity").model


def score_texts(model: Any, texts: list[str]) -> tuple[list[dict[str, float]], float]:
    """Every text's scores, and texts per second (model loading and warm-up not counted)."""
    model.predict_batch(texts[:8])
    t0 = time.perf_counter()
    scores = model.predict_batch(texts)
    return scores, len(texts) / (time.perf_counter() - t0)


def class_vs_normal(label: np.ndarray, overall: np.ndarray) -> dict[str, float]:
    """AUROC of the overall score for each abusive class (1, 2) against normal (0) alone."""
    return {
        str(k): float(roc_auc_score((label[label != j] == k).astype(int), overall[label != j]))
        for k in (1, 2)
        for j in ({1, 2} - {k})
    }


def eval_hatexplain(model: Any, path: Path, limit: int | None = None) -> dict[str, Any]:
    rows = read_csv(path, limit)
    label = np.array([int(r["label"]) for r in rows])
    y = (label > 0).astype(int)
    scores, tps = score_texts(model, [r["text"] for r in rows])
    overall = np.array([overall_toxicity(s) for s in scores])
    out: dict[str, Any] = {
        "n": len(rows),
        "n_abusive": int(y.sum()),
        "n_normal": int((y == 0).sum()),
        "class_counts": {str(k): int((label == k).sum()) for k in sorted(set(label.tolist()))},
        "texts_per_second": tps,
        "overall": binary_metrics(y, overall),
    }
    if "toxic" in scores[0]:
        out["toxic"] = binary_metrics(y, np.array([s["toxic"] for s in scores]))
    out["auroc_per_label"] = {k: float(roc_auc_score(y, [s[k] for s in scores])) for k in scores[0]}
    out["auroc_class_vs_normal"] = class_vs_normal(label, overall)
    # keys the model card template in convert_toxblock.py reads
    out.update(
        auroc_overall=out["overall"]["auroc"],
        **{k: out["overall"][k] for k in ("f1_at_0.5", "precision_at_0.5", "recall_at_0.5")},
    )
    return out


def eval_jigsaw(model: Any, path: Path) -> dict[str, Any]:
    rows = read_csv(path)
    ys = {k: np.array([int(r[k]) for r in rows]) for k in JIGSAW_LABELS}
    scores, _ = score_texts(model, [r["comment_text"] for r in rows])
    overall = np.array([overall_toxicity(s) for s in scores])
    any_label = np.max(np.stack(list(ys.values())), axis=0)
    scored = [k for k, y in ys.items() if k in scores[0] and 0 < y.sum() < len(y)]  # AUROC needs both classes
    per_label = {k: float(roc_auc_score(ys[k], [s[k] for s in scores])) for k in scored}
    return {
        "n": len(rows),
        "n_any": int(any_label.sum()),
        "positives": {k: int(y.sum()) for k, y in ys.items()},
        "auroc_overall_vs_any": float(roc_auc_score(any_label, overall)),
        "overall_vs_any": binary_metrics(any_label, overall),
        "auroc_per_label": per_label,
    }


# -- the alternative: a logistic head on MiniLM embeddings --------------------------------------
def logistic_head(C: float) -> Any:
    """Standardised, class-balanced binary logistic regression (a scikit-learn pipeline)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=3000))


def grouped_oof_binary(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, Cs: Sequence[float], n_splits: int = 5, seed: int = 0
) -> dict[float, np.ndarray]:
    """Out-of-fold positive-class probabilities for every C, on the same grouped stratified folds."""
    folds = grouped_folds(X, y, groups, n_splits, seed)
    oofs: dict[float, np.ndarray] = {}
    for C in Cs:
        oof = np.zeros(len(y))
        for train, test in folds:
            oof[test] = logistic_head(C).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
        oofs[C] = oof
    return oofs


def eval_minilm_head(
    data: Path,
    tox_overall: np.ndarray,
    Cs: tuple[float, ...] = (0.01, 0.1, 1.0),
    encoder: Any = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The alternative: a logistic head on MiniLM embeddings trained on HateXplain, scored by
    5-fold stratified GROUPED out-of-fold predictions (group = the whitespace-normalised text,
    so duplicate posts never sit on both sides of a fold). C is picked by out-of-fold AUROC on
    the same folds, so the head's AUROC is slightly optimistic. Also trained on all of
    HateXplain and scored on the Jigsaw sample, as a cross-domain check."""
    from discourse.stages.encode.encoder import SentenceEncoder

    rows = read_csv(data / HATEXPLAIN, limit)
    texts = [r["text"] for r in rows]
    y = np.array([int(int(r["label"]) > 0) for r in rows])
    groups = np.array([" ".join(t.split()) for t in texts])
    enc = encoder or SentenceEncoder()
    t0 = time.perf_counter()
    X = enc.encode(texts).vectors
    tps = len(texts) / (time.perf_counter() - t0)
    oofs = grouped_oof_binary(X, y, groups, Cs)
    by_c = {C: float(roc_auc_score(y, oofs[C])) for C in Cs}
    best_c = max(Cs, key=lambda c: by_c[c])
    jrows = read_csv(data / JIGSAW)
    jy = np.array([max(int(r[k]) for k in JIGSAW_LABELS) for r in jrows])
    jx = enc.encode([r["comment_text"] for r in jrows]).vectors
    jp = logistic_head(best_c).fit(X, y).predict_proba(jx)[:, 1]
    return {
        "encoder": enc.model,
        "encode_texts_per_second": tps,
        "C": best_c,
        "auroc_by_C": {str(k): v for k, v in by_c.items()},
        "hatexplain_grouped_oof": binary_metrics(y, oofs[best_c]),
        "n_groups": len(set(groups.tolist())),
        "toxblock_same_rows_auroc": float(roc_auc_score(y, tox_overall)),
        "jigsaw_sample_auroc_vs_any": float(roc_auc_score(jy, jp)),
    }


# -- the run ---------------------------------------------------------------------------------------
def environment() -> dict[str, Any]:
    import torch

    return {
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
    }


def evaluate(data: Path, spec: dict[str, Any], batch_size: int, limit: int | None = None) -> dict[str, Any]:
    spec = {**spec, "batch_size": batch_size}
    model = toxicity_model(spec)
    result: dict[str, Any] = {"model": model.name, "model_spec": spec}
    result["hatexplain"] = eval_hatexplain(model, data / HATEXPLAIN, limit)
    result["jigsaw_test_sample"] = eval_jigsaw(model, data / JIGSAW)
    result["model_files"] = dict(model.record().files)
    result["environment"] = environment()
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA)
    ap.add_argument("--out", type=Path, default=Path("reports"))
    ap.add_argument("--model", default='{"name": "tox-block-0.1.2"}', help="toxicity model spec as JSON")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument(
        "--minilm-head",
        action="store_true",
        help="also measure a logistic head on MiniLM embeddings trained on HateXplain",
    )
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument(
        "--limit", type=int, default=None, help="only the first N HateXplain rows (a quick check, not a report)"
    )
    return ap.parse_args(argv)


def summary(result: dict[str, Any], batch_size: int) -> str:
    h, j = result["hatexplain"], result["jigsaw_test_sample"]
    return "\n".join(
        [
            table(result),
            f"HateXplain per-label AUROC: { ({k: round(v, 3) for k, v in h['auroc_per_label'].items()}) }",
            f"Jigsaw sample per-label AUROC: { ({k: round(v, 3) for k, v in j['auroc_per_label'].items()}) }",
            f"throughput: {h['texts_per_second']:.0f} texts/s (batch {batch_size}, "
            f"{result['environment']['torch_threads']} threads)",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    result = evaluate(args.data, json.loads(args.model), args.batch_size, args.limit)
    if args.minilm_head:
        model = toxicity_model({**json.loads(args.model), "batch_size": args.batch_size})
        rows = read_csv(args.data / HATEXPLAIN, args.limit)
        overall = np.array([overall_toxicity(x) for x in model.predict_batch([r["text"] for r in rows])])
        result["minilm_head"] = eval_minilm_head(args.data, overall, limit=args.limit)
    given = list(argv) if argv is not None else sys.argv[1:]
    result["command"] = " ".join([COMMAND, *given])
    print(summary(result, args.batch_size))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "toxicity.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "toxicity.md").write_text(markdown(result), encoding="utf-8")
    print(f"wrote {args.out / 'toxicity.json'} and {args.out / 'toxicity.md'}")
    return 0

"""A site's labelled comments: evaluate ``toxicity.v1`` on them and fit its calibration.

The CSV has columns ``text,label`` (label 0/1) and optionally ``parent`` (the text the comment
replies to: the comment is then scored as a reply to it, and ``evaluate`` also scores it without the
parent and reports how many decisions the parent changed and the metrics both ways) and one 0/1
column per product label (``insult``, ``threat``, ``identity_attack``,
``profanity``, ``severe_toxicity``) for per-attribute thresholds.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from discourse.core.errors import ConfigError, InputError
from discourse.stages.toxicity.head import PRODUCT_LABELS, logit

MIN_ROWS = 100  # fewer rows than this: calibrate warns that the fit is loose


@dataclass
class Labelled:
    texts: list[str]
    label: np.ndarray
    parents: list[str]
    attributes: dict[str, np.ndarray] = field(default_factory=dict)


def _label(value: str, where: str) -> int:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "toxic"):
        return 1
    if v in ("0", "false", "no", "", "ok"):
        return 0
    raise InputError(f"{where}: label {value!r} is not 0 or 1")


def read_labelled(path: Path) -> Labelled:
    """The rows of a ``text,label[,parent]`` CSV file."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read as CSV: {exc}") from exc
    if not rows or not {"text", "label"} <= set(rows[0]):
        raise InputError(f"{path}: needs a header with columns text,label (optional parent)")
    attrs = [a for a in PRODUCT_LABELS if a in rows[0]]
    return Labelled(
        [r["text"] or "" for r in rows],
        np.array([_label(r["label"] or "", f"{path}:{i + 2}") for i, r in enumerate(rows)]),
        [r.get("parent") or "" for r in rows],
        {a: np.array([_label(r[a] or "", f"{path}:{i + 2}") for i, r in enumerate(rows)]) for a in attrs},
    )


def _config(config: str | Path | None, calibration: dict[str, float] | None) -> Any:
    from discourse.core.config import load_config, read_user_config

    user = read_user_config(config) if config else {}
    stages = dict(user.get("stages") or {})
    tox = dict(stages.get("toxicity.v1") or {})
    if calibration is not None:
        tox["calibration"] = calibration
    stages["toxicity.v1"] = tox
    return load_config({**user, "pipeline": ["encode.v1", "toxicity.v1"], "stages": stages})


def score(
    data: Labelled,
    config: str | Path | None = None,
    calibration: dict[str, float] | None = None,
    with_parents: bool = False,
) -> list[Any]:
    """The ``toxicity`` result of every text, each scored as a one-comment thread, or (``with_parents``)
    as a reply to its row's parent where it has one."""
    from discourse.core.engine import Pipeline
    from discourse.core.thread import Comment, Thread

    def thread(i: int, text: str) -> Thread:
        parent = data.parents[i] if with_parents else ""
        if not parent:
            return Thread(id=f"row{i}", title="", comments=(Comment("c", text),))
        return Thread(id=f"row{i}", title="", comments=(Comment("p", parent), Comment("c", text, parent_id="p")))

    pipeline = Pipeline(_config(config, calibration))
    threads = [thread(i, t) for i, t in enumerate(data.texts)]
    return [doc.annotations.get("c", "toxicity") for doc in pipeline.run_many(threads)]


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The score threshold with the best F1 on these rows (in-sample)."""
    from sklearn.metrics import precision_recall_curve

    prec, rec, thr = precision_recall_curve(y, p)
    f1 = 2 * prec * rec / np.maximum(prec + rec, 1e-12)
    return float(thr[int(np.argmax(f1[:-1]))]) if len(thr) else 0.5


def metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    from sklearn.metrics import f1_score, roc_auc_score

    from discourse.train.toxicity_fit import ece

    pred = p >= threshold
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "auroc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None,
        "threshold": float(threshold),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "ece": ece(y, p),
        "confusion": {
            "tp": int((pred & (y == 1)).sum()),
            "fp": int((pred & (y == 0)).sum()),
            "fn": int((~pred & (y == 1)).sum()),
            "tn": int((~pred & (y == 0)).sum()),
        },
    }


def evaluate(path: Path, config: str | Path | None = None) -> dict[str, Any]:
    """AUROC, F1 at the configured threshold (the calibration's, else 0.5), ECE, confusion matrix."""
    data = read_labelled(path)
    used = any(data.parents)
    results = score(data, config, with_parents=used)
    cal = _config(config, None).stage("toxicity.v1").calibration
    threshold = cal.threshold if cal else 0.5
    p = np.array([r.score for r in results])
    out = metrics(data.label, p, threshold)
    out.update(model=results[0].model if results else None, file=str(path), parent_used=used)
    if used:  # the same rows without their parents: how often the context changes the decision, and how it scores
        alone = np.array([r.score for r in score(data, config)])
        replies = np.array([bool(x) for x in data.parents])
        changed = (p >= threshold) != (alone >= threshold)
        out["without_parent"] = {
            **metrics(data.label, alone, threshold),
            "replies": int(replies.sum()),
            "decisions_changed_by_parent": int(changed.sum()),
            "changed_and_now_right": int((changed & ((p >= threshold) == (data.label == 1))).sum()),
        }
    return out


def calibrate(path: Path, config: str | Path | None = None) -> dict[str, Any]:
    """A Platt map of the head's blended score on this site's rows, the F1-best threshold of the
    calibrated score and per-attribute thresholds: the ``calibration`` setting of toxicity.v1."""
    from discourse.train.toxicity_fit import fit_platt, probability

    data = read_labelled(path)
    if len(np.unique(data.label)) < 2:
        raise InputError(f"{path}: calibration needs labelled comments of both classes")
    results = score(data, config, {"a": 1.0, "b": 0.0})  # p = sigmoid(z): z = logit(p)
    if results and results[0].labels.get("toxicity") is None:
        raise ConfigError("calibrate needs a toxicity_head model (the default tox-minilm-v1)")
    z = logit(np.array([r.score for r in results]))
    a, b = fit_platt(z, data.label)
    p = probability(z, (a, b))
    cal: dict[str, Any] = {"a": round(a, 6), "b": round(b, 6), "threshold": round(best_threshold(data.label, p), 6)}
    thresholds = {
        k: round(best_threshold(y, np.array([r.labels[k] for r in results])), 6)
        for k, y in data.attributes.items()
        if len(np.unique(y)) == 2
    }
    if thresholds:
        cal["thresholds"] = thresholds
    fit = metrics(data.label, p, cal["threshold"])
    return {"calibration": cal, "rows": len(data.texts), "in_sample": fit, "few_rows": len(data.texts) < MIN_ROWS}


def calibration_yaml(result: dict[str, Any], source: Path) -> str:
    """A config file that ``--config`` accepts, with the fitted calibration."""
    import yaml

    head = (
        f"# written by `discourse calibrate {source.name}` from {result['rows']} labelled comments;\n"
        "# merge it into your site config (or pass it as --config)\n"
    )
    return head + yaml.safe_dump({"stages": {"toxicity.v1": {"calibration": result["calibration"]}}}, sort_keys=False)

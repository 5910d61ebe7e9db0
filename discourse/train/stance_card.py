"""The stance model's documents: the model card (``models/stance-minilm-v1/README.md``) and
``reports/stance.md``, both written from the results :mod:`discourse.train.stance` saves in
``reports/stance.json`` (so ``--docs-only`` can rewrite them without retraining)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.stages.stance.features import CUE_FEATURES
from discourse.stages.stance.model import LABELS
from discourse.train.stance_data import DATASETS
from discourse.train.stance_eval import MAIN, NAME
from discourse.train.stance_select import config_name

LICENCES = {
    "debagreement-dev": "DEBAGREEMENT (Pougué-Biyong et al., NeurIPS 2021 Datasets & Benchmarks), "
    "dev split as re-saved by github.com/bartoszwatrobinski/postgraduate-research-project; no licence "
    "in that repo, upstream licence NOT verified: research/evaluation use only. Reddit content.",
    "subreddit-agreement": "Lei & Huang, EMNLP 2022 Findings "
    "(github.com/YuanyuanLei69/SubReddit_agreement_dataset); NO licence stated: research/evaluation "
    "use only, do not redistribute. Reddit content. Read as cp1252.",
    "rumoureval2019-reddit-train": "RumourEval 2019 Reddit training threads (via github.com/Laprama/"
    "Rumour_Evaluation); licence not stated in the copy, upstream reportedly CC BY 4.0 (VERIFY). SDQC labels "
    "mapped support->agree, deny->disagree, comment->neutral, query->query.",
}


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(x: Any) -> str:
        return f"{x:.3f}" if isinstance(x, float) else str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def held_out_table(results: dict[str, Any]) -> str:
    cols = (*DATASETS, "overall")
    rows = []
    for system, block in results["held_out"].items():
        rows.append(
            [
                f"**{system}**" if system == MAIN else system,
                *(
                    f"{block[ds]['macro_f1']:.3f} [{block[ds]['macro_f1_95ci_group_bootstrap'][0]:.2f}, "
                    f"{block[ds]['macro_f1_95ci_group_bootstrap'][1]:.2f}]"
                    for ds in cols
                ),
            ]
        )
    return _table(["system", *cols], rows)


def per_class_table(results: dict[str, Any], system: str = MAIN) -> str:
    block = results["held_out"][system]
    rows = [
        [
            ds,
            block[ds]["n"],
            *(f"{block[ds]['f1'][lab]:.3f} (n={block[ds]['support'][lab]})" for lab in LABELS),
            block[ds]["accuracy"],
        ]
        for ds in (*DATASETS, "overall")
    ]
    return _table(["dataset", "rows", *(f"F1 {lab}" for lab in LABELS), "accuracy"], rows)


def confusion_tables(results: dict[str, Any], system: str = MAIN) -> str:
    out = []
    for ds in (*DATASETS, "overall"):
        m = results["held_out"][system][ds]["confusion"]["rows_gold_cols_pred"]
        out.append(
            f"*{ds}* (rows gold, columns predicted)\n\n"
            + _table(["gold \\ pred", *LABELS], [[lab, *row] for lab, row in zip(LABELS, m, strict=True)])
        )
    return "\n\n".join(out)


def cv_table_md(results: dict[str, Any]) -> str:
    rows = [
        [
            e.get("head", "linear"),
            e["variant"],
            config_name({"head": "linear", **e}).removeprefix("linear ").removeprefix("mlp "),
            e["macro_f1_head"],
            e["macro_f1_with_rule"],
            *(e["per_dataset_with_rule"][ds] for ds in DATASETS),
        ]
        for e in results["selection"]["cv"]
    ]
    header = [
        "head",
        "blocks",
        "hyper-parameters",
        "macro-F1 head",
        "macro-F1 +rule",
        *(f"{ds} +rule" for ds in DATASETS),
    ]
    return _table(header, rows)


def failure_modes(results: dict[str, Any]) -> str:
    cue = results["held_out_cues"]["explicit_cue_label_accuracy_held_out"]
    cue_txt = "; ".join(f"{lab} {v['gold_agrees']}/{v['rows']}" for lab, v in cue.items())
    q = results["split"]["rumoureval2019-reddit-train"]["held_out_labels"].get("query", 0)
    return f"""\
* **query is barely learned.** Only 15 training rows carry it (all RumourEval) and {q} of them are in the
  held-out part, so its held-out F1 is noise. In practice a reply is labelled query mostly through the
  explicit-cue rule ("can you give an example", "do you have a source", "what do you mean").
* **Label schemes differ.** DEBAGREEMENT and subreddit-agreement have no query label: requests for sources
  there are labelled disagree or neutral, so every forced query on those sets counts as an error. RumourEval
  labels stance toward the thread's source claim, while our target is the parent, an approximation for
  deeper replies.
* **Explicit cues are not always the gold label.** On the held-out part, rows whose label the cue rule
  decides, gold label = cue label for: {cue_txt}. The rule is a product requirement (an "I disagree"
  must read as disagree), not a measured gain: {_scan_note(results)}
* **Rhetorical questions** ("So you think X?") are usually disagreement; the head sees question features and
  often says disagree, but a question aimed at "you" is not query unless it asks for information.
* **Domain.** English Reddit, 2016-2021, politics (Brexit, US parties, climate, BLM) and COVID
  (vaccines, masks). Sarcasm, quotes without ">" markers, and replies to the article (top-level comments:
  training saw only RumourEval source posts as such targets) are weaker.
* **Grouping limits.** subreddit-agreement has no thread ids: different quotes from one thread can fall
  on both sides of a split, which may flatter its held-out score slightly.
* {_weakest(results)}
{_target_note(results)}"""


def _weakest(results: dict[str, Any]) -> str:
    out = []
    for ds in DATASETS[:2]:
        block = results["held_out"][MAIN][ds]
        m = np.array(block["confusion"]["rows_gold_cols_pred"])
        pairs = {(a, b): int(m[i, j] + m[j, i]) for i, a in enumerate(LABELS) for j, b in enumerate(LABELS) if i < j}
        (a, b), n = max(pairs.items(), key=lambda kv: kv[1])
        weakest = min(block["macro_f1_labels"], key=lambda lab: block["f1"][lab])
        out.append(
            f"{ds}: most confused pair {a}/{b} ({n} of {block['n']} held-out rows), weakest class "
            f"{weakest} (F1 {block['f1'][weakest]:.2f})"
        )
        del b
    return "; ".join(out) + "."


def _target_note(results: dict[str, Any]) -> str:
    sel = results["selection"]
    if "t" in sel["blocks"] and "rt" in sel["blocks"]:
        return ""
    by: dict[str, float] = {}
    for e in sel["cv"]:
        if e.get("head", "linear") == sel.get("head", "linear"):
            by[e["variant"]] = max(by.get(e["variant"], 0.0), e["macro_f1_with_rule"])
    scores = ", ".join(f"{v} {f:.3f}" for v, f in by.items())
    blocks = ", ".join(sel["blocks"]) or "none"
    return (
        "* **The target hardly matters to the chosen head.** Grouped CV preferred the blocks "
        f"`{blocks}` + cues (best CV macro-F1 per block set for the {sel.get('head', 'linear')} head: "
        f"{scores}); the gap to the blocks "
        "that compare reply and target is within CV noise, and the shipped head therefore scores "
        "mostly the reply's own tone and cues, not its relation to the target. A reply that agrees "
        "with a disagreeing parent in a combative tone can come out as disagree."
    )


def _scan_note(results: dict[str, Any]) -> str:
    scan = results["selection"]["cue_rule_weight_scan_log_loss"]
    w = results["cue_rule"]["weights"]
    parts = [
        f"strength {tier}: head alone {v['head_only']:.3f}, blend at w={w[tier]} {v[str(w[tier])]:.3f}"
        for tier, v in scan.items()
    ]
    ho = results["held_out"]
    return (
        "grouped-CV log-loss on the rows the rule decides was "
        + "; ".join(parts)
        + " (lowest allowed weight chosen); held-out macro-F1 overall is "
        f"{ho[MAIN]['overall']['macro_f1']:.3f} with the rule and "
        f"{ho['head only (no cue rule)']['overall']['macro_f1']:.3f} without."
    )


def head_description(sel: dict[str, Any]) -> str:
    if sel.get("head", "linear") == "mlp":
        return (
            "A one-hidden-layer ReLU network with a softmax output, trained class-balanced with Adam "
            "(scikit-learn `MLPClassifier`, exported to `discourse.models.heads.MLPHead`: numpy only at "
            "prediction time"
        )
    return "A class-balanced multinomial logistic regression (`discourse.models.heads.LinearHead`"


def _head_comparison(sel: dict[str, Any]) -> str:
    best = sel.get("best_by_head", {})
    if not best:
        return "linear heads only"
    return "best grouped-CV macro-F1 with the cue rule: " + "; ".join(
        f"{kind} {v['macro_f1_with_rule']:.3f} ({v['variant']}, {v['config']})" for kind, v in best.items()
    )


def card_text(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The model card (``models/stance-minilm-v1/README.md``)."""
    sel = results["selection"]
    w = results["cue_rule"]["weights"]
    data_rows = [
        [ds, v["rows"], v["groups"], ", ".join(f"{k} {n}" for k, n in sorted(v["labels"].items())), LICENCES[ds]]
        for ds, v in meta["training_data"].items()
    ]
    text = f"""# stance-minilm-v1 (version {results["version"]})

Stance of a reply toward its target — its parent comment, or the article for a top-level comment — as
**agree / disagree / neutral / query**. {head_description(sel)}, weights in `model.safetensors`,
{meta["feature_spec"]["dim"]}-d all-MiniLM-L6-v2 vectors) over
`discourse.stages.stance.features.pair_features`: `[r, t, r*t, |r-t|]` plus {len(CUE_FEATURES)} cue
features (`{", ".join(CUE_FEATURES)}`). Selected blocks: `{", ".join(sel["blocks"]) or "none"}` + cues
(columns of unused blocks have zero weight); {sel.get("config", f"C = {sel.get('C')}")}. The head kind
(`head` in `model.json`) was chosen by the same grouped CV as its hyper-parameters
({_head_comparison(sel)}). Used by the `stance.v1` stage through
`discourse.stages.stance.model.StanceClassifier`.

## The explicit-cue rule

A cue from `find_cues` with strength >= 0.8 and label agree, disagree or query decides the label: the
strongest such cue wins (two of equal strength with different labels cancel, and the head decides).
Scores become `(1 - w) * head + w * onehot(cue label)` with w = {w["1"]} for first-person stance verbs
(strength 1.0: "I disagree", "I am going to disagree with you", "I don't agree") and w = {w["0.8"]} for
formulas (0.8: "your points are respected", "you're wrong", "can you give an example?"). Every w is
above 0.5, so the cue label is always the arg-max; the values were picked by grouped cross-validation
log-loss among the weights that keep that guarantee. The deciding cue phrase is the first evidence
item. Concessions ("I don't disagree", "fair enough") never decide; they are features.

## Training data

Read from `../shared/data/labeled` by `discourse.train.stance_data`; nothing is copied into the repository.

{_table(["dataset", "rows", "groups", "labels", "source and licence"], data_rows)}

**Licence note.** Two of the three sources state no licence and are marked research/evaluation use only;
these weights are derived from them. Treat the model as research use until the licences are cleared.

## Held-out scores

About 20% of the groups of every dataset (DEBAGREEMENT submissions, RumourEval threads, subreddit-agreement
quote groups) were held out before any selection; the configuration was chosen by grouped 5-fold CV on
the rest, fitted on the rest, and scored once on the held-out part. The shipped head is the same
configuration refitted on all rows. Macro-F1 is over the labels present in each dataset (3 for
DEBAGREEMENT and subreddit-agreement, 4 for RumourEval and overall); brackets are 95% group-bootstrap
intervals.

{held_out_table(results)}

Per class ({MAIN}):

{per_class_table(results)}

## Known failure modes

{failure_modes(results)}

## Retrain

```
.venv/bin/python scripts/train_stance.py
```

(embeddings cached under `~/.cache/discourse/`; rewrites this folder, `models/registry.json`,
`reports/stance.md` and `reports/stance.json`). Library versions are in `model.json`.
"""
    return text


def report_text(results: dict[str, Any]) -> str:
    """``reports/stance.md``."""
    sel = results["selection"]
    split_rows = [
        [
            ds,
            v["selection_rows"],
            v["selection_groups"],
            v["held_out_rows"],
            v["held_out_groups"],
            ", ".join(f"{k} {n}" for k, n in sorted(v["held_out_labels"].items())),
        ]
        for ds, v in results["split"].items()
    ]
    scan = results["selection"]["cue_rule_weight_scan_log_loss"]
    shown = ("0.51", "0.55", "0.7", "0.85", "0.95")
    scan_rows = [[tier, int(v["n_rows"]), v["head_only"], *(v[k] for k in shown)] for tier, v in scan.items()]
    ll = results["held_out_log_loss"]
    text = f"""# Stance model evaluation: {NAME} {results["version"]}

Reproduce: `{results["command"]}` (about {results.get("runtime_seconds", 0) / 60:.0f} minutes on 2 cores; the
encoder pass is cached under `~/.cache/discourse/`). Numbers below are from `reports/stance.json`.

## Split

Whole groups held out (one fold of a stratified grouped 5-fold split per dataset, seed {sel["seed"]}); the
held-out part is used for nothing but the scores below.

{
        _table(
            ["dataset", "selection rows", "selection groups", "held-out rows", "held-out groups", "held-out labels"],
            split_rows,
        )
    }

## Selection (grouped 5-fold CV on the selection part)

Criterion: pooled 4-label macro-F1 of out-of-fold predictions with the cue rule applied, over linear
heads (class-balanced logistic regression, C) and one-hidden-layer ReLU MLP heads (class-balanced
per-row weights, Adam, batch 128; hidden size, L2 alpha, epochs scored from one run per fold). Chosen:
{sel.get("head", "linear")} head, blocks `{", ".join(sel["blocks"])}` + cues,
{sel.get("config", f"C = {sel.get('C')}")} ({_head_comparison(sel)}).

{cv_table_md(results)}

Cue-rule weight (out-of-fold log-loss on the rows each tier decides; weights must exceed 0.5):

{_table(["tier", "rows", "head only", "w=0.51", "w=0.55", "w=0.70", "w=0.85", "w=0.95"], scan_rows)}

Chosen weights: {results["cue_rule"]["weights"]}.

## Held-out macro-F1 (95% group-bootstrap interval)

{held_out_table(results)}

Held-out log-loss: head only {ll["head_only"]:.3f}, with the cue rule {ll["with_cue_rule"]:.3f}.
"Majority class" predicts each dataset's most frequent selection-part label; "cues-only rules" takes the
strongest cue of strength >= 0.5 (concession = agree; none or a tie = neutral); "cues-only head" is the
same logistic regression on the {len(CUE_FEATURES)} cue features alone.

## Per class and confusion ({MAIN})

{per_class_table(results)}

{confusion_tables(results)}

## Known failure modes

{failure_modes(results)}
"""
    return text


def write_card(path: Path, results: dict[str, Any], meta: dict[str, Any]) -> None:
    path.write_text(card_text(results, meta), encoding="utf-8")


def write_report(path: Path, results: dict[str, Any]) -> None:
    """Write the head's report, keeping the cross-encoder's section (scripts/train_stance_pair.py) if any."""
    from discourse.train.stance_pair_card import preserved_section

    kept = preserved_section(path)
    path.write_text(report_text(results).rstrip() + ("\n\n" + kept if kept else "") + "\n", encoding="utf-8")

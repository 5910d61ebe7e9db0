"""The model card of ``tox-minilm-v1`` and ``reports/toxicity.md`` / ``.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGET = 0.85
LICENCES = [
    ("hatexplain", "MIT upstream (HateXplain, Mathew et al. 2021; 'verify' in PROVENANCE)"),
    ("ruddit", "annotations MIT; text re-hydrated by a third party: **research use only**, not redistributed"),
    ("stormfront", "CC BY-SA 3.0 ES (share-alike)"),
    ("jigsaw-sample", "CC0 (Jigsaw test set sample)"),
    ("toxic-spans", "CC0 (SemEval-2021 Task 5 train + trial); all posts positive"),
]


def _f(x: float) -> str:
    return f"{x:.3f}"


def loso_table(r: dict) -> str:
    lines = [
        "| held-out source | rows (pos) | tox-block max alone | tox-minilm-v1 (C, beta by inner LOSO) | >= 0.85? |",
        "|---|---|---|---|---|",
    ]
    for s, v in r["loso"].items():
        lo, hi = v["ci"]
        tlo, thi = v["toxblock_ci"]
        lines.append(
            f"| {s} | {v['n']} ({v['positives']}) | {_f(v['toxblock_auroc'])} ({_f(tlo)}–{_f(thi)}) | "
            f"**{_f(v['auroc'])}** ({_f(lo)}–{_f(hi)}; C={v['C']}, beta={v['beta']}) | "
            f"{'met' if v['auroc'] >= TARGET else 'not met'} |"
        )
    return "\n".join(lines)


def calibration_table(r: dict) -> str:
    lines = [
        "| held-out source | base rate | ECE sigmoid(z) | ECE Platt from other sources (mean p) | "
        "ECE Platt on 200 rows of the site |",
        "|---|---|---|---|---|",
    ]
    for s, v in r["calibration"].items():
        lines.append(
            f"| {s} | {_f(v['base_rate'])} | {_f(v['ece_sigmoid_z'])} | {_f(v['ece_cross_source_platt'])} "
            f"({_f(v['mean_p_cross_source_platt'])}) | {_f(v['ece_site_platt'])} |"
        )
    return "\n".join(lines)


def reliability_table(r: dict) -> str:
    lines = ["| source | calibration | bin | rows | mean p | observed |", "|---|---|---|---|---|---|"]
    for s, v in r["calibration"].items():
        for kind, key in (("other sources", "reliability_cross_source_platt"), ("site", "reliability_site_platt")):
            for b in v[key]:
                lines.append(f"| {s} | {kind} | {b['bin']} | {b['n']} | {_f(b['mean_p'])} | {_f(b['observed'])} |")
    return "\n".join(lines)


def evidence_text(r: dict) -> str:
    ev, lc = r.get("evidence"), r["long_case"]
    parts = []
    if ev:
        lo, hi = ev["ci"]
        parts.append(
            f"Evidence char-F1 (SemEval-2021 per-post character F1) on {ev['posts']} held-out toxic-spans posts "
            f"(grouped 20 % split, seed 0; {ev['posts_with_empty_gold']} with empty gold): **{_f(ev['char_f1'])}** "
            f"(95 % CI {_f(lo)}–{_f(hi)}; {_f(ev['char_f1_nonempty_gold'])} on posts with gold spans). "
            f"Target 0.65: {'met' if ev['char_f1'] >= 0.65 else 'not met'}. Method: tox-block's occlusion words "
            "of the best window, every occurrence as character offsets, whitespace-separated neighbours merged. "
            "This is now only the fallback (no token scores from encode.v1); the default evidence is "
            "tox-spans-v1 (its card, and the targets below)."
        )
    parts.append(
        f"Long comment (a toxic sentence followed by 260 ordinary words, {lc['text_words']} words): tox-block on "
        f"its last 100 words {lc['toxblock_last_100_words']:.4f}; windowed (80 words, stride 40, max) "
        f"**{lc['toxblock_windowed']:.4f}**, evidence {lc['evidence']} at {lc['evidence_spans']}. "
        f"The whole toxicity.v1 stage with this head scores it {lc.get('stage_score', float('nan')):.4f}."
    )
    return "\n\n".join(parts)


def card_markdown(meta: dict, r: dict) -> str:
    b = meta["blend"]
    lic = "\n".join(f"| {s} | {text} |" for s, text in LICENCES)
    rows = meta["training"]["rows"]
    pos = meta["training"]["positives"]
    data = "\n".join(f"| {s} | {rows[s]} | {pos[s]} |" for s in rows)
    return f"""# {r["model"]} (version {meta["version"]})

Toxicity of a comment as one **ranking score** plus labels. A logistic head on the shared
all-MiniLM-L6-v2 vector (the `encode.v1` pass, no second encoder run) and the logits of
tox-block-0.1.2's six raw scores ({meta["inputs"]}; weights in `model.safetensors`, the scaler
folded in), blended with tox-block's own max logit: `z = (1 - {b["beta"]}) z_head + {b["beta"]} z_tox`
(both z-scored with training statistics), then `p = sigmoid(a z + b)` with the shipped Platt map
(a={meta["platt"]["a"]:.4f}, b={meta["platt"]["b"]:.4f}) or a site's (`calibration:` in the
`toxicity.v1` config, written by `discourse calibrate`). C={meta["training"]["C"]} and beta were
chosen by leave-one-source-out. Model kind `toxicity_head`; tox-block runs as its `feature_model`.

**Opt-in, not the default.** It ranks better than tox-block across sources (below), but on the
reference thread it scores civil disagreement as toxic ("Hello Xoli ... I am going to disagree with
you" 0.71, "Okay, thank you ... I still disagree" 0.91) and drops the attack on the commenters ("CIA
trolls and hasbarats will cry and rage") to 5th in the queue, where tox-block puts it 1st. Use it
with `stages: {{toxicity.v1: {{model: {{name: tox-minilm-v1}}}}}}` and calibrate it on your site first.

**Licence: research use.** The weights are derived from ruddit (re-hydrated Reddit text, research
use only) and stormfront (CC BY-SA 3.0 ES); without them the head is worse than tox-block alone
(offline experiment: ruddit 0.774, stormfront 0.739).

## Labels

`toxicity` is the blended score `p`. The others are tox-block's raw scores, renamed:
`severe_toxicity` = severe_toxic, `insult` = insult, `threat` = threat, `identity_attack` =
identity_hate, `profanity` = obscene. tox-block's six raw labels are kept beside them.
A comment of more than 90 words is read by tox-block in windows of 80 words (stride 40); the
window with the highest max label gives the labels and the evidence.

## Training data (`../shared/data/labeled`, not copied)

| source | rows | positives |
|---|---|---|
{data}

| source | licence |
|---|---|
{lic}

Weights: each source's total ~ min(rows, 5000), classes balanced within a source, then globally.

## Held-out scores (leave-one-source-out AUROC, target 0.85 on each)

{loso_table(r)}

jigsaw-sample is 101 rows of the Jigsaw test set, which tox-block was trained beside: in-domain for it.

## Calibration

The score is a ranking; calibration does not travel across sources (base rates differ from 11 %
to 59 %). Fit a site's Platt map on ~100-200 of its labelled comments (`discourse calibrate`).

{calibration_table(r)}

## Evidence and long comments

{evidence_text(r)}

## Known failure modes

- Coded hate without profanity and hatexplain-style posts: AUROC about 0.72 held out.
- Civil disagreement addressed to another commenter scores high (the training sources pair "you" and
  disagreement with offence): on the reference Idlib thread "Hello Xoli. I am going to disagree with
  you…" scores 0.71 and "Okay, thank you for your response. I still disagree…" 0.91, above "CIA trolls
  and hasbarats will cry and rage." (0.61), which tox-block alone ranks second. On r/nfl, 20 of 200
  comments score >= 0.5 (tox-block alone: 14).
- A long comment is read by tox-block in windows, but the encoder vector pools the whole comment, so
  the head dilutes a short attack inside long ordinary text (see the long-comment case above).
- Scores are not probabilities on a new site until calibrated there.

Reproduce: `{r["command"]}` (about {r["seconds"]:.0f} s here with the encoder pass cached).
"""


def write_card(folder: Path, meta: dict, r: dict) -> None:
    (folder / "README.md").write_text(card_markdown(meta, r), encoding="utf-8")


def report_markdown(r: dict[str, Any]) -> str:
    return f"""# Toxicity: tox-minilm-v1 vs tox-block alone

Written by `{r["command"]}` (deterministic; reads `../shared/data/labeled`). Evaluate on your own
labelled comments with `discourse evaluate toxicity FILE.csv`; calibrate with `discourse calibrate FILE.csv`.

## Leave-one-source-out AUROC (95 % group-bootstrap intervals)

{loso_table(r)}

Shipped head: C={r["final"]["C"]}, beta={r["final"]["beta"]}, Platt a={r["final"]["platt"][0]:.4f},
b={r["final"]["platt"][1]:.4f}.

## Calibration (ECE, 10 equal-width bins)

{calibration_table(r)}

### Reliability

{reliability_table(r)}

## Evidence and long comments

{evidence_text(r)}
"""


def write_reports(folder: Path, r: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "toxicity.json").write_text(json.dumps(r, indent=1) + "\n", encoding="utf-8")
    (folder / "toxicity.md").write_text(report_markdown(r), encoding="utf-8")

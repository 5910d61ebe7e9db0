"""The toxicity evaluation as a table and as ``reports/toxicity.md``
(the numbers come from :mod:`discourse.train.eval_toxicity`)."""

from __future__ import annotations

from typing import Any


def _row(data: str, n: int, score: str, m: dict[str, float]) -> str:
    cells = [
        f"{m[k]:.3f}"
        for k in ("auroc", "f1_at_0.5", "precision_at_0.5", "recall_at_0.5", "best_threshold", "f1_at_best")
    ]
    return f"| {data} | {n} | {score} | " + " | ".join(cells) + " |"


def table(r: dict[str, Any]) -> str:
    h, j = r["hatexplain"], r["jigsaw_test_sample"]
    lines = [
        "| data | n | score | AUROC | F1@0.5 | P@0.5 | R@0.5 | best thr | F1@best |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [_row("HateXplain", h["n"], name, h[name]) for name in ("overall", "toxic") if name in h]
    lines.append(_row("Jigsaw test sample", j["n"], "overall vs any", j["overall_vs_any"]))
    return "\n".join(lines)


def markdown(r: dict[str, Any]) -> str:
    h, j, env = r["hatexplain"], r["jigsaw_test_sample"], r["environment"]
    per_h = ", ".join(f"{k} {v:.3f}" for k, v in h["auroc_per_label"].items())
    per_j = ", ".join(f"{k} {v:.3f} ({j['positives'][k]} pos)" for k, v in j["auroc_per_label"].items())
    vs = h["auroc_class_vs_normal"]
    prev = h["n_abusive"] / h["n"]
    toxic = f"; 'toxic' alone AUROC **{h['toxic']['auroc']:.3f}**" if "toxic" in h else ""
    text = f"""# Toxicity: held-out measurements of `{r["model"]}`

Reproduce with (from the repository root, `../shared/data` present):

    {r["command"]}

{table(r)}

F1@best uses the threshold that maximises F1 on the same data (an optimistic bound). On
HateXplain, flagging every post already gives F1 {h["overall"]["f1_all_positive"]:.3f} ({prev:.0%} of posts
are abusive), so only AUROC and the F1 at a fixed threshold say anything about the model.

## HateXplain (n = {h["n"]:,}: {h["n_normal"]:,} normal, {h["n_abusive"]:,} abusive)
Twitter and Gab posts; label 0 = normal vs 1 and 2 = the two abusive classes (class counts
{h["class_counts"]}). tox-block never saw this data. In this preprocessed copy the text is
**lower-cased and punctuation-stripped**, user mentions are `<user>`: tox-block lower-cases and strips
the same punctuation itself, so little is lost for it, but a cased model would be handicapped.

- Overall score (`overall_toxicity`): AUROC **{h["overall"]["auroc"]:.3f}**{toxic}.
- Per label AUROC (abusive vs normal): {per_h}.
- Overall score, class 1 vs normal AUROC {vs["1"]:.3f}; class 2 vs normal {vs["2"]:.3f}.
- Why tox-block is weak here: HateXplain's "normal" posts often swear or use reclaimed slurs ("yas bitch",
  "i fucking hate you lmao") and score high, while many abusive posts are coded or profanity-free
  group hostility ("most queers are alcoholics", immigration conspiracies) that a Wikipedia-talk
  model scores near 0. Treat the toxicity score as "abusive, profane register", not as hate speech.

## Jigsaw test-set sample (n = {j["n"]}, {j["n_any"]} with any label)
Wikipedia talk comments from IBM's MAX-Toxic-Comment-Classifier samples (pre-processed by IBM:
lower-cased, newlines and quotes stripped). **Only {j["n"]} rows and {j["n_any"]} positives**
(severe_toxic, threat and identity_hate have one positive each): per-label AUROCs here are anecdotes.

- Overall vs any label: AUROC **{j["auroc_overall_vs_any"]:.3f}**; per label: {per_j}.
- **Probably not held out.** PROVENANCE says the rows come from the Jigsaw *test* set, which was
  not in Jigsaw's train.csv. But tox-block's `training_pipeline.py` trains on `merged.csv`, not
  `train.csv`, and its notebook counts 2,117 identity_hate positives in `merged.csv` = 1,405 in
  train.csv + 712 in the labelled test set: the shipped 0.1.2 model was most likely trained on train
  **and** the labelled test set. These numbers are therefore a sanity check of the port, not a
  held-out score; HateXplain is the only truly unseen data here.

## Throughput
{h["texts_per_second"]:,.0f} texts/s for `predict_batch` over the {h["n"]:,} HateXplain posts
(batch {r["model_spec"].get("batch_size")}, length-sorted, {env["torch_threads"]} torch threads,
torch {env["torch"]}, {env["machine"]}).
"""
    m = r.get("minilm_head")
    if m:
        o, f1_tox = m["hatexplain_grouped_oof"], h["overall"]["f1_at_0.5"]
        text += f"""
## Alternative considered: logistic head on MiniLM embeddings (not shipped)
`--minilm-head`: all-MiniLM-L6-v2 mean-pooled embeddings ({m["encode_texts_per_second"]:.0f} texts/s)
-> standardised logistic regression (class-balanced, C = {m["C"]} picked from {list(m["auroc_by_C"])}
by out-of-fold AUROC on the same folds), trained on HateXplain normal vs abusive and scored by 5-fold
stratified grouped out-of-fold predictions (groups = whitespace-normalised text,
{m["n_groups"]:,} groups).

| score on HateXplain (same {h["n"]:,} rows) | AUROC | F1@0.5 |
|---|---|---|
| {r["model"]} overall (never trained on HateXplain) | {m["toxblock_same_rows_auroc"]:.3f} | {f1_tox:.3f} |
| MiniLM head, grouped out-of-fold (in-domain) | {o["auroc"]:.3f} | {o["f1_at_0.5"]:.3f} |

Trained on all of HateXplain, the head scores AUROC {m["jigsaw_sample_auroc_vs_any"]:.3f} on the
101-row Jigsaw sample (any label), against tox-block's {j["auroc_overall_vs_any"]:.3f} (which likely saw
those rows in training).
"""
    return text

"""The cross-encoder's documents: ``models/stance-pair-minilm-v1/MODEL_CARD.md`` and its section of
``reports/stance.md`` (between markers, so the head's report and this section can each be rewritten
without the other), both from the results :mod:`discourse.train.stance_pair_ship` computes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from discourse.train.stance_pair_data import STAGE_B

START = "<!-- stance-pair:start (written by scripts/train_stance_pair.py) -->"
END = "<!-- stance-pair:end -->"
POOLED = "rumoureval reddit+twitter"
HEAD_NOTE = """\
The shipped head `stance-minilm-v1` was refit on ALL its rows, these held-out DEBAGREEMENT,
subreddit-agreement and RumourEval Reddit rows included, so its row above is optimistic on those three
sets; its honest held-out scores (fit without them) are in the head's table above: DEBAGREEMENT 0.509,
subreddit-agreement 0.616, RumourEval Reddit 0.333. It never saw RumourEval Twitter."""
COLS = (*STAGE_B, POOLED)

DATA = """\
| set | use | rows | licence |
|---|---|---|---|
| fnc1 (train + test) | stage A | 800 (balanced; `unrelated` dropped) | **research use** (no licence stated) |
| perspectrum | stage A | 2,500 | CC BY-SA 4.0 |
| debatepedia-argrel | stage A | 2,500 | not stated (Debatepedia CC BY-SA 3.0 upstream) |
| ibm-claim-stance | stage A | 2,393 (target = motion) | CC BY-SA 3.0 |
| snli-dev-test-esnli | stage A | 2,500 | CC BY-SA 4.0 / MIT (e-SNLI) |
| debagreement-dev | stage B | 3,428 train / 860 held out | **research use only** (licence not verified) |
| subreddit-agreement | stage B | 2,348 / 586 | **no licence: research use only** |
| rumoureval2019-reddit-train | stage B | 334 / 70 | reportedly CC BY 4.0 (verify) |
| rumoureval2019-twitter-train | stage B | 3,379 / 843 | RumourEval 2019 (Twitter terms; research) |

SICK was left out (CC BY-NC-SA: non-commercial). Because FNC-1, DEBAGREEMENT and subreddit-agreement
carry no licence that allows more, **the weights are for research use only**."""


def _cell(block: Mapping[str, Any]) -> str:
    lo, hi = block["macro_f1_95ci_group_bootstrap"]
    return f"{block['macro_f1']:.3f} [{lo:.2f}, {hi:.2f}]"


def table(results: Mapping[str, Any]) -> str:
    lines = ["| system | " + " | ".join(COLS) + " |", "|---|" + "---|" * len(COLS)]
    for system, block in results["held_out"].items():
        lines.append(f"| {system} | " + " | ".join(_cell(block[c]) for c in COLS) + " |")
    return "\n".join(lines)


def per_class(results: Mapping[str, Any], system: str) -> str:
    block = results["held_out"][system]
    labels = ("agree", "disagree", "neutral", "query")
    lines = ["| set | rows | " + " | ".join(f"F1 {x}" for x in labels) + " | accuracy |", "|---|" + "---|" * 6]
    for c in COLS:
        b = block[c]
        f1 = " | ".join(f"{b['f1'][x]:.2f} ({b['support'][x]})" for x in labels)
        lines.append(f"| {c} | {b['n']} | {f1} | {b['accuracy']:.3f} |")
    return "\n".join(lines)


def _shipped(results: Mapping[str, Any]) -> str:
    return next(k for k in results["held_out"] if k.startswith("**"))


def targets(results: Mapping[str, Any]) -> str:
    b = results["held_out"][_shipped(results)]
    rows: Sequence[tuple[str, float, float]] = (
        ("DEBAGREEMENT held-out macro-F1", b[STAGE_B[0]]["macro_f1"], 0.60),
        ("subreddit-agreement held-out macro-F1", b[STAGE_B[1]]["macro_f1"], 0.68),
        ("RumourEval Reddit + Twitter macro-F1", b[POOLED]["macro_f1"], 0.50),
        ("RumourEval query F1", b[POOLED]["f1"]["query"], 0.50),
    )
    out = ["| target | measured | goal | met |", "|---|---|---|---|"]
    out += [f"| {n} | {v:.3f} | >= {g:.2f} | {'yes' if v >= g else '**no**'} |" for n, v, g in rows]
    return "\n".join(out)


def section(results: Mapping[str, Any]) -> str:
    return f"""{START}
## The cross-encoder `{results["model"]}` {results["version"]} (reads reply AND parent)

Reproduce: `nice -n 19 {results["command"]}` (about an hour on 2 shared cores; resumes from its
checkpoints). All-MiniLM-L6-v2 fine-tuned end to end over `[CLS] target [SEP] reply [SEP]` (256
tokens; a long target keeps the quoted passage or its sentences most similar to the reply): stage A
one epoch on pair/NLI data, stage B one epoch on the training groups of the four sets below, then
one more at lr 2e-5 with class weights balanced per dataset. {results["seed"]}: differences under
about 0.03 are within the intervals. The held-out groups are those of the head's split above (and
the same rule for RumourEval Twitter, grouped by thread); the head was run on the same pairs.
Macro-F1 over the labels present [95% group-bootstrap interval]:

{table(results)}

{HEAD_NOTE}

Per class, the shipped system (F1 (gold rows)):

{per_class(results, _shipped(results))}

Targets of issue 9:

{targets(results)}

fp16 weights vs fp32 on the held-out rows, share of equal labels: {results["fp16_label_agreement_with_fp32"]}.

Not compared here: a head on frozen features of both sides (`[r, t, r*t, |r-t|]`, no fine-tuning)
was measured by an earlier session on these splits at DEBAGREEMENT 0.448, subreddit-agreement
0.627, RumourEval Twitter 0.326 (scratch code, not rerun): reading the pair jointly is what helps.
{END}"""


def write_report_section(path: Path, results: Mapping[str, Any]) -> None:
    """Put (or replace) the cross-encoder section at the end of ``reports/stance.md``."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Stance model evaluation\n"
    if START in text:
        text = text[: text.index(START)].rstrip() + "\n"
    path.write_text(text.rstrip() + "\n\n" + section(results) + "\n", encoding="utf-8")


def preserved_section(path: Path) -> str:
    """The cross-encoder section of an existing report ("" if none), for the head's report writer."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START not in text or END not in text:
        return ""
    return text[text.index(START) : text.index(END) + len(END)]


def docs_only(out: Path, reports: Path) -> None:
    """Rewrite the card and the report section from the saved ``eval.json`` and ``model.json``."""
    import json

    results = json.loads((out / "eval.json").read_text(encoding="utf-8"))
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    write_card(out / "MODEL_CARD.md", results, meta)
    write_report_section(reports / "stance.md", results)


def write_card(path: Path, results: Mapping[str, Any], meta: Mapping[str, Any]) -> None:
    path.write_text(
        f"""# {meta["name"]} {meta["version"]}: stance of a reply toward what it answers

Labels: {", ".join(meta["labels"])}. Kind `stance_pair` (discourse/stages/stance/pair_model.py):
{meta["architecture"]}, read over {meta["input"]}, at most {meta["max_length"]} tokens. Weights fp16
(45 MB), computed in bf16 autocast where the CPU has bf16 dot products. An explicit cue ("I
disagree", "can you give an example?") decides the label over the model (`cue_rule` in model.json);
for model-decided labels other than neutral the stage reports the reply sentence whose removal
lowers the label's probability most (one extra batched pass).

## Use
`configs/default.yaml` -> `stages: stance.v1: model: {{name: {meta["name"]}}}`.

## Data and licences
{DATA}

## Held-out scores (groups never seen in training; {results["seed"]})
{table(results)}

{per_class(results, _shipped(results))}

{targets(results)}

{HEAD_NOTE}

## Known limits
* RumourEval labels stance toward the thread's SOURCE claim, but the model reads the PARENT: many
  `deny` replies to a deny agree with their parent; that caps disagree F1 there.
* RumourEval Reddit's held-out part is 70 rows in 5 threads: its score is noise.
* One seed; the recipe (stage-B weighting) was set after an earlier session looked at held-out
  confusion of an earlier run: a mild selection effect.
* English Reddit and Twitter, 2015-2021 politics, COVID and breaking news. Sarcasm is weak.

## Reproduce
`nice -n 19 {results["command"]}`
""",
        encoding="utf-8",
    )

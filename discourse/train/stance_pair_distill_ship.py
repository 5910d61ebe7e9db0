"""Ship a distilled stance student: copy its folder into ``models/``, record its held-out scores (from
``discourse evaluate stance``) in ``model.json``/``eval.json``, write its card and register it.

    .venv/bin/python -m discourse.train.stance_pair_distill_ship STUDENT_FOLDER TEACHER_EVAL.json
        STUDENT_EVAL.json [--cost COST.md] [--name stance-pair-minilm-l3-v1]

Run only when the student holds the teacher's quality (the decision is made on the two evaluations).
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from discourse.train import REPO
from discourse.train.stance_pair_card import DATA
from discourse.train.stance_pair_distill import STUDENT
from discourse.train.stance_pair_eval import compare

VERSION = "1.0.0"
COPIED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")


def per_class(result: Mapping[str, Any]) -> str:
    labels = result["labels"]
    lines = ["| set | rows | " + " | ".join(f"F1 {x}" for x in labels) + " | accuracy | ECE |", "|---|" + "---|" * 7]
    for ds, b in result["scores"]["with_cue_rule"].items():
        f1 = " | ".join(f"{b['f1'][x]:.2f} ({b['support'][x]})" for x in labels)
        lines.append(f"| {ds} | {b['n']} | {f1} | {b['accuracy']:.3f} | {b['ece']:.3f} |")
    return "\n".join(lines)


STAGE_TEXT = {
    "stageA": "stage A pair/NLI rows, lr 4e-5, global class weights",
    "stageB": "stage B one epoch, lr 4e-5, global class weights",
    "stageB2": "one more at lr 2e-5 with per-dataset class weights",
    "stageB3": "one more at lr 1e-5 with per-dataset class weights",
}


def _stages(stages: Sequence[str]) -> str:
    return "; ".join(STAGE_TEXT.get(s, s) for s in stages)


def card(name: str, meta: Mapping[str, Any], teacher: Mapping[str, Any], student: Mapping[str, Any], cost: str) -> str:
    d = meta["distillation"]
    return f"""# {name} {VERSION}: stance of a reply toward what it answers ({len(d["layers_kept"])} layers)

Labels: agree, disagree, neutral, query. Kind `stance_pair` (discourse/stages/stance/pair_model.py): the
shipped 6-layer cross-encoder `{d["teacher"]}` with only its transformer layers {d["layers_kept"]} kept
({len(d["layers_kept"])} x 384; `num_hidden_layers` in config.json), mean-pooled over tokens + Linear(384, 4),
read over [CLS] target [SEP] reply [SEP] (at most 256 tokens), then distilled from the teacher. Weights
fp16, computed in bf16 autocast where the CPU has bf16 dot products. The explicit-cue rule and the
deciding-sentence evidence are the teacher's (`cue_rule` in model.json).

## Use
`configs/default.yaml` -> `stages: stance.v1: model: {{name: {name}}}`; the teacher stays available as
`{{name: {d["teacher"]}}}`.

## Training
Student = teacher's embeddings, layers {d["layers_kept"]} and head. Trained on the training groups of the
teacher's stage-B pairs (the held-out groups were never trained on; same split as the teacher), stages
{d["stages"]}: {_stages(d["stages"])}; batch 16, AdamW, bf16 autocast, word embeddings frozen. Loss =
alpha x T^2 x KL(teacher_T || student_T) + (1 - alpha) x class-weighted cross-entropy on the gold labels,
T = {d["temperature"]}, alpha per stage {d["alpha"]}. The teacher's probabilities were computed once on
every training pair. The teacher's stage A (pair/NLI data) was not repeated for the student (it starts
from the teacher's fine-tuned layers; on this shared machine an epoch of it cost ~20 min).

## Data and licences (the teacher's; the student saw no other data)
{DATA}

## Held-out scores beside the teacher (model + cue rule; macro-F1 [95% group-bootstrap interval])
{compare([teacher, student])}

Per class ({name}):

{per_class(student)}

## Cost of the pair pass (same pairs, same process, alternating rounds)
{cost}

## Known limits
The teacher's (see its card): RumourEval labels stance toward the SOURCE claim but the model reads the
parent; RumourEval Reddit's held-out part is 70 rows in 5 threads (noise); one seed; English Reddit and
Twitter 2015-2021. The RumourEval targets (0.50 macro-F1, query F1 0.50) are not met by either model.

## Reproduce
```
{d["command"]} --work DIR
.venv/bin/discourse evaluate stance --model {name}
.venv/bin/discourse evaluate stance --model {d["teacher"]}
.venv/bin/python -m discourse.train.stance_pair_eval \\
    reports/stance-eval-{d["teacher"]}.json reports/stance-eval-{name}.json
nice -n 19 .venv/bin/python -m discourse.train.stance_pair_bench --pass-only {d["teacher"]} {name} --threads 1
```
"""


def ship(
    folder: Path, teacher_eval: Path, student_eval: Path, cost: str, name: str = STUDENT, models: Path | None = None
) -> Path:
    from discourse.core.modelfiles import register

    models = models or REPO / "models"
    out = models / name
    out.mkdir(parents=True, exist_ok=True)
    for f in COPIED:
        shutil.copy2(folder / f, out / f)
    teacher = json.loads(teacher_eval.read_text(encoding="utf-8"))
    student = json.loads(student_eval.read_text(encoding="utf-8"))
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    meta.update(name=name, version=VERSION)
    keys = ("macro_f1", "f1", "accuracy", "n")
    meta["metrics"] = {ds: {k: b[k] for k in keys} for ds, b in student["scores"]["with_cue_rule"].items()}
    (out / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    evals = {"model": name, "version": VERSION, "student": student, "teacher": teacher, "cost": cost}
    (out / "eval.json").write_text(json.dumps(evals, indent=2) + "\n", encoding="utf-8")
    (out / "MODEL_CARD.md").write_text(card(name, meta, teacher, student, cost), encoding="utf-8")
    register(name, out, version=VERSION, root=models, kind="stance_pair")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("teacher_eval", type=Path)
    ap.add_argument("student_eval", type=Path)
    ap.add_argument("--cost", type=Path, help="markdown table from stance_pair_bench --pass-only")
    ap.add_argument("--name", default=STUDENT)
    args = ap.parse_args(argv)
    cost = args.cost.read_text(encoding="utf-8").strip() if args.cost else "(not measured)"
    print(ship(args.folder, args.teacher_eval, args.student_eval, cost, args.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train and measure ``target-stance-v1``: a cross-encoder for favor / against / none toward a named
target (issue 9: stance toward the config's targets).

    python -m discourse.train.target_stance [--data ../shared/data/labeled] [--work DIR] [--no-save]

Data: IBM ArgQ-Rank-30k (CC BY-SA 3.0), 30,497 crowd arguments pro or con 71 "We should ..."
motions. IBM's own split is by motion (train 49, dev 7, test 15 motions; none shared), and neither
model below saw any of it (the stance pair model's stage A read IBM Claim Stance: 55 other
motions). ``favor`` = pro, ``against`` = con, ``none`` = an argument paired with another motion of
the same split (seeded; half as many rows as pro + con: a sentence about something else).

The model starts from the shipped stance cross-encoder ``stance-pair-minilm-v1`` (its encoder; a new
three-way head, seeded) and is fine-tuned one epoch (lr 3e-5, batches of 16, classes balanced) on
rows sampled from the train + dev motions over ``[CLS] motion [SEP] argument`` (128 tokens). The 15
test motions are scored once, beside the stance pair model read directly (agree -> favor, disagree
-> against, neutral / query -> none). F_avg is the mean of the favor and against F1 (SemEval-2016
Task 6); also macro-F1 over the three labels, accuracy, the pro/con rows alone, confusion, ECE.

Writes ``models/target-stance-v1`` (fp16 weights, tokenizer, model.json, MODEL_CARD.md), its
registry entry and ``reports/target_stance.md`` / ``.json``. Pair-model probabilities and the
trained weights are kept in ``--work`` (a rerun reuses them).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from discourse.train import REPO
from discourse.train.stance_data import DEFAULT_ROOT

NAME = "target-stance-v1"
VERSION = "1.0.0"
PAIR_MODEL = "stance-pair-minilm-v1"
LABELS = ("favor", "against", "none")
DIRECT = {"agree": "favor", "disagree": "against", "neutral": "none", "query": "none"}
FIT_PER_LABEL = 3000  # pro and con rows sampled from the training motions (each); none: half of both
SEED = 0
LR = 3e-5
MAX_LENGTH = 128
COMMAND = "python -m discourse.train.target_stance"


@dataclass(frozen=True, slots=True)
class Row:
    target: str
    text: str
    label: str
    motion: str  # the group: the motion the argument was written for


def load_argq(root: Path) -> dict[str, list[Row]]:
    """``{"fit": train + dev motions, "test": test motions}`` of pro/con rows."""
    out: dict[str, list[Row]] = {"fit": [], "test": []}
    with open(root / "ibm-argq-30k" / "arg_quality_rank_30k.csv", encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            label = {"1": "favor", "-1": "against"}.get(r["stance_WA"].strip())
            if label is None or not r["argument"].strip():
                continue
            part = "test" if r["set"] == "test" else "fit"
            out[part].append(Row(r["topic"].strip(), " ".join(r["argument"].split()), label, r["topic"].strip()))
    return out


def with_none(rows: Sequence[Row], n_none: int, rng: random.Random) -> list[Row]:
    """``rows`` plus ``n_none`` arguments each paired with another motion of the same rows."""
    motions = sorted({r.motion for r in rows})
    picked = rng.sample(list(rows), min(n_none, len(rows)))
    extra = [Row(rng.choice([m for m in motions if m != r.motion]), r.text, "none", r.motion) for r in picked]
    return [*rows, *extra]


def sample_fit(rows: Sequence[Row], per_label: int, rng: random.Random) -> list[Row]:
    by = {lab: [r for r in rows if r.label == lab] for lab in ("favor", "against")}
    return [r for lab in ("favor", "against") for r in rng.sample(by[lab], min(per_label, len(by[lab])))]


def pair_proba(rows: Sequence[Row], work: Path, name: str) -> tuple[np.ndarray, tuple[str, ...], dict[str, Any]]:
    """The pair model's probabilities of every (target, text), kept in ``work/name.npz``."""
    from discourse.stages.stance.pair_model import StancePairClassifier

    clf = StancePairClassifier(PAIR_MODEL)
    path = work / f"{name}.npz"
    key = json.dumps([[r.target, r.text] for r in rows])
    if path.exists():
        saved = np.load(path, allow_pickle=False)
        if str(saved["key"]) == key:
            return saved["proba"], tuple(str(x) for x in saved["labels"]), json.loads(str(saved["record"]))
    t0 = time.perf_counter()
    proba = clf.predict_pairs([(r.target, r.text) for r in rows])
    seconds = time.perf_counter() - t0
    record = {**clf.record().to_json(), "pairs_per_s": round(len(rows) / seconds, 1)}
    np.savez(path, proba=proba, labels=np.array(clf.labels), key=np.array(key), record=np.array(json.dumps(record)))
    return proba, tuple(clf.labels), record


def measure(y: Sequence[str], proba: np.ndarray) -> dict[str, Any]:
    from discourse.train.stance_metrics import scores
    from discourse.train.stance_pair_eval import ece

    pred = [LABELS[i] for i in np.asarray(proba).argmax(1)]
    s = scores(list(y), pred, LABELS)
    s["f_avg"] = (s["f1"]["favor"] + s["f1"]["against"]) / 2
    s["ece"] = ece(list(y), np.asarray(proba), LABELS)
    sided = [i for i, lab in enumerate(y) if lab != "none"]  # pro/con rows alone: favor vs against
    s["favor_against_accuracy"] = float(np.mean([pred[i] == y[i] for i in sided])) if sided else 0.0
    return s


def direct(proba: np.ndarray, pair_labels: Sequence[str]) -> np.ndarray:
    """The pair model read without a fit: its probabilities summed into favor / against / none."""
    out = np.zeros((len(proba), len(LABELS)))
    for j, lab in enumerate(pair_labels):
        out[:, LABELS.index(DIRECT[lab])] += proba[:, j]
    return out


def fine_tune(rows: Sequence[Row], work: Path, log: Any) -> Any:
    """The stance pair model's encoder with a new 3-way head, one epoch over ``rows`` (kept in
    ``work/net.safetensors``; a rerun loads it)."""
    import torch
    from safetensors.torch import load_file, save_file
    from torch import nn

    from discourse.core.modelfiles import resolve
    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_model import base_tokenizer, load_net
    from discourse.train.stance_pair_fit import Epoch, row_weights, train_epoch

    folder, _ = resolve(PAIR_MODEL)
    net = load_net(folder, 4)
    torch.manual_seed(SEED)
    net.head = nn.Linear(net.head.in_features, len(LABELS))
    ckpt = work / "net.safetensors"
    if ckpt.exists():
        net.load_state_dict(load_file(str(ckpt)))
        log(f"loaded {ckpt}")
        return net.eval()
    net.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    encs = encode_pairs(base_tokenizer(), [(r.target, r.text) for r in rows], MAX_LENGTH)
    labels = [r.label for r in rows]
    torch.manual_seed(SEED)
    dt = train_epoch(
        net,
        encs,
        [LABELS.index(x) for x in labels],
        row_weights(labels, ["argq"] * len(rows), "global"),
        Epoch(LR, SEED, "global"),
        log,
    )
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(ckpt))
    log(f"trained on {len(rows)} rows in {dt:.0f}s ({len(rows) / dt:.1f} pairs/s); saved {ckpt}")
    return net.eval()


def predict(net: Any, rows: Sequence[Row]) -> tuple[np.ndarray, float]:
    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_model import base_tokenizer
    from discourse.stages.stance.pair_net import predict_proba

    t0 = time.perf_counter()
    proba = predict_proba(net, encode_pairs(base_tokenizer(), [(r.target, r.text) for r in rows], MAX_LENGTH))
    return proba, len(rows) / (time.perf_counter() - t0)


def run(data: Path, work: Path, log: Any = print) -> tuple[dict[str, Any], Any, list[Row]]:
    rng = random.Random(SEED)
    argq = load_argq(data)
    fit_rows = sample_fit(argq["fit"], FIT_PER_LABEL, rng)
    fit_rows = with_none(fit_rows, len(fit_rows) // 2, rng)
    test_rows = with_none(argq["test"], len(argq["test"]) // 2, rng)
    net = fine_tune(fit_rows, work, log)
    p_model, rate = predict(net, test_rows)
    p_pair, pair_labels, record = pair_proba(test_rows, work, "test")
    y_test = [r.label for r in test_rows]
    result = {
        "model": NAME,
        "version": VERSION,
        "command": COMMAND,
        "pair_model": record,
        "data": {
            "fit_rows": {lab: sum(r.label == lab for r in fit_rows) for lab in LABELS},
            "fit_motions": len({r.motion for r in fit_rows}),
            "test_rows": {lab: y_test.count(lab) for lab in LABELS},
            "test_motions": len({r.motion for r in test_rows}),
        },
        "training": {"lr": LR, "epochs": 1, "batch_size": 16, "max_length": MAX_LENGTH, "seed": SEED},
        "pairs_per_s_fp32_torch": round(rate, 1),
        "_fp32_proba": p_model.tolist(),  # popped by save(): the shipped weights are checked against it
        "held_out": {
            NAME: measure(y_test, p_model),
            f"{PAIR_MODEL} read directly": measure(y_test, direct(p_pair, pair_labels)),
        },
    }
    return result, net, test_rows


def _table(result: Mapping[str, Any]) -> str:
    lines = [
        "| system | F_avg | macro-F1 | accuracy | F1 favor | F1 against | F1 none | favor/against accuracy | ECE |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in result["held_out"].items():
        f = s["f1"]
        lines.append(
            f"| {name} | {s['f_avg']:.3f} | {s['macro_f1']:.3f} | {s['accuracy']:.3f} | {f['favor']:.3f} |"
            f" {f['against']:.3f} | {f['none']:.3f} | {s['favor_against_accuracy']:.3f} | {s['ece']:.3f} |"
        )
    return "\n".join(lines)


def markdown(result: Mapping[str, Any]) -> str:
    d = result["data"]
    conf = result["held_out"][NAME]["confusion"]["rows_gold_cols_pred"]
    rows = "\n".join(f"| {lab} | " + " | ".join(str(v) for v in conf[i]) + " |" for i, lab in enumerate(LABELS))
    t = result["training"]
    return f"""# Stance toward named targets: `{NAME}` {VERSION}

Reproduce: `{result["command"]}` (about 10-20 minutes on 2 cores).

`target_stance.v1` reads each sentence that names a configured target with this cross-encoder over
`[CLS] claim [SEP] sentence`, the claim being the target in the form it was trained on ("We should
support Putin"; the stage's `claim` setting), and labels it favor / against / none.

Model: the encoder of `{PAIR_MODEL}` (all-MiniLM-L6-v2 fine-tuned on stance pairs) with a new
three-way head, fine-tuned {t["epochs"]} epoch at lr {t["lr"]} (batches of {t["batch_size"]}, classes
balanced, {t["max_length"]} tokens, seed {t["seed"]}); weights fp16.

Data: IBM ArgQ-Rank-30k (CC BY-SA 3.0; Gretz et al., AAAI 2020), arguments pro or con "We should
..." motions, split by IBM by motion; no model here saw it before. Trained on rows sampled from
{d["fit_motions"]} train + dev motions ({d["fit_rows"]}); held out: the {d["test_motions"]} test
motions ({d["test_rows"]}). `none` rows are arguments paired with another motion of their split.

## Held-out motions

{_table(result)}

F_avg = mean F1 of favor and against (SemEval-2016 Task 6); "favor/against accuracy" is over the
pro/con rows alone. Confusion of `{NAME}` (rows gold, columns predicted: {", ".join(LABELS)}):

| gold | {" | ".join(LABELS)} |
|---|---|---|---|
{rows}

The shipped fp16 weights give the same label as fp32 on {result.get("shipped_equal_labels_to_fp32", "?")} of
the held-out rows (row "as shipped"). Cost: {result["pairs_per_s_fp32_torch"]} pairs/s for these short
pairs (torch fp32, 2 threads), paid only for the sentences that name a target (at most 4 per target
and comment).

## Limits

- Trained and measured on motions ("We should ban targeted killing"); a target in a config is usually
  a name ("Putin"), put in the motion's form by the `claim` setting. Stance toward a person is not
  measured here: no labelled set of that kind is in ../shared/data. Read the sentence it gives as
  evidence.
- `none` is learned from arguments about another motion: it means "this sentence is not about the
  target's question". A sentence that names the target without taking a side may still be read as
  a side.
"""


def save(result: dict[str, Any], net: Any, test_rows: Sequence[Row], out: Path, reports: Path) -> None:
    from discourse.commands import write_page
    from discourse.core.modelfiles import register
    from discourse.stages.stance.pair_model import base_tokenizer, save_folder

    meta = {
        "kind": "target_stance_pair",
        "name": NAME,
        "version": VERSION,
        "labels": list(LABELS),
        "max_length": MAX_LENGTH,
        "task": "stance of a sentence toward a named target (given as a claim): favor / against / none",
        "input": "[CLS] claim [SEP] sentence (discourse.stages.stance.pair_input.encode_pair)",
        "base_model": PAIR_MODEL,
        "metrics": {k: round(float(result["held_out"][NAME][k]), 4) for k in ("f_avg", "macro_f1")},
    }
    save_folder(net, base_tokenizer(), out, meta)
    from discourse.stages.stance.pair_model import StancePairClassifier

    shipped = StancePairClassifier(NAME, folder=out)  # the fp16 weights, on the runtime the stage uses
    p_shipped = shipped.predict_pairs([(r.target, r.text) for r in test_rows])
    fp32 = np.asarray(result.pop("_fp32_proba"))
    result["shipped_equal_labels_to_fp32"] = round(float((p_shipped.argmax(1) == fp32.argmax(1)).mean()), 4)
    result["held_out"][f"{NAME} as shipped (fp16, {shipped.backend_version})"] = measure(
        [r.label for r in test_rows], p_shipped
    )
    (out / "MODEL_CARD.md").write_text(markdown(result), encoding="utf-8")
    register(NAME, out, version=VERSION, root=out.parent, kind="target_stance_pair")
    write_page(reports, "target stance report", "target_stance.md", markdown(result), "target_stance.json", result)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=f"Fit and measure {NAME}.")
    ap.add_argument("--data", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "discourse" / NAME)
    ap.add_argument("--out", type=Path, default=REPO / "models" / NAME)
    ap.add_argument("--reports", type=Path, default=REPO / "reports")
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    from discourse.train.stance_pair import run_log

    os.environ.setdefault("OMP_NUM_THREADS", "2")
    result, net, test_rows = run(args.data, args.work, run_log(args.work))
    print(_table(result))
    if not args.no_save:
        save(result, net, test_rows, args.out, args.reports)
        print(f"wrote {args.out} and {args.reports / 'target_stance.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train, evaluate and ship the stance cross-encoder ``stance-pair-minilm-v1``.

    .venv/bin/python scripts/train_stance_pair.py [--data ../shared/data/labeled] [--work DIR] [--threads 2]

The packaged all-MiniLM-L6-v2 fine-tuned end to end over ``[CLS] target [SEP] reply [SEP]``
(:mod:`discourse.stages.stance.pair_input`, at most 256 tokens), mean-pooled, one linear layer:

1. stage A: one epoch on ~10.7k label-balanced pair/NLI rows (:mod:`discourse.train.stance_pair_data`),
   lr 4e-5, global class weights;
2. stage B: one epoch on the TRAINING groups of DEBAGREEMENT, subreddit-agreement, RumourEval
   Reddit and Twitter, lr 4e-5, global class weights; then one more at lr 2e-5 with class weights
   balanced per dataset (new shuffle seed);
3. the held-out groups of each stage-B set are scored (nothing held out was used to train or choose);
4. the weights are written fp16 into ``models/stance-pair-minilm-v1`` (labels checked unchanged
   against fp32 on the held-out rows), registered, with model card and ``reports/stance-pair.*``.

Each stage's weights are checkpointed in ``--work``; a rerun resumes after the last one done.
The shipped model is the one trained on the training groups (the held-out scores are its own).
One seed. Takes about an hour on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.train import REPO
from discourse.train.stance_data import DEFAULT_ROOT, StanceRow
from discourse.train.stance_pair_data import LABELS, NAME, STAGE_B, Rows, load_stage_a, load_stage_b, split

COMMAND = ".venv/bin/python scripts/train_stance_pair.py"
MAX_LENGTH = 256
HEAD_SEED = 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=f"Train, evaluate and ship the stance cross-encoder {NAME}.")
    ap.add_argument("--data", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "discourse" / NAME, help="checkpoints")
    ap.add_argument("--out", type=Path, default=REPO / "models" / NAME)
    ap.add_argument("--reports", type=Path, default=REPO / "reports")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-length", type=int, default=MAX_LENGTH)
    ap.add_argument("--no-save", action="store_true", help="train and evaluate; write nothing into the repo")
    ap.add_argument("--docs-only", action="store_true", help="rewrite the card and report from eval.json")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: at most this many rows per dataset")
    return ap.parse_args(argv)


def run_log(work: Path, name: str = "train.log") -> Any:
    """A ``log(msg)`` that prints a time-stamped line and appends it to ``work/name``."""
    fh = open(work / name, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the run

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        fh.write(line + "\n")
        fh.flush()

    return log


def flat_rows(rows: Mapping[str, Sequence[StanceRow]]) -> tuple[list[StanceRow], list[str]]:
    flat = [(ds, r) for ds, rs in rows.items() for r in rs]
    return [r for _, r in flat], [ds for ds, _ in flat]


def _limit(rows: Rows, n: int) -> Rows:
    return {ds: rs[:n] for ds, rs in rows.items()} if n else rows


def train(train_b: Rows, args: argparse.Namespace, log: Any) -> Any:
    """Stages A, B, B2 (each skipped when its checkpoint exists); returns the trained net."""
    import torch
    from safetensors.torch import load_file, save_file

    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_model import base_tokenizer, new_net
    from discourse.train.stance_pair_fit import Epoch, row_weights, train_epoch

    tok = base_tokenizer()
    torch.manual_seed(HEAD_SEED)  # the head's random start: unseeded, two runs differed
    net = new_net(len(LABELS))
    net.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    stage_a = _limit(load_stage_a(args.data), args.limit)
    plan = [
        ("stageA", stage_a, Epoch(4e-5, 0, "global")),
        ("stageB", train_b, Epoch(4e-5, 0, "global")),
        ("stageB2", train_b, Epoch(2e-5, 1, "per_dataset")),
    ]
    for name, data, epoch in plan:
        ckpt = args.work / f"{name}.safetensors"
        if ckpt.exists():
            net.load_state_dict(load_file(str(ckpt)))
            log(f"{name}: loaded {ckpt}")
            continue
        rows, datasets = flat_rows(data)
        labels = [r.label for r in rows]
        encs = encode_pairs(tok, [(r.target_text, r.reply_text) for r in rows], args.max_length)
        log(f"{name}: {len(rows)} rows {dict(sorted((d, datasets.count(d)) for d in set(datasets)))} {epoch}")
        torch.manual_seed(epoch.seed)
        dt = train_epoch(
            net, encs, [LABELS.index(x) for x in labels], row_weights(labels, datasets, epoch.weighting), epoch, log
        )
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(ckpt))
        log(f"{name}: {len(rows) / dt:.1f} pairs/s, {dt:.0f}s; saved {ckpt}")
    return net


def predict(net: Any, test: Rows, max_length: int) -> dict[str, np.ndarray]:
    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_model import base_tokenizer
    from discourse.stages.stance.pair_net import predict_proba

    tok = base_tokenizer()
    return {
        ds: predict_proba(net, encode_pairs(tok, [(r.target_text, r.reply_text) for r in rows], max_length))
        for ds, rows in test.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.docs_only:
        from discourse.core.modelfiles import register
        from discourse.train.stance_pair_card import docs_only
        from discourse.train.stance_pair_ship import VERSION

        docs_only(args.out, args.reports)
        register(NAME, args.out, version=VERSION, root=args.out.parent, kind="stance_pair")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    log = run_log(args.work)
    log(f"start: threads {args.threads}, max_length {args.max_length}, work {args.work}")
    train_b, test_b = (_limit(rows, args.limit) for rows in split(load_stage_b(args.data)))
    net = train(train_b, args, log)
    preds_file = args.work / "heldout_fp32.npz"
    if not preds_file.exists():
        t0 = time.perf_counter()
        np.savez(preds_file, **predict(net, test_b, args.max_length))  # type: ignore[arg-type]
        log(f"held-out predicted in {time.perf_counter() - t0:.0f}s")
    preds = dict(np.load(preds_file))
    from discourse.train.stance_metrics import scores

    for ds in STAGE_B:
        s = scores([r.label for r in test_b[ds]], [LABELS[i] for i in preds[ds].argmax(1)], LABELS)
        f1 = json.dumps({k: round(v, 3) for k, v in s["f1"].items()})
        log(f"held-out {ds}: macro-F1 {s['macro_f1']:.3f} f1 {f1}")
    if args.no_save:
        return 0
    from discourse.train.stance_pair_ship import ship

    args.reports.mkdir(parents=True, exist_ok=True)
    args.train_rows = train_b
    ship(net, test_b, preds, args, log)
    return 0

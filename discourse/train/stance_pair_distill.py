"""Distil the stance cross-encoder ``stance-pair-minilm-v1`` (6 layers) into a 3-layer student.

    nice -n 19 .venv/bin/python -m discourse.train.stance_pair_distill [--layers 0 2 4] [--work DIR]
        [--threads 2] [--time-steps N] [--out FOLDER]

The student is the teacher with only ``--layers`` of its transformer kept (same embeddings, same
head), trained on the teacher's own training pairs (:mod:`discourse.train.stance_pair_data`: stage
A, then the training groups of stage B twice, with the teacher's learning rates, seeds and class
weighting) with ``alpha * T^2 * KL`` to the teacher's probabilities plus ``(1 - alpha) *`` the
class-weighted cross-entropy on the gold labels (:class:`discourse.train.stance_pair_fit.Soft`).
The teacher's log-probabilities on every training pair are computed once and kept in ``--work``;
each stage's weights are checkpointed there (a rerun resumes). ``--time-steps N`` only times N
batches of each stage and stops. The student is written as a ``stance_pair`` folder (fp16) into
``--out`` (default: ``--work``/student), never into ``models/`` (shipping is a separate decision,
made on ``discourse evaluate stance`` of both models).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from discourse.train.stance_data import DEFAULT_ROOT
from discourse.train.stance_pair import flat_rows, run_log
from discourse.train.stance_pair_data import LABELS, NAME, Rows, load_stage_a, load_stage_b, split

STUDENT = "stance-pair-minilm-l3-v1"
STAGES = (("stageA", 0.0), ("stageB", 0.0), ("stageB2", 0.0), ("stageB3", 0.8))
"""The stages a student can go through, in order, each with its distillation weight (0: ``--alpha``).
A, B and B2 are the teacher's; B3 is one more per-dataset-weighted stage-B epoch at lr 1e-5 that
leans on the teacher (alpha 0.8)."""
COMMAND = "nice -n 19 .venv/bin/python -m discourse.train.stance_pair_distill"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=f"Distil {NAME} into a smaller stance cross-encoder.")
    ap.add_argument("--teacher", default=NAME, help="registered name or folder of the teacher")
    ap.add_argument("--layers", type=int, nargs="+", default=[0, 2, 4], help="teacher layers the student keeps")
    ap.add_argument("--data", type=Path, default=DEFAULT_ROOT)
    ap.add_argument("--work", type=Path, default=Path.home() / ".cache" / "discourse" / STUDENT)
    ap.add_argument("--out", type=Path, help="student folder (default: WORK/student)")
    ap.add_argument("--name", default=STUDENT)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the distillation term")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument(
        "--stages", nargs="+", default=["stageA", "stageB", "stageB2"], choices=[name for name, _ in STAGES]
    )
    ap.add_argument("--time-steps", type=int, default=0, help="only time this many batches per stage")
    ap.add_argument("--limit", type=int, default=0, help="smoke test: at most this many rows per dataset")
    return ap.parse_args(argv)


def student_from_teacher(teacher: Any, layers: Sequence[int]) -> Any:
    """A :class:`PairNet` with the teacher's embeddings and head and only its transformer layers
    ``layers`` (in that order): the layer count lands in the student's ``config.json``."""
    from transformers import AutoModel

    from discourse.stages.stance.pair_net import PairNet

    n = int(teacher.encoder.config.num_hidden_layers)
    if not layers or any(not 0 <= k < n for k in layers):
        raise ValueError(f"layers {list(layers)} are not layers of a {n}-layer teacher")
    cfg = copy.deepcopy(teacher.encoder.config)
    cfg.num_hidden_layers = len(layers)
    student = PairNet(AutoModel.from_config(cfg), int(teacher.head.out_features))
    state = {}
    for key, value in teacher.state_dict().items():
        parts = key.split(".")
        if parts[:3] == ["encoder", "encoder", "layer"]:
            if int(parts[3]) not in layers:
                continue
            parts[3] = str(list(layers).index(int(parts[3])))
        state[".".join(parts)] = value.clone()
    student.load_state_dict(state, strict=True)
    return student


def teacher_log_probs(teacher: Any, encs: Sequence[Any], cache: Path, log: Any) -> np.ndarray:
    """The teacher's log-probabilities (rows, labels) on ``encs``, computed once into ``cache``."""
    from discourse.stages.stance.pair_net import predict_proba

    if cache.exists():
        out = np.load(cache)
        if len(out) == len(encs):
            return out
    t0 = time.perf_counter()
    out = np.log(np.clip(predict_proba(teacher, encs), 1e-12, 1.0)).astype(np.float32)
    np.save(cache, out)
    log(f"teacher scored {len(encs)} pairs in {time.perf_counter() - t0:.0f}s -> {cache}")
    return out


def _limit(data: Rows, n: int) -> Rows:
    return {ds: rs[:n] for ds, rs in data.items()} if n else data


def train_student(args: argparse.Namespace, log: Any) -> Any:
    import torch
    from safetensors.torch import load_file, save_file

    from discourse.core.modelfiles import locate
    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_model import load_net
    from discourse.train.stance_pair_fit import Epoch, Soft, row_weights, train_epoch

    folder = Path(args.teacher) if Path(args.teacher).is_dir() else locate(args.teacher)[0]
    teacher = load_net(folder, len(LABELS))
    tok = _tokenizer(folder)
    student = student_from_teacher(teacher, args.layers)
    student.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    train_b, _ = (_limit(rows, args.limit) for rows in split(load_stage_b(args.data)))
    stage_a = _limit(load_stage_a(args.data), args.limit)
    plan = [
        ("stageA", stage_a, Epoch(4e-5, 0, "global")),
        ("stageB", train_b, Epoch(4e-5, 0, "global")),
        ("stageB2", train_b, Epoch(2e-5, 1, "per_dataset")),
        ("stageB3", train_b, Epoch(1e-5, 2, "per_dataset")),
    ]
    tag = "-".join(map(str, args.layers))
    done: list[str] = []
    for name, data, epoch in [p for p in plan if p[0] in args.stages]:
        done.append(name)
        alpha = dict(STAGES)[name] or args.alpha
        ckpt = args.work / f"{name}-L{tag}-after-{'+'.join(done)}.safetensors"
        if ckpt.exists() and not args.time_steps:
            student.load_state_dict(load_file(str(ckpt)))
            log(f"{name}: loaded {ckpt}")
            continue
        rows, datasets = flat_rows(data)
        labels = [r.label for r in rows]
        encs = encode_pairs(tok, [(r.target_text, r.reply_text) for r in rows], 256)
        soft = teacher_log_probs(teacher, encs, args.work / f"teacher-{name[:6]}-{len(rows)}.npy", log)
        log(f"{name}: {len(rows)} rows, layers {args.layers}, {epoch}, alpha {alpha}, T {args.temperature}")
        dt = train_epoch(
            student,
            encs,
            [LABELS.index(x) for x in labels],
            row_weights(labels, datasets, epoch.weighting),
            epoch,
            log,
            soft=Soft(torch.from_numpy(soft), alpha, args.temperature),
            max_steps=args.time_steps,
        )
        if args.time_steps:
            n = min(len(rows), args.time_steps * epoch.batch_size)
            epoch_min = len(rows) / n * dt / 60
            log(f"{name}: TIMING {n} pairs in {dt:.0f}s = {n / dt:.1f} pairs/s -> full epoch ~{epoch_min:.0f} min")
            continue
        save_file({k: v.contiguous() for k, v in student.state_dict().items()}, str(ckpt))
        log(f"{name}: {len(rows) / dt:.1f} pairs/s, {dt:.0f}s; saved {ckpt}")
    return student, tok, folder


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer

    from discourse.stages.encode.encoder import quiet_transformers

    quiet_transformers()
    return AutoTokenizer.from_pretrained(str(folder))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    log = run_log(args.work, "distill.log")
    log(f"start: teacher {args.teacher}, layers {args.layers}, threads {args.threads}, work {args.work}")
    student, tok, teacher_folder = train_student(args, log)
    if args.time_steps:
        return 0
    from discourse.stages.stance.pair_model import save_folder

    meta = json.loads((teacher_folder / "model.json").read_text(encoding="utf-8"))
    meta.pop("kind", None)
    meta.pop("metrics", None)
    meta.update(
        name=args.name,
        architecture=f"{NAME} with its transformer layers {args.layers} kept ({len(args.layers)} x 384), "
        "mean-pooled over tokens + Linear(384, 4); distilled from it",
        distillation={
            "teacher": NAME,
            "layers_kept": list(args.layers),
            "alpha": {name: dict(STAGES)[name] or args.alpha for name in args.stages},
            "temperature": args.temperature,
            "stages": list(args.stages),
            "command": f"{COMMAND} --layers {' '.join(map(str, args.layers))} --stages {' '.join(args.stages)}",
        },
    )
    out = args.out or args.work / "student"
    save_folder(student, tok, out, meta)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

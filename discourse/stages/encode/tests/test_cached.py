"""The encoder pass over only what it has not seen: equal, bit for bit, to a fresh pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from discourse.core.cache import ResultCache
from discourse.stages.encode.cached import encode_texts
from discourse.stages.encode.encoder import Encoded, SentenceEncoder


def _same(a: Encoded, b: Encoded) -> None:
    assert np.array_equal(a.vectors, b.vectors)
    assert list(a.n_tokens) == list(b.n_tokens) and a.capped == b.capped
    assert list(a.sentence_spans) == list(b.sentence_spans)
    for x, y in zip(a.sentence_vectors, b.sentence_vectors, strict=True):
        assert np.array_equal(x, y)
    assert (a.tokens is None) == (b.tokens is None)
    if a.tokens is not None and b.tokens is not None:
        for k in range(len(a.tokens)):
            assert a.tokens.spans(k) == b.tokens.spans(k)
            assert np.array_equal(a.tokens.vectors(k), b.tokens.vectors(k))


def _texts(n: int, seed: int) -> list[str]:
    return [f"Comment {seed}-{k}. " + "I think you are wrong about this. " * (k % 6) + "Why?" for k in range(n)]


def test_second_night_reads_the_old_comments_from_the_cache_and_matches_a_fresh_pass(
    tiny_config: dict, tmp_path: Path
) -> None:
    enc = SentenceEncoder(**{k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"})
    night1 = _texts(20, 1)
    cache = ResultCache.open(tmp_path)
    _same(encode_texts(enc, night1, cache), enc.encode(night1))
    assert cache.misses == 20 and cache.hits == 0
    night2 = night1[:10] + _texts(3, 2) + night1[10:]  # 3 new comments in the middle
    fresh = enc.encode(night2)
    again = ResultCache.open(tmp_path)
    _same(encode_texts(enc, night2, again), fresh)
    assert (again.hits, again.misses) == (20, 3)


def test_repeated_texts_are_encoded_once(tiny_config: dict) -> None:
    enc = SentenceEncoder(**{k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"})
    texts = ["[deleted]", "A real point. Another one.", "[deleted]", "", "[deleted]", ""]
    seen: list[int] = []
    real = enc.encode
    enc.encode = lambda ts, *a, **k: (seen.append(len(ts)), real(ts, *a, **k))[1]  # type: ignore[method-assign]
    out = encode_texts(enc, texts)
    assert seen == [3]
    _same(out, real(texts))


def test_a_changed_model_setting_misses(tiny_config: dict, tmp_path: Path) -> None:
    settings = {k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"}
    texts = _texts(5, 3)
    encode_texts(SentenceEncoder(**settings), texts, ResultCache.open(tmp_path))
    other = ResultCache.open(tmp_path)
    encode_texts(SentenceEncoder(**{**settings, "max_length": 32}), texts, other)
    assert other.hits == 0 and other.misses == 5


def test_token_probe_rows_come_back_from_the_cache_too(tiny_config: dict, tmp_path: Path) -> None:
    from discourse.stages.encode.encoder import TokenProbe

    settings = {k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"}
    enc = SentenceEncoder(**settings, token_probe=TokenProbe(layer=1))
    texts = _texts(8, 4)
    encode_texts(enc, texts[:5], ResultCache.open(tmp_path))
    again = ResultCache.open(tmp_path)
    out = encode_texts(enc, texts, again)
    assert (again.hits, again.misses) == (5, 3) and out.tokens is not None
    _same(out, enc.encode(texts))


def test_a_thread_that_gained_comments_gives_the_analysis_of_a_fresh_run(tiny_config: dict, tmp_path: Path) -> None:
    from discourse.api import load_threads
    from discourse.core.engine import Pipeline, Resources
    from discourse.testing import DEBATE

    def analysis(text: str, cache: ResultCache | None) -> dict:
        pipeline = Pipeline(tiny_config, Resources(cache))
        data = dict(pipeline.analysis(pipeline.run(load_threads(text.encode())[0])).to_json())
        data.pop("timings_s", None)
        return data

    night1 = DEBATE
    night2 = DEBATE.rstrip() + "\n\nNew Person\n\nI think you are all wrong about the vote, Priya.\n"
    analysis(night1, ResultCache.open(tmp_path))
    cache = ResultCache.open(tmp_path)
    incremental = analysis(night2, cache)
    assert cache.hits >= 3 and cache.misses >= 1
    assert incremental == analysis(night2, None)


def test_blobs_go_in_and_out_a_chunk_at_a_time_and_one_evicted_meanwhile_is_encoded_again(
    tiny_config: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discourse.stages.encode import cached

    monkeypatch.setattr(cached, "BLOB_CHUNK", 3)
    enc = SentenceEncoder(**{k: v for k, v in tiny_config["stages"]["encode.v1"].items() if k != "token_probe"})
    night1 = _texts(10, 5)
    cache = ResultCache.open(tmp_path)
    writes: list[int] = []
    put = cache.put_many
    monkeypatch.setattr(cache, "put_many", lambda kind, items: (writes.append(len(items)), put(kind, items))[1])
    encode_texts(enc, night1, cache)
    assert writes == [3, 3, 3, 1]  # never the whole pass's blobs at once
    night2 = night1[:4] + _texts(2, 6) + night1[4:]
    again = ResultCache.open(tmp_path)
    reads: list[int] = []
    get = again.get_many

    def get_evicting(kind: str, keys: list[str], count: bool = True) -> dict[str, bytes]:
        reads.append(len(keys))  # another run evicts one blob meanwhile
        found = get(kind, keys, count)
        if len(reads) == 2:
            found.pop(keys[0])
        return found

    monkeypatch.setattr(again, "get_many", get_evicting)
    _same(encode_texts(enc, night2, again), enc.encode(night2))
    assert max(reads) <= 3 and sum(reads) == 10

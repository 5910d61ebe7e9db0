"""tox-block gives a text the same scores, bit for bit, whatever shares its batch and however many
threads torch has: the condition for caching its results (a cached score must equal a fresh one)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from discourse.stages.toxicity.toxblock import ToxBlockClassifier

TEXTS = [
    f"Reply {k}: you are an idiot and " + "the council met to discuss the budget " * (k % 13) + "stupid " * (k % 3)
    for k in range(150)
]


@pytest.fixture(scope="module")
def toxblock() -> ToxBlockClassifier:
    return ToxBlockClassifier()  # the shipped weights (4 MB, loads in well under a second)


def scores(model: ToxBlockClassifier, texts: list[str]) -> np.ndarray:
    return np.array([[row[label] for label in model.labels] for row in model.predict_batch(texts)])


def test_a_texts_scores_do_not_depend_on_its_batch(toxblock: ToxBlockClassifier) -> None:
    together = scores(toxblock, TEXTS)
    for k in (0, 7, 149):  # alone: bit for bit, not only close
        assert np.array_equal(scores(toxblock, [TEXTS[k]])[0], together[k])
    crowd = scores(toxblock, TEXTS[40:] + ["hello there"] * 37 + ["a much longer text " * 60])
    assert np.array_equal(crowd[:110], together[40:])  # other neighbours, other positions, other batches
    assert np.array_equal(scores(toxblock, TEXTS[::-1])[::-1], together)


def test_the_thread_count_changes_nothing(toxblock: ToxBlockClassifier) -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = scores(toxblock, TEXTS[:70])
        torch.set_num_threads(2)
        two = scores(toxblock, TEXTS[:70])
        assert torch.get_num_threads() == 2  # the forward's single thread is restored after it
    finally:
        torch.set_num_threads(before)
    assert np.array_equal(one, two)


def test_every_forward_has_one_shape(toxblock: ToxBlockClassifier, monkeypatch: pytest.MonkeyPatch) -> None:
    net = toxblock._load()
    shapes: list[tuple[int, ...]] = []
    monkeypatch.setattr(net.lstm, "forward", lambda x, f=net.lstm.forward: (shapes.append(tuple(x.shape)), f(x))[1])
    toxblock.predict_batch(TEXTS[:3] + TEXTS[:100])
    toxblock.explain(["you are an idiot", "kind words"])
    assert shapes and set(shapes) == {(toxblock.batch_size, 100, 50)}

"""Fitting target-stance-v1 (discourse.train.target_stance): the held-out split is by motion, the
none rows pair an argument with another motion, the direct reading sums the pair model's labels."""

from __future__ import annotations

import random

import numpy as np
import pytest

from discourse.testing import shared_data
from discourse.train.target_stance import LABELS, Row, direct, load_argq, measure, with_none


def test_none_rows_pair_each_argument_with_another_motion() -> None:
    rows = [Row(f"m{i % 4}", f"text {i}", "favor" if i % 2 else "against", f"m{i % 4}") for i in range(40)]
    out = with_none(rows, 20, random.Random(0))
    extra = out[40:]
    assert out[:40] == rows and len(extra) == 20
    assert all(r.label == "none" and r.target != r.motion and r.target in {"m0", "m1", "m2", "m3"} for r in extra)
    assert with_none(rows, 20, random.Random(0)) == out  # seeded


def test_the_direct_reading_sums_the_pair_labels_into_three() -> None:
    p = np.array([[0.5, 0.2, 0.2, 0.1]])
    got = direct(p, ["agree", "disagree", "neutral", "query"])
    assert got.tolist() == [[0.5, 0.2, pytest.approx(0.3)]]
    s = measure(["favor", "against", "none"], np.eye(3)[[0, 1, 1]])
    assert s["f1"]["favor"] == 1.0 and s["f_avg"] == pytest.approx((1.0 + 2 / 3) / 2)
    assert s["favor_against_accuracy"] == 1.0 and list(LABELS) == ["favor", "against", "none"]


@pytest.mark.skipif(shared_data() is None, reason="needs ../shared/data")
def test_argq_is_split_by_motion() -> None:
    data = shared_data()
    assert data is not None
    parts = load_argq(data / "labeled")
    fit, test = ({r.motion for r in parts[k]} for k in ("fit", "test"))
    assert len(test) == 15 and len(fit) == 56 and not fit & test
    assert {r.label for r in parts["test"]} == {"favor", "against"}

"""Fitting the numpy heads (discourse.train.heads) and grouped cross-validation over them."""

from __future__ import annotations

import numpy as np
import pytest

from discourse.core.errors import ModelError
from discourse.models.heads import LinearHead, MLPHead
from discourse.train.heads import (
    balanced_weights,
    expand_head,
    export_mlp,
    fit_linear_head,
    fit_mlp_head,
    grouped_folds,
    grouped_oof_proba,
    grouped_oof_proba_mlp,
    library_versions,
    mlp_checkpoints,
)

LABELS = ("agree", "disagree", "neutral", "query")


def blobs(n_per: int = 15, dim: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four well separated clusters, one per label, on features of very different scales."""
    rng = np.random.default_rng(seed)
    centres = np.eye(4, dim) * 4
    X = np.concatenate([c + rng.normal(scale=0.5, size=(n_per, dim)) for c in centres])
    X[:, 1] *= 1000.0  # standardisation must cope
    return X, np.repeat(LABELS, n_per)


@pytest.fixture(scope="module")
def tiny_mlp() -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    """A 6-unit MLPClassifier fitted on 60 random rows, its standardisation and the rows."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 12)).astype(np.float32)
    y = np.array(LABELS * 15)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=50, random_state=0)
    with pytest.warns(Warning):  # not converged in 50 iterations: fine for a fixture
        clf.fit((X - mean) / scale, y)
    return clf, X, mean, scale


def test_linear_head_learns_separable_labels_in_the_given_order() -> None:
    X, y = blobs()
    order = ("query", "agree", "neutral", "disagree")
    head = fit_linear_head(X, y, order, C=1.0)
    assert isinstance(head, LinearHead) and head.labels == order
    pred = np.asarray(order)[head.predict_proba(X).argmax(1)]
    assert (pred == y).mean() == 1.0
    assert head.mean_ is not None and head.mean_[1] == pytest.approx(X[:, 1].mean(), rel=1e-5)
    assert head.meta["C"] == 1.0 and head.meta["versions"] == library_versions()


def test_linear_head_without_standardisation_stores_no_scaling() -> None:
    X, y = blobs()
    head = fit_linear_head(X / np.abs(X).max(axis=0), y, LABELS, C=10.0, standardize=False)
    assert head.mean_ is None and head.scale_ is None and head.meta["standardize"] is False


def test_linear_head_needs_every_label() -> None:
    X, y = blobs()
    with pytest.raises(ModelError, match="query"):
        fit_linear_head(X[y != "query"], y[y != "query"], LABELS, C=1.0)


def test_balanced_weights_match_scikit_learn() -> None:
    from sklearn.utils.class_weight import compute_sample_weight

    y = np.array(["a"] * 6 + ["b"] * 3 + ["c"])
    w = balanced_weights(y)
    np.testing.assert_allclose(w, compute_sample_weight("balanced", y))
    assert w[y == "a"].sum() == pytest.approx(w[y == "c"].sum())  # every class weighs the same


def test_export_mlp_matches_scikit_learn(tiny_mlp: tuple) -> None:
    clf, X, mean, scale = tiny_mlp
    head = export_mlp(clf, ["neutral", "agree", "query", "disagree"], mean, scale)
    want = clf.predict_proba((X[:7] - mean) / scale)
    got = head.predict_proba(X[:7])
    order = [list(clf.classes_).index(lab) for lab in head.labels]
    np.testing.assert_allclose(got, want[:, order], atol=1e-5)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-6)
    assert head.n_features == X.shape[1] and head.hidden == 6


def test_export_mlp_refuses_other_networks(tiny_mlp: tuple) -> None:
    from sklearn.neural_network import MLPClassifier

    clf, X, mean, scale = tiny_mlp
    deep = MLPClassifier(hidden_layer_sizes=(4, 4), max_iter=5, random_state=0)
    with pytest.warns(Warning):
        deep.fit(X, np.array(LABELS * 15))
    with pytest.raises(ModelError, match="one-hidden-layer"):
        export_mlp(deep, LABELS, mean, scale)


def test_mlp_checkpoints_train_every_label() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 5))
    y = np.array(["agree"] * 20 + ["disagree"] * 10 + ["neutral"] * 8 + ["query"] * 2)
    heads = mlp_checkpoints(X, y, LABELS, hidden=4, alpha=1.0, epochs=[1, 3])
    assert sorted(heads) == [1, 3] and heads[3].meta["epochs"] == 3
    p = heads[3].predict_proba(X)
    assert p.shape == (40, 4) and np.allclose(p.sum(axis=1), 1.0)
    assert not np.allclose(heads[1].predict_proba(X), p)  # two more epochs changed the weights
    with pytest.raises(ModelError):
        mlp_checkpoints(X[:30], y[:30], LABELS, hidden=4, alpha=1.0, epochs=[1])  # no neutral, no query


def test_one_mlp_fit_is_its_checkpoint_and_is_seeded() -> None:
    X, y = blobs()
    one = fit_mlp_head(X, y, LABELS, hidden=8, alpha=0.1, epochs=5, seed=2)
    ckpt = mlp_checkpoints(X, y, LABELS, hidden=8, alpha=0.1, epochs=[2, 5], seed=2)[5]
    assert isinstance(one, MLPHead) and one.meta["seed"] == 2
    np.testing.assert_array_equal(one.W1_, ckpt.W1_)
    np.testing.assert_array_equal(one.predict_proba(X), ckpt.predict_proba(X))
    other = fit_mlp_head(X, y, LABELS, hidden=8, alpha=0.1, epochs=5, seed=3)
    assert not np.array_equal(one.W1_, other.W1_)


@pytest.mark.parametrize("kind", ["linear", "mlp"])
def test_expanded_head_predicts_the_same_on_the_full_matrix(kind: str) -> None:
    X, y = blobs(dim=8)
    cols = np.array([0, 2, 3, 7])
    if kind == "linear":
        head = fit_linear_head(X[:, cols], y, LABELS, C=1.0)
    else:
        head = fit_mlp_head(X[:, cols], y, LABELS, hidden=4, alpha=1.0, epochs=3)
    full = expand_head(head, cols, X.shape[1], {"note": "expanded"})
    assert type(full) is type(head) and full.n_features == 8 and full.meta["note"] == "expanded"
    noise = X.copy()
    noise[:, [1, 4, 5, 6]] = np.random.default_rng(0).normal(size=(len(X), 4)) * 100  # unused columns
    np.testing.assert_allclose(full.predict_proba(noise), head.predict_proba(X[:, cols]), atol=1e-6)


def test_grouped_folds_never_split_a_group() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat([f"g{i}" for i in range(20)], 3)
    y = rng.choice(LABELS, len(groups))
    folds = grouped_folds(np.zeros((len(y), 1)), y, groups, n_splits=4, seed=0)
    assert len(folds) == 4
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested.tolist()) == list(range(len(y)))  # every row tested exactly once
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])


def test_grouped_oof_predictions_come_from_models_that_never_saw_the_group() -> None:
    """Each group's label is random and only a one-hot group id tells it: a model that saw the
    group would recall it (train accuracy 1.0), a model that did not can only guess."""
    rng = np.random.default_rng(1)
    n_groups, per = 40, 4
    groups = np.repeat([f"g{i}" for i in range(n_groups)], per)
    y = np.repeat(rng.choice(LABELS, n_groups), per)
    X = np.repeat(np.eye(n_groups), per, axis=0)
    fitted = fit_linear_head(X, y, LABELS, C=100.0)
    assert (np.asarray(LABELS)[fitted.predict_proba(X).argmax(1)] == y).mean() == 1.0
    oof = grouped_oof_proba(X, y, groups, LABELS, C=100.0, n_splits=5, seed=0)
    assert oof.shape == (len(y), 4) and np.allclose(oof.sum(axis=1), 1.0)
    assert (np.asarray(LABELS)[oof.argmax(1)] == y).mean() < 0.5
    by_epoch = grouped_oof_proba_mlp(X, y, groups, LABELS, hidden=8, alpha=0.01, epochs=[2, 30], n_splits=5, seed=0)
    assert sorted(by_epoch) == [2, 30]
    assert (np.asarray(LABELS)[by_epoch[30].argmax(1)] == y).mean() < 0.5


def test_a_label_missing_from_a_training_fold_gets_probability_zero() -> None:
    X, y = blobs(n_per=10)
    groups = np.array([f"g{i // 2}" for i in range(len(y))])
    groups[y == "query"] = "only-query"  # one group: whichever fold tests it trains without query
    oof = grouped_oof_proba(X, y, groups, LABELS, C=1.0, n_splits=3, seed=0)
    q = list(LABELS).index("query")
    np.testing.assert_array_equal(oof[y == "query", q], 0.0)
    np.testing.assert_allclose(oof.sum(axis=1), 1.0, atol=1e-6)

"""Training the stance head (discourse.train.stance*): the feature matrix, the grouped split, model
selection, the metrics, and a whole run on a tiny fake dataset with a tiny random encoder."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from discourse.stages.encode.encoder import SentenceEncoder
from discourse.stages.stance.cues import find_cues
from discourse.stages.stance.features import CUE_FEATURES, pair_features
from discourse.stages.stance.model import LABELS, StanceClassifier
from discourse.testing import build_tiny_encoder
from discourse.train import stance
from discourse.train.stance_data import DATASETS, StanceRow, load_all
from discourse.train.stance_features import (
    VARIANTS,
    block_columns,
    cache_key,
    embed_texts,
    labelled_rows,
    stance_matrix,
)
from discourse.train.stance_metrics import (
    cue_accuracy,
    cues_only_label,
    group_bootstrap,
    log_loss,
    macro_f1,
    scores,
)
from discourse.train.stance_select import (
    WEIGHT_GRID,
    Part,
    SearchSpace,
    best_by_head,
    best_cue_C,
    best_index,
    config_name,
    cross_validate,
    cue_rule_weights,
    held_out_mask,
    score_oof,
    selection_key,
    tier_rows,
)

# -- a fake labelled data folder, in the layout of ../shared/data/labeled --------------------------
REPLIES = {
    "agree": ["I agree, good points.", "Yes I agree with you.", "I agree, this is good."],
    "disagree": ["I disagree, that is bad.", "No, I disagree with this.", "I still disagree with you."],
    "neutral": ["The town vote is on Tuesday.", "This is about the stadium.", "We spend money on jobs."],
    "query": ["Can you give an example?", "Why is that?", "What data is that?"],
}
TARGETS = ["Public money for the stadium is good.", "The town should vote on bike lanes.", "Parking is bad."]
SDQC = {"agree": "support", "disagree": "deny", "neutral": "comment", "query": "query"}
AGREEMENT = {"disagree": "0", "neutral": "1", "agree": "2"}


def _reply(label: str, k: int) -> str:
    return f"{REPLIES[label][k % 3]} ({k})"  # distinct texts


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_fake_stance_data(root: Path, groups: int = 9) -> Path:
    """``groups`` groups per dataset: DEBAGREEMENT submissions, subreddit-agreement quotes and
    RumourEval threads (the only set with query). Returns the ``labeled`` folder."""
    k = 0
    deb = []
    for g in range(groups):
        for label in ("agree", "disagree", "neutral"):
            deb.append([TARGETS[g % 3] + f" [{g}]", _reply(label, k), AGREEMENT[label], f"sub{g}"])
            k += 1
    _write_csv(root / "debagreement-dev" / "dev.csv", ["body_parent", "body_child", "label", "submission_id"], deb)
    for f, name in enumerate(("SubReddit-CovidVaccine.csv", "SubReddit-MaskMandate.csv")):
        rows = []
        for g in range(f, groups, 2):
            for label in ("agree", "disagree", "neutral"):
                rows.append([f"Quote {g}: " + TARGETS[g % 3], _reply(label, k), AGREEMENT[label]])
                k += 1
        _write_csv(root / "subreddit-agreement" / name, ["quote_text", "response_text", "relation"], rows, "cp1252")
    base = root / "rumoureval2019-reddit-train"
    key = {}
    for g in range(groups):
        thread = base / "reddit-training-data" / f"t{g}"
        post = {"data": {"children": [{"data": {"title": TARGETS[g % 3] + f" <{g}>", "selftext": ""}}]}}
        (thread / "source-tweet").mkdir(parents=True)
        (thread / "source-tweet" / f"t{g}.json").write_text(json.dumps(post), encoding="utf-8")
        (thread / "replies").mkdir()
        for label in LABELS:
            cid = f"c{k}"
            reply = {"data": {"id": cid, "body": _reply(label, k), "parent_id": f"t3_t{g}"}}
            (thread / "replies" / f"{cid}.json").write_text(json.dumps(reply), encoding="utf-8")
            key[cid] = SDQC[label]
            k += 1
    (base / "train-key.json").write_text(json.dumps({"subtaskaenglish": key}), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fake_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fake_stance_data(tmp_path_factory.mktemp("labeled"))


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_encoder(tmp_path_factory.mktemp("encoder"))


class CountingEncoder:
    """Stands in for SentenceEncoder: a fixed vector per text, counting the texts it encodes."""

    model, max_length, dtype = "fake", 16, "fp32"

    def __init__(self, dim: int = 4) -> None:
        self.dim = dim
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> SimpleNamespace:
        self.encoded += texts
        vecs = np.array([[len(t) % 7, t.count("e"), t.count(" "), 1.0][: self.dim] for t in texts], dtype=np.float32)
        return SimpleNamespace(vectors=vecs / np.linalg.norm(vecs, axis=1, keepdims=True))


def test_fake_data_loads_with_every_label(fake_data: Path) -> None:
    data = load_all(fake_data)
    assert {r.label for rows in data.values() for r in rows} == set(LABELS)
    assert {ds: len({r.group for r in rows}) for ds, rows in data.items()} == {ds: 9 for ds in DATASETS}


# -- features ------------------------------------------------------------------------------------
def test_block_columns_pick_vector_blocks_and_always_the_cues() -> None:
    dim, n_cues = 3, len(CUE_FEATURES)
    cues = list(range(4 * dim, 4 * dim + n_cues))
    assert block_columns(dim, VARIANTS["full"]).tolist() == list(range(4 * dim + n_cues))
    assert block_columns(dim, ()).tolist() == cues
    assert block_columns(dim, ("r",)).tolist() == [0, 1, 2, *cues]
    assert block_columns(dim, ("rt", "r")).tolist() == [0, 1, 2, 6, 7, 8, *cues]  # feature order, not the given one


def test_embeddings_are_cached_by_texts_and_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    enc = CountingEncoder()
    first = embed_texts(["b", "a", "b"], tmp_path, enc)
    assert enc.encoded == ["a", "b"]  # each distinct text once, sorted
    again = embed_texts(["a", "b"], tmp_path, CountingEncoder())
    assert "from cache" in capsys.readouterr().out
    assert all(np.array_equal(first[t], again[t]) for t in "ab")
    other = CountingEncoder()
    other.max_length = 32
    assert cache_key(["a", "b"], other) != cache_key(["a", "b"], enc)
    embed_texts(["a", "b"], tmp_path, other)
    assert other.encoded == ["a", "b"]  # different settings: not read from the cache


def test_stance_matrix_rows_line_up() -> None:
    data = {
        DATASETS[0]: [StanceRow("target one", "I disagree", "disagree", "s1")],
        DATASETS[1]: [StanceRow("target two", "Can you give an example?", "query", "q1")],
        DATASETS[2]: [StanceRow("target one", "ok", "neutral", "t1")],
    }
    rows = labelled_rows(data)
    texts = {t for _, r in rows for t in (r.reply_text, r.target_text)}
    vectors = {t: np.eye(5, dtype=np.float32)[k] for k, t in enumerate(sorted(texts))}
    m = stance_matrix(rows, vectors)
    assert m.dim == 5 and m.X.shape == (3, 4 * 5 + len(CUE_FEATURES))
    np.testing.assert_array_equal(m.X, pair_features(m.R, m.T, m.replies))
    np.testing.assert_array_equal(m.T[0], vectors["target one"])
    assert m.y.tolist() == ["disagree", "query", "neutral"]
    assert m.groups.tolist() == [f"{DATASETS[0]}|s1", f"{DATASETS[1]}|q1", f"{DATASETS[2]}|t1"]
    assert m.cues[0][0].label == "disagree"
    assert m.columns("cues_only").tolist() == list(range(20, 20 + len(CUE_FEATURES)))


# -- the split ---------------------------------------------------------------------------------------
def test_held_out_split_keeps_groups_whole_and_covers_every_dataset() -> None:
    rng = np.random.default_rng(0)
    datasets = np.repeat(DATASETS, 60)
    groups = np.array([f"{ds}|{i // 4}" for ds in DATASETS for i in range(60)])
    y = rng.choice(LABELS, size=len(groups))
    held = held_out_mask(datasets, y, groups, 5, seed=0)
    for g in set(groups):
        assert len(set(held[groups == g])) == 1, g  # never split
    for ds in DATASETS:
        share = held[datasets == ds].mean()
        assert 0.1 <= share <= 0.3, (ds, share)  # about one fold in five
    np.testing.assert_array_equal(held, held_out_mask(datasets, y, groups, 5, seed=0))  # deterministic
    assert not np.array_equal(held, held_out_mask(datasets, y, groups, 5, seed=1))


# -- choosing a candidate --------------------------------------------------------------------------------
def _entry(head: str, f1: float, **kw: float) -> dict:
    return {"head": head, "variant": "full", "macro_f1_with_rule": f1, "macro_f1_head": f1, **kw}


def test_selection_picks_the_better_candidate_then_the_linear_then_the_simpler() -> None:
    lin_small, lin_big = _entry("linear", 0.5, C=0.001), _entry("linear", 0.5, C=0.01)
    mlp_better = _entry("mlp", 0.6, hidden=64, alpha=1.0, epochs=10)
    mlp_tied = _entry("mlp", 0.5, hidden=64, alpha=1.0, epochs=10)
    assert best_index([lin_small, mlp_better]) == 1  # the better score wins, whatever the kind
    assert best_index([mlp_tied, lin_big]) == 1  # a tie goes to the linear head
    assert best_index([lin_big, lin_small]) == 1  # then to the smaller C
    small_mlp = _entry("mlp", 0.6, hidden=64, alpha=10.0, epochs=5)
    assert best_index([mlp_better, small_mlp]) == 1  # fewer units x epochs per alpha
    assert selection_key(lin_small) > selection_key(lin_big)
    assert best_by_head([lin_small, lin_big, mlp_tied, mlp_better]) == {"linear": lin_small, "mlp": mlp_better}
    assert best_by_head([lin_big]) == {"linear": lin_big}


def test_config_names_and_cue_baseline_C() -> None:
    assert config_name({"head": "linear", "C": 0.003}) == "linear C=0.003"
    assert config_name({"head": "mlp", "hidden": 64, "alpha": 0.1, "epochs": 20}) == "mlp h=64 alpha=0.1 epochs=20"
    table = [
        {"head": "linear", "variant": "cues_only", "C": 0.01, "macro_f1_head": 0.4},
        {"head": "linear", "variant": "cues_only", "C": 0.001, "macro_f1_head": 0.4},
        {"head": "linear", "variant": "full", "C": 0.1, "macro_f1_head": 0.9},
    ]
    assert best_cue_C(table, [0.1, 0.2, 0.3]) == 0.001  # best cues-only head, ties to the smaller C
    assert best_cue_C(table[2:], [0.1, 0.2, 0.3]) == 0.2  # not tried: the middle C


def _part(texts: list[str], y: list[str], datasets: list[str] | None = None) -> Part:
    n = len(texts)
    return Part(
        X=np.zeros((n, 1)),
        y=np.array(y),
        groups=np.arange(n).astype(str),
        datasets=np.array(datasets or [DATASETS[0]] * n),
        cues=[find_cues(t) for t in texts],
    )


def test_score_oof_scores_head_and_rule() -> None:
    texts = ["I disagree", "fine", "fine", "Can you give an example?"]
    sel = _part(texts, ["disagree", "neutral", "neutral", "query"], [DATASETS[0], DATASETS[0], *DATASETS[1:]])
    oof = np.tile([0.1, 0.1, 0.7, 0.1], (4, 1))  # the head always says neutral
    e = score_oof({"head": "linear", "variant": "full", "C": 1.0}, oof, sel)
    assert list(e)[:3] == ["head", "variant", "C"]
    assert e["macro_f1_head"] == pytest.approx(macro_f1(sel.y, np.array(["neutral"] * 4), LABELS))
    assert e["macro_f1_with_rule"] == pytest.approx(0.75)  # the cues fix disagree and query
    assert e["per_dataset_with_rule"][DATASETS[0]] == pytest.approx(1.0)


def test_cue_rule_weights_take_the_lowest_log_loss() -> None:
    texts = ["I disagree", "I disagree.", "your points are respected", "your points are respected!"]
    y = np.array(["disagree", "disagree", "agree", "neutral"])
    cues = [find_cues(t) for t in texts]
    assert tier_rows(cues, 1.0) == [0, 1] and tier_rows(cues, 0.8) == [2, 3]
    oof = np.tile([0.25, 0.25, 0.25, 0.25], (4, 1))
    weights, scan = cue_rule_weights(oof, cues, y)
    assert weights[1.0] == max(WEIGHT_GRID)  # the cue is always right: trust it most
    assert weights[0.8] == min(WEIGHT_GRID, key=lambda w: scan["0.8"][str(w)])
    assert 0.5 < weights[0.8] < max(WEIGHT_GRID)  # right once, wrong once: an inner optimum
    assert scan["1"]["n_rows"] == 2.0 and scan["1"]["head_only"] == pytest.approx(np.log(4))


def test_cross_validation_scores_every_candidate_on_the_same_folds(fake_data: Path) -> None:
    rows = labelled_rows(load_all(fake_data))
    m = stance_matrix(
        rows,
        embed_texts(
            [t for _, r in rows for t in (r.reply_text, r.target_text)], fake_data / "cache", CountingEncoder()
        ),
    )
    space = SearchSpace(
        Cs=(0.01, 1.0),
        variants=("full", "cues_only"),
        mlp_hidden=(4,),
        mlp_alphas=(1.0,),
        mlp_epochs=(1, 3),
        mlp_variants=("reply_only",),
        folds=3,
    )
    sel = Part.of(m, np.ones(len(m.y), dtype=bool))
    table, oofs = cross_validate(sel, m.dim, space)
    assert [config_name(e) for e in table] == [
        "linear C=0.01",
        "linear C=1",
        "linear C=0.01",
        "linear C=1",
        "mlp h=4 alpha=1 epochs=1",
        "mlp h=4 alpha=1 epochs=3",
    ]
    assert all(o.shape == (len(m.y), 4) for o in oofs)
    assert all(0.0 <= e["macro_f1_with_rule"] <= 1.0 for e in table)
    assert table[2]["macro_f1_with_rule"] > 0.9  # the cue words in the fake replies give the label away


# -- metrics ---------------------------------------------------------------------------------------------
def test_macro_f1_agrees_with_scikit_learn() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    y, pred = rng.choice(LABELS, 50), rng.choice(LABELS, 50)
    want = f1_score(y, pred, labels=list(LABELS), average="macro", zero_division=0)
    assert macro_f1(y, pred, LABELS) == pytest.approx(want)
    s = scores(y[:10], pred[:10])
    assert s["n"] == 10 and sum(s["support"].values()) == 10
    assert np.array(s["confusion"]["rows_gold_cols_pred"]).sum() == 10
    assert s["accuracy"] == pytest.approx(float((y[:10] == pred[:10]).mean()))


def test_scores_average_over_the_labels_present() -> None:
    s = scores(["agree", "disagree"], ["agree", "query"])
    assert s["macro_f1_labels"] == ["agree", "disagree"]
    assert s["macro_f1"] == pytest.approx(0.5)  # agree 1.0, disagree 0.0; query is not gold anywhere


def test_group_bootstrap_brackets_the_score_and_resamples_groups() -> None:
    y = np.array(["agree", "disagree"] * 20)
    pred = y.copy()
    pred[:6] = "neutral"
    groups = np.repeat(np.arange(10), 4).astype(str)
    lo, hi = group_bootstrap(y, pred, groups, n=200)
    point = macro_f1(y, pred, ["agree", "disagree"])
    assert lo <= point <= hi < 1.0 + 1e-9 and lo < hi
    assert group_bootstrap(y, pred, groups, n=200) == (lo, hi)  # seeded
    assert group_bootstrap(y, y, groups, n=50) == (1.0, 1.0)


def test_log_loss_of_known_probabilities() -> None:
    proba = np.array([[0.5, 0.25, 0.25, 0.0], [0.0, 0.0, 0.0, 1.0]])
    assert log_loss(np.array(["agree", "query"]), proba) == pytest.approx(np.log(2) / 2)
    assert log_loss(np.array(["query"]), proba[:1]) == pytest.approx(-np.log(1e-12))  # clipped, not infinite


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I disagree", "disagree"),
        ("I don't disagree", "agree"),  # a concession counts as agree
        ("Nice weather today.", "neutral"),
        ("I agree. I disagree.", "neutral"),  # a tie
        ("Can you give an example?", "query"),
    ],
)
def test_cues_only_rule_baseline(text: str, label: str) -> None:
    assert cues_only_label(find_cues(text)) == label


def test_cue_accuracy_counts_rows_each_cue_decides() -> None:
    cues = [find_cues(t) for t in ("I disagree", "I disagree!", "Can you give an example?", "ok")]
    out = cue_accuracy(cues, np.array(["disagree", "agree", "neutral", "neutral"]))
    assert out["disagree"] == {"rows": 2, "gold_agrees": 1, "gold": {"disagree": 1, "agree": 1}}
    assert out["query"]["rows"] == 1 and out["query"]["gold_agrees"] == 0
    assert out["agree"]["rows"] == 0


# -- a whole run ----------------------------------------------------------------------------------------
SMALL = ["--Cs", "0.01", "1", "--variants", "full", "cues_only", "--mlp-alphas", "1", "--folds", "3"]


@pytest.fixture(scope="module")
def trained(fake_data: Path, tiny_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``main`` on the fake data with MLP candidates, writing into a tmp models/ and reports/."""
    root = tmp_path_factory.mktemp("run")
    (root / "models").mkdir()
    argv = ["--data", str(fake_data), "--cache-dir", str(root / "cache"), "--encoder", str(tiny_encoder)]
    argv += ["--out", str(root / "models" / "stance-minilm-v1"), "--reports", str(root / "reports"), *SMALL]
    argv += ["--mlp-hidden", "4", "--mlp-epochs", "1", "3", "--mlp-variants", "reply_only"]
    assert stance.main(argv) == 0
    return root


def test_a_run_writes_a_registered_model_the_runtime_loads(trained: Path, fake_data: Path, tiny_encoder: Path) -> None:
    folder = trained / "models" / "stance-minilm-v1"
    assert {p.name for p in folder.iterdir()} == {"model.safetensors", "model.json", "README.md"}
    registry = json.loads((trained / "models" / "registry.json").read_text(encoding="utf-8"))
    entry = registry["models"]["stance-minilm-v1"]
    assert entry["path"] == "stance-minilm-v1" and set(entry["files"]) == {"model.safetensors", "model.json"}
    meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    results = json.loads((trained / "reports" / "stance.json").read_text(encoding="utf-8"))
    assert meta["head"] == results["selection"]["head"] and meta["version"] == results["version"]
    assert meta["encoder"]["name"] == str(tiny_encoder) and meta["feature_spec"]["dim"] == 32
    assert meta["labels"] == list(LABELS) and meta["metrics"]["held_out"]["overall"]["n"] > 0
    # the runtime classifier, through the registry, scores the training pairs
    clf = StanceClassifier(root=trained / "models", encoder=SentenceEncoder(str(tiny_encoder)))
    rows = labelled_rows(load_all(fake_data))
    pairs = [(r.reply_text, r.target_text) for _, r in rows]
    got = clf.predict_batch(pairs)
    assert len(got) == len(pairs) and all(abs(sum(s.values()) - 1) < 1e-5 for s in got)
    accuracy = np.mean([max(s, key=s.__getitem__) == r.label for s, (_, r) in zip(got, rows, strict=True)])
    assert accuracy > 0.9  # the cue words give the label away


def test_the_saved_head_predicts_as_the_fitted_one(trained: Path, fake_data: Path, tiny_encoder: Path) -> None:
    from discourse.train.heads import expand_head
    from discourse.train.stance_select import fit_config

    results = json.loads((trained / "reports" / "stance.json").read_text(encoding="utf-8"))
    best = next(
        e
        for e in results["selection"]["cv"]
        if config_name(e) == results["selection"]["config"] and e["variant"] == results["selection"]["variant"]
    )
    rows = labelled_rows(load_all(fake_data))
    vectors = embed_texts(
        [t for _, r in rows for t in (r.reply_text, r.target_text)],
        trained / "cache",
        SentenceEncoder(str(tiny_encoder)),
    )
    m = stance_matrix(rows, vectors)
    cols = m.columns(best["variant"])
    fitted = fit_config(best, m.X[:, cols], m.y.tolist(), seed=0)
    full = expand_head(fitted, cols, m.X.shape[1], {})
    np.testing.assert_allclose(full.predict_proba(m.X), fitted.predict_proba(m.X[:, cols]), atol=1e-6)
    saved = StanceClassifier(folder=trained / "models" / "stance-minilm-v1")
    from discourse.stages.stance.model import apply_cue_rule

    weights = {float(k): v for k, v in results["cue_rule"]["weights"].items()}
    want = apply_cue_rule(fitted.predict_proba(m.X[:, cols]), m.cues, weights)
    got = np.array([list(s.values()) for s in saved.predict_encoded(m.R, m.T, m.replies)])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_run_reports_every_system_and_its_choice(trained: Path) -> None:
    results = json.loads((trained / "reports" / "stance.json").read_text(encoding="utf-8"))
    assert list(results) == [
        "model",
        "version",
        "command",
        "labels",
        "selection",
        "cue_rule",
        "split",
        "held_out",
        "held_out_log_loss",
        "held_out_cues",
        "runtime_seconds",
    ]
    sel = results["selection"]
    assert len(sel["cv"]) == 2 * 2 + 2 and set(sel["best_by_head"]) == {"linear", "mlp"}
    systems = list(results["held_out"])
    assert systems[:4] == [
        "stance-minilm-v1 (head + cue rule)",
        "head only (no cue rule)",
        f"cues-only head ({len(CUE_FEATURES)} cue features, LR)",
        "cues-only rules",
    ]
    assert systems[-1] == "majority class (per dataset)" and any(s.startswith("best ") for s in systems)
    for ds, split in results["split"].items():
        assert split["held_out_groups"] + split["selection_groups"] == 9, ds
    report = (trained / "reports" / "stance.md").read_text(encoding="utf-8")
    card = (trained / "models" / "stance-minilm-v1" / "README.md").read_text(encoding="utf-8")
    assert sel["config"] in report and "## Held-out scores" in card and "## Known failure modes" in card


def test_docs_only_rewrites_the_same_documents(trained: Path) -> None:
    card = trained / "models" / "stance-minilm-v1" / "README.md"
    report = trained / "reports" / "stance.md"
    before = report.read_text(encoding="utf-8")
    card.unlink()
    report.write_text("stale", encoding="utf-8")
    args = ["--docs-only", "--out", str(card.parent), "--reports", str(report.parent)]
    assert stance.main(args) == 0
    assert report.read_text(encoding="utf-8") == before and card.is_file()


def test_no_save_writes_nothing(fake_data: Path, tiny_encoder: Path, tmp_path: Path) -> None:
    argv = ["--data", str(fake_data), "--cache-dir", str(tmp_path / "cache"), "--encoder", str(tiny_encoder)]
    argv += ["--out", str(tmp_path / "m" / "x"), "--reports", str(tmp_path / "r"), "--no-save", "--mlp-hidden", *SMALL]
    assert stance.main(argv) == 0
    assert not (tmp_path / "m").exists() and not (tmp_path / "r").exists()

"""The stance cross-encoder kind ``stance_pair``: pair input, a tiny random model folder, the
explicit-cue rule on top, the deciding sentence, a user's Hugging Face folder, and the stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import discourse
from discourse.core.config import load_config
from discourse.core.errors import ModelError
from discourse.core.thread import Comment, Thread
from discourse.stages.encode.backends import cpu_has_bf16, openvino_installed
from discourse.stages.stance.pair_input import encode_pair, quoted
from discourse.stages.stance.pair_model import StancePairClassifier, save_folder
from discourse.testing import _tiny_vocab, tiny_bert_classifier

LABELS = ["agree", "disagree", "neutral", "query"]
CUE_RULE = {"explicit_labels": ["agree", "disagree", "query"], "min_strength": 0.8, "weights": {"1": 0.9, "0.8": 0.8}}


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT cross-encoder saved as a ``stance_pair`` folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    from discourse.stages.stance.pair_net import PairNet

    vocab = _tiny_vocab()
    cfg = BertConfig(  # type: ignore[call-arg]
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(3)
    net = PairNet(BertModel(cfg), len(LABELS))
    with torch.no_grad():
        net.head.weight.mul_(40)  # spread the random scores so labels differ between inputs
    folder = tmp_path_factory.mktemp("stance_pair")
    meta = {"name": "tiny-pair", "labels": LABELS, "max_length": 64, "cue_rule": CUE_RULE}
    save_folder(net, BertTokenizer(vocab=vocab), folder, meta)
    return folder


@pytest.fixture(scope="module")
def model(tiny_pair: Path) -> StancePairClassifier:
    return StancePairClassifier("tiny-pair", folder=tiny_pair)


PAIRS = [
    ("you are an idiot", "the stadium is good for the town"),
    ("i think the stadium money is bad. the debt stays for years. what about jobs", "public money for jobs"),
    ("thank you", "hello"),
    ("no", "the visitors spend money in the town and the jobs are public"),
]


# -- pair input ----------------------------------------------------------------------------------
def test_pair_is_target_then_reply(tiny_pair: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_pair))
    ids, types, reply, where = encode_pair(tok, "the stadium is good", "i disagree")
    assert tok.decode(ids) == "[CLS] the stadium is good [SEP] i disagree [SEP]"
    assert types == [0] * 6 + [1] * 3
    assert reply == "i disagree" and where == ((6, 0), (7, 2))  # reply tokens: position, character


def test_a_long_target_keeps_what_the_reply_answers(tiny_pair: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_pair))
    filler = " ".join(["the town will vote on it."] * 30)
    target = f"{filler} bike lanes spend money. {filler}"
    ids = encode_pair(tok, target, "bike lanes are bad", max_length=32).input_ids
    assert len(ids) <= 32
    assert "bike lanes spend money" in tok.decode(ids)  # not the first 32 tokens
    # a reply that quotes its parent: the quoted passage picks the target's sentences
    quoting = "> bike lanes spend money\ni disagree"
    assert quoted(quoting) == "bike lanes spend money"
    assert "bike lanes spend money" in tok.decode(encode_pair(tok, target, quoting, max_length=32).input_ids)


# -- the model folder --------------------------------------------------------------------------------
def test_scores_every_label_and_is_independent_of_batching(model: StancePairClassifier, tiny_pair: Path) -> None:
    got = model.predict_batch([(r, t) for t, r in PAIRS])
    assert [list(s) for s in got] == [LABELS] * len(PAIRS)
    assert all(abs(sum(s.values()) - 1) < 1e-5 for s in got)
    one_by_one = [model.predict_batch([(r, t)])[0] for t, r in PAIRS]
    for a, b in zip(got, one_by_one, strict=True):
        assert max(abs(a[k] - b[k]) for k in LABELS) < 0.02  # bf16 batches of other lengths
    # the target is read: the same reply under another parent scores differently
    r = PAIRS[1][1]
    a, b = model.predict_batch([(r, "hello"), (r, "the debt stays for thirty years")])
    assert max(abs(a[k] - b[k]) for k in LABELS) > 1e-4
    from safetensors.torch import load_file

    assert {str(v.dtype) for v in load_file(str(tiny_pair / "model.safetensors")).values()} == {"torch.float16"}


def test_explicit_cue_decides_over_the_model(model: StancePairClassifier) -> None:
    s = model.predict_batch([("I disagree, the debt stays", "the stadium is good")])[0]
    assert max(s, key=lambda k: s[k]) == "disagree" and s["disagree"] >= 0.8
    scores, ev = model.predict_explained([("I disagree, the debt stays", "the stadium is good")])
    assert np.allclose(list(scores[0].values()), list(s.values()), atol=1e-6) and ev[0][0] == "I disagree"


def test_token_shares_add_up_to_the_logits(tiny_pair: Path) -> None:
    import torch

    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_net import collate

    model = StancePairClassifier("tiny-pair", folder=tiny_pair, backend="torch")
    net = model._load()
    encs = encode_pairs(model._tok, PAIRS, 64)
    with torch.no_grad():
        logits, shares = net(*collate(encs, range(len(encs))), tokens=True)
    assert torch.allclose(shares.sum(1) + net.head.bias, logits, atol=1e-4)


def test_deciding_sentence_carries_the_largest_share(model: StancePairClassifier) -> None:
    targets = ["public money for jobs", "the stadium is good", "hello", "bike lanes", "no", "why"]
    parts = ["the debt stays for years.", "what about jobs?", "you are an idiot.", "thank you."]
    pairs = [(" ".join(parts), t) for t in targets]
    scores, evidence = model.predict_explained(pairs)
    plain = model.predict_batch(pairs)
    assert np.allclose([list(x.values()) for x in scores], [list(x.values()) for x in plain], atol=1e-6)
    decided = 0
    for s, ev in zip(scores, evidence, strict=True):
        label = max(s, key=lambda k: s[k])
        if label == "neutral":
            assert ev == ()
            continue
        assert ev[0] in parts  # a whole sentence of the reply, first
        decided += 1
    assert decided, "the random model called every pair neutral: change the seed"
    # a one-sentence reply is its own deciding sentence; an explicit cue is the evidence instead
    (s1,), (ev1,) = model.predict_explained([("the debt stays for years", "hello")])
    assert ev1 == (() if max(s1, key=lambda k: s1[k]) == "neutral" else ("the debt stays for years",))


def test_hf_model_sentence_by_occlusion(tmp_path: Path) -> None:
    """A user's classifier has no token shares: the deciding sentence is the one whose removal
    lowers the label's probability most (one extra pass)."""
    folder = tiny_bert_classifier(tmp_path / "hf", ["agree", "disagree", "neutral", "query"], seed=4)
    clf = StancePairClassifier(hf_model=str(folder))
    parts = ["you are an idiot.", "thank you for your kind words.", "this article is bad.", "no."]
    checked = 0
    for target in ["people think this is good", "you are bad", "i hate this", "the reply"]:
        (s,), (ev,) = clf.predict_explained([(" ".join(parts), target)])
        label = max(s, key=lambda k: s[k])
        if label == "neutral":
            continue
        left = [
            clf.predict_pairs([(target, " ".join(p for p in parts if p != q))])[0][clf.labels.index(label)]
            for q in parts
        ]
        assert ev[0] == parts[int(np.argmin(left))]
        checked += 1
    assert checked, "the random model called every pair neutral: change the seed"


def test_damaged_folder_is_a_model_error(tiny_pair: Path, tmp_path: Path) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_pair, bad)
    (bad / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError, match="could not load the pair model"):
        StancePairClassifier("bad", folder=bad).predict_batch([("a", "b")])
    meta = json.loads((tiny_pair / "model.json").read_text())
    (bad / "model.json").write_text(json.dumps({**meta, "cue_rule": {"weights": {"1": 0.3, "0.8": 0.9}}}))
    with pytest.raises(ModelError, match="cue_rule"):
        StancePairClassifier("bad", folder=bad).predict_batch([("a", "b")])


# -- a user's Hugging Face folder ---------------------------------------------------------------------
def test_user_hf_folder_reads_target_then_reply(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = tiny_bert_classifier(tmp_path / "hf", ["contradiction", "entailment", "neutral"], seed=2)
    clf = StancePairClassifier(hf_model=str(folder), labels=["disagree", "agree", "neutral"])
    got = clf.predict_batch([("i think you are bad", "people think this article is good")])[0]
    assert list(got) == ["disagree", "agree", "neutral"]
    net = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    with torch.no_grad():
        enc = tok("people think this article is good", "i think you are bad", return_tensors="pt")
        want = torch.softmax(net(**enc).logits, -1)[0]
    assert np.allclose([got[k] for k in got], want.numpy(), atol=0.02)
    assert clf.record().name == f"hf:{folder}"


def test_multi_label_hf_folder_is_refused(hf_multi: Path) -> None:
    with pytest.raises(ModelError, match="multi-label"):
        StancePairClassifier(hf_model=str(hf_multi)).predict_batch([("a", "b")])


# -- the stage ------------------------------------------------------------------------------------------
def _threads() -> list[Thread]:
    out = []
    for k in range(3):
        comments = (
            Comment("c0", "public money should never pay for private stadiums.", author="Ann"),
            Comment("c1", "the stadium is good. it brings jobs and visitors.", author="Bo", parent_id="c0"),
            Comment("c2", "I disagree, the debt stays for thirty years.", author="Ann", parent_id="c1"),
            Comment("c3", "can you give an example?", author="Cy", parent_id="c1"),
        )
        out.append(Thread(f"t{k}", "Town votes on new stadium", comments, article="The town will vote next week."))
    return out


def test_stage_runs_the_pair_model_once_per_group(
    tiny_config: dict, tiny_pair: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from discourse.stages.stance import pair_net

    calls: list[int] = []
    real = pair_net.predict_with_shares

    def counting(net: object, encs: list, *args: object, **kw: object) -> tuple:
        calls.append(len(encs))
        return real(net, encs, *args, **kw)

    monkeypatch.setattr(pair_net, "predict_with_shares", counting)
    stages = {**tiny_config["stages"], "stance.v1": {"model": {"path": str(tiny_pair)}}}
    pipe = discourse.Pipeline(load_config({**tiny_config, "stages": stages}))
    results = [a.to_json() for a in pipe.analyze(_threads())]
    assert calls == [12]  # every comment of the three threads in ONE pass, evidence included
    for res in results:
        stance = {c["id"]: c["stance"] for c in res["comments"]}
        assert stance["c2"]["label"] == "disagree" and stance["c2"]["evidence"][0] == "I disagree"
        assert stance["c3"]["label"] == "query"
        assert stance["c0"]["target_id"] is None and stance["c2"]["target_id"] == "c1"
        assert {s["model"] for s in stance.values()} == {tiny_pair.name}  # a local folder goes by its name
        for s in stance.values():
            assert s["label"] == "neutral" or s["evidence"], s  # a non-neutral label always says why


def test_stage_reads_a_user_hf_folder_through_the_pair_kind(tiny_config: dict) -> None:
    res = discourse.analyze(_threads()[0], tiny_config).to_json()  # tiny_config names an hf_model
    stance = {c["id"]: c["stance"] for c in res["comments"]}
    assert stance["c2"]["label"] == "disagree" and stance["c2"]["evidence"][0] == "I disagree"
    assert all(s["model"].startswith("hf:") for s in stance.values())


def test_a_huge_group_is_scored_in_slices_with_the_same_results(
    model: StancePairClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    import discourse.stages.stance.pair_model as pm

    inputs = [(r + f" point {k}.", t) for k in range(4) for t, r in PAIRS]
    whole_scores, whole_evidence = model.predict_explained(inputs)
    calls: list[int] = []
    real = model._predict_explained
    monkeypatch.setattr(pm, "PAIR_SLICE", 3)
    monkeypatch.setattr(model, "_predict_explained", lambda part: (calls.append(len(part)), real(part))[1])
    sliced_scores, sliced_evidence = model.predict_explained(inputs)
    assert max(calls) == 3 and sum(calls) == len(inputs)  # never more than a slice at once
    for a, b in zip(whole_scores, sliced_scores, strict=True):  # same order, same scores (bf16 batches aside)
        assert max(abs(a[k] - b[k]) for k in LABELS) < 0.02
    assert len(sliced_evidence) == len(whole_evidence)
    assert [len(s) for s in model.predict_batch(inputs)] == [len(LABELS)] * len(inputs)


def test_a_pairs_scores_are_the_same_bits_whatever_shares_its_batch(model: StancePairClassifier) -> None:
    pairs = [(t, r + " " + "and more words " * k) for k in range(5) for t, r in PAIRS]
    together = model.predict_pairs(pairs)
    for k in (0, 3, len(pairs) - 1):  # alone, and beside another crowd
        assert np.array_equal(model.predict_pairs([pairs[k]])[0], together[k])
    assert np.array_equal(model.predict_pairs(pairs[5:])[:3], together[5:8])


@pytest.mark.skipif(not (cpu_has_bf16() and openvino_installed()), reason="OpenVINO bf16 needs a bf16 CPU")
def test_openvino_pair_pass_matches_torch_and_explains_the_same_way(tiny_pair: Path) -> None:
    """Where the CPU has bf16, ``auto`` runs the pair network in OpenVINO: its probabilities match
    torch fp32's, its token shares still add up to its logits (the deciding sentence reads them),
    and the backend is named (the result cache keys on it)."""
    import torch

    from discourse.stages.stance.pair_input import encode_pairs
    from discourse.stages.stance.pair_net import OVPairNet, collate

    ov = StancePairClassifier("tiny-pair", folder=tiny_pair)
    fp32 = StancePairClassifier("tiny-pair", folder=tiny_pair, backend="torch")
    fp32._load()
    fp32._bf16 = False
    assert ov.backend_version.startswith("openvino-") and ov.backend_version.endswith("-bf16")
    assert fp32.backend_version == "torch-bf16-autocast"  # chosen at load; the pass above runs fp32
    got, ref = ov.predict_pairs(PAIRS), fp32.predict_pairs(PAIRS)
    assert np.abs(got - ref).max() < 0.02
    net = ov._load()
    assert isinstance(net, OVPairNet)
    encs = encode_pairs(ov._tok, PAIRS, 64)
    logits, shares = net(*collate(encs, range(len(encs))), tokens=True)
    bias = fp32._load().head.bias.detach()
    assert torch.allclose(shares.sum(1) + bias, logits, rtol=0.02, atol=0.2)  # bf16: ~3 digits
    scores, evidence = ov.predict_explained([(r, t) for t, r in PAIRS])
    assert len(evidence) == len(PAIRS) and all(abs(sum(s.values()) - 1) < 1e-5 for s in scores)
    # a call hands back its infer request (its activation memory), and the next makes a new one
    assert not net.requests.held
    again = ov.predict_batch([(r, t) for t, r in PAIRS])
    assert not net.requests.held and again == ov.predict_batch([(r, t) for t, r in PAIRS])
    assert [max(s, key=s.__getitem__) for s in again] == [max(s, key=s.__getitem__) for s in scores]


def test_a_pair_backend_that_cannot_run_falls_back_under_auto_only(
    tiny_pair: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import discourse.stages.stance.pair_net as pair_net

    def broken(*a: object, **k: object) -> None:
        raise RuntimeError("no CPU plugin")

    monkeypatch.setattr(pair_net, "openvino_pair_net", broken)
    monkeypatch.setattr("discourse.stages.encode.backends.choose_backend", lambda backend, dtype: "openvino")
    auto = StancePairClassifier("tiny-pair", folder=tiny_pair)
    assert auto.backend_version.startswith("torch-")
    assert len(auto.predict_pairs(PAIRS)) == len(PAIRS)
    with pytest.raises(ModelError, match="OpenVINO could not run the pair model: no CPU plugin"):
        StancePairClassifier("tiny-pair", folder=tiny_pair, backend="openvino").record()


@pytest.mark.skipif(not (cpu_has_bf16() and openvino_installed()), reason="OpenVINO bf16 needs a bf16 CPU")
def test_a_cached_conversion_never_builds_the_torch_network(
    tiny_pair: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first OpenVINO load converts the torch network; later ones read the conversion back and
    never build it (its weights and modelling code cost a few hundred MB), with the same scores."""
    from discourse.stages.stance import pair_model

    monkeypatch.setenv("DISCOURSE_CACHE_DIR", str(tmp_path))
    builds: list[int] = []
    load_net = pair_model.load_net
    monkeypatch.setattr(pair_model, "load_net", lambda *a: (builds.append(1), load_net(*a))[1])
    first = StancePairClassifier("tiny-pair", folder=tiny_pair, backend="openvino").predict_pairs(PAIRS)
    assert builds == [1]
    later = StancePairClassifier("tiny-pair", folder=tiny_pair, backend="openvino")
    assert np.array_equal(later.predict_pairs(PAIRS), first) and builds == [1]
    torch_run = StancePairClassifier("tiny-pair", folder=tiny_pair, backend="torch")
    assert len(torch_run.predict_pairs(PAIRS)) == len(PAIRS) and builds == [1, 1]  # torch runs the network itself

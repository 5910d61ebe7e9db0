"""discourse serve: Perspective's request and response shapes, the label mapping, span offsets,
the thread endpoint, models and health — over the tiny encoder and the real tox-block."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from discourse import testing
from discourse.serve import ServeSettings, create_app
from discourse.serve.analyzer import Analyzer, CommentJob
from discourse.serve.models import ATTRIBUTES, attribute_score, sentence_spans
from discourse.stages.toxicity.result import ToxicityResult

URL = "/v1alpha1/comments:analyze"
TEXT = "What kind of idiot name is foo? Sorry, I like your name."


@pytest.fixture(scope="module")
def analyzer(tiny_config: dict) -> Analyzer:
    # tox-block alone: the tiny random encoder cannot feed the default head
    stages = {**tiny_config["stages"], "toxicity.v1": {"model": {"name": "tox-block-0.1.2"}}}
    az = Analyzer({**tiny_config, "stages": stages})
    az.warm_up()
    return az


@pytest.fixture
def client(analyzer: Analyzer):
    with TestClient(create_app(ServeSettings(warm_up=False), analyzer)) as c:
        yield c


def ask(client: TestClient, text: str = TEXT, **extra):
    body = {"comment": {"text": text}, "requestedAttributes": {a: {} for a in ATTRIBUTES}, **extra}
    return client.post(URL, json=body)


def test_response_has_perspectives_shape(client: TestClient) -> None:
    r = ask(client, clientToken="tok-1", languages=["en"], doNotStore=True)
    assert r.status_code == 200, r.text
    data = r.json()
    assert set(data) == {"attributeScores", "languages", "clientToken"}
    assert data["clientToken"] == "tok-1" and data["languages"] == ["en"]
    assert set(data["attributeScores"]) == set(ATTRIBUTES)
    for entry in data["attributeScores"].values():
        assert set(entry) == {"summaryScore"}  # no spanScores unless asked
        assert entry["summaryScore"]["type"] == "PROBABILITY"
        assert 0.0 <= entry["summaryScore"]["value"] <= 1.0


def test_only_requested_attributes_and_default_language(client: TestClient) -> None:
    r = client.post(URL, json={"comment": {"text": "hello there"}, "requestedAttributes": {"INSULT": {}}})
    assert r.status_code == 200
    assert list(r.json()["attributeScores"]) == ["INSULT"]
    assert r.json()["languages"] == ["en"]
    assert "clientToken" not in r.json()


def test_attributes_map_from_tox_block_labels(client: TestClient, analyzer: Analyzer) -> None:
    text = "You are a stupid idiot and I will hurt you"
    [[ours]] = analyzer.score([CommentJob((text,))])
    got = {k: v["summaryScore"]["value"] for k, v in ask(client, text).json()["attributeScores"].items()}
    assert ours.model == "tox-block-0.1.2"
    assert got["TOXICITY"] == pytest.approx(ours.score, abs=1e-6)
    pairs = {"SEVERE_TOXICITY": "severe_toxic", "INSULT": "insult", "THREAT": "threat"}
    pairs.update(PROFANITY="obscene", IDENTITY_ATTACK="identity_hate")
    for attr, label in pairs.items():
        assert got[attr] == pytest.approx(ours.labels[label], abs=1e-6), attr
    assert (
        got["TOXICITY"]
        > ask(client, "Thank you, that was helpful.").json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"]
    )


def test_new_label_names_win_over_tox_block_names() -> None:
    labels = {"toxic": 0.9, "obscene": 0.8, "identity_hate": 0.7, "toxicity": 0.4, "profanity": 0.3}
    r = ToxicityResult(0.4, labels, "tox-minilm-v1")
    assert attribute_score(r, "TOXICITY") == 0.4
    assert attribute_score(r, "PROFANITY") == 0.3
    assert attribute_score(r, "IDENTITY_ATTACK") == 0.7  # no identity_attack label: tox-block's
    assert attribute_score(ToxicityResult(0.6, {"hate": 0.6}, "hf"), "TOXICITY") == 0.6  # the overall score
    assert attribute_score(ToxicityResult(0.6, {"hate": 0.6}, "hf"), "THREAT") is None


def test_span_scores_cover_each_sentence_inside_the_text(client: TestClient, analyzer: Analyzer) -> None:
    r = ask(client, spanAnnotations=True)
    assert r.status_code == 200
    spans = r.json()["attributeScores"]["TOXICITY"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, 31), (32, 56)]
    assert [TEXT[s["begin"] : s["end"]] for s in spans] == [
        "What kind of idiot name is foo?",
        "Sorry, I like your name.",
    ]
    alone = analyzer.score([CommentJob(("What kind of idiot name is foo?", "Sorry, I like your name."))])[0]
    for span, result in zip(spans, alone, strict=True):
        assert span["score"] == {"value": pytest.approx(result.score, abs=1e-6), "type": "PROBABILITY"}


def test_one_sentence_span_is_the_summary(client: TestClient) -> None:
    text = "  you absolute idiot  "
    entry = ask(client, text, spanAnnotations=True).json()["attributeScores"]["INSULT"]
    [span] = entry["spanScores"]
    assert text[span["begin"] : span["end"]] == "you absolute idiot"
    assert span["score"] == entry["summaryScore"]


def test_sentence_spans_stay_inside_the_text() -> None:
    for text in [
        "One. Two!  Three?",
        "no stop at all",
        "line one\nline two\n\n",
        "Dr. No... ok?! fine",
        "émoji 🙂 here. Next",
    ]:
        spans = sentence_spans(text)
        assert spans, text
        for b, e in spans:
            assert 0 <= b < e <= len(text) and text[b:e] == text[b:e].strip()
        assert all(e1 <= b2 for (_, e1), (b2, _) in zip(spans, spans[1:]))
    assert sentence_spans("line one\nline two") == [(0, 8), (9, 17)]


def test_score_threshold_leaves_out_low_scores(client: TestClient) -> None:
    body = {
        "comment": {"text": "Have a lovely day."},
        "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.99}, "INSULT": {"scoreThreshold": 0.0}},
    }
    data = client.post(URL, json=body).json()
    assert list(data["attributeScores"]) == ["INSULT"]


def test_context_and_the_other_fields_are_accepted(client: TestClient) -> None:
    body = {
        "comment": {"text": "I disagree with you.", "type": "PLAIN_TEXT"},
        "context": {"entries": [{"text": "The article says taxes rise.", "type": "PLAIN_TEXT"}]},
        "requestedAttributes": {"TOXICITY": {"scoreType": "PROBABILITY"}},
        "languages": ["en-US"],
        "sessionId": "s",
        "communityId": "c",
        "doNotStore": False,
    }
    r = client.post(URL, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["languages"] == ["en-US"]


def test_thread_endpoint_returns_analysis_json(client: TestClient) -> None:
    r = client.post("/v1/threads:analyze?name=stadium", content=testing.DEBATE, headers={"content-type": "text/plain"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["schema_version"] and data["thread"]["title"] == "Town Votes On New Stadium"
    assert len(data["comments"]) >= 5
    assert all("toxicity" in c and "stance" in c for c in data["comments"])
    assert "chains" in data and data["models"]


def test_models_lists_names_versions_and_sha256(client: TestClient) -> None:
    data = client.get("/v1/models").json()
    names = [m["name"] for m in data["models"]]
    assert "tox-block-0.1.2" in names
    for m in data["models"]:
        assert m["version"] and m["files"]
        assert all(re.fullmatch(r"[0-9a-f]{64}", sha) for sha in m["files"].values())
    assert data["pipelines"]["comments"] == ["toxicity.v1"]  # tox-block reads the text alone: no encoder pass
    assert data["pipelines"]["threads"][0] == "encode.v1"


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_discovery_document_points_at_this_server(client: TestClient) -> None:
    doc = client.get("/$discovery/rest?version=v1alpha1").json()
    assert doc["rootUrl"] == "http://testserver/" and doc["name"] == "commentanalyzer"
    method = doc["resources"]["comments"]["methods"]["analyze"]
    assert (method["httpMethod"], method["path"]) == ("POST", "v1alpha1/comments:analyze")
    assert (
        client.post(
            doc["rootUrl"] + method["path"], json={"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}
        ).status_code
        == 200
    )

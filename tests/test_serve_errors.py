"""discourse serve: bad input gets Perspective's error shape and the right status, never a
traceback; API keys; CORS; overload; the CLI's checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from discourse.cli import main
from discourse.serve import ServeSettings, create_app
from discourse.serve.analyzer import Analyzer
from discourse.serve.batching import MicroBatcher

URL = "/v1alpha1/comments:analyze"
GOOD = {"comment": {"text": "hello"}, "requestedAttributes": {"TOXICITY": {}}}


@pytest.fixture(scope="module")
def analyzer(tiny_config: dict) -> Analyzer:
    # tox-block alone: the tiny random encoder cannot feed the default head
    stages = {**tiny_config["stages"], "toxicity.v1": {"model": {"name": "tox-block-0.1.2"}}}
    az = Analyzer({**tiny_config, "stages": stages})
    az.warm_up()
    return az


def make_client(analyzer, **settings):
    return TestClient(create_app(ServeSettings(warm_up=False, **settings), analyzer), raise_server_exceptions=False)


@pytest.fixture
def client(analyzer: Analyzer):
    with make_client(analyzer, max_comment_bytes=100) as c:
        yield c


def assert_error(r, code: int, status: str, words: str) -> dict:
    assert r.status_code == code, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["status"] == status
    assert words.lower() in err["message"].lower()
    assert "Traceback" not in r.text
    return err


def test_unknown_attribute(client: TestClient) -> None:
    body = {"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}, "FLIRTATION": {}}}
    assert_error(client.post(URL, json=body), 400, "INVALID_ARGUMENT", "Attribute FLIRTATION does not exist")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"comment": {"text": "hi"', "Invalid JSON payload"),
        (b"\xff\xfe not json", "Invalid JSON payload"),
        (b"[1, 2]", "Invalid JSON payload"),
        (b'{"requestedAttributes": {"TOXICITY": {}}}', "comment"),
        (b'{"comment": {"text": "hi"}}', "requestedAttributes"),
        (b'{"comment": {"text": "hi"}, "requestedAttributes": {}}', "at least one attribute"),
        (b'{"comment": {"text": "  "}, "requestedAttributes": {"TOXICITY": {}}}', "non-empty"),
        (b'{"comment": {"text": "hi"}, "requestedAttribute": {"TOXICITY": {}}}', "requestedAttribute"),
        (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": 2}}}', "scoreThreshold"),
        (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV"}}}', "scoreType"),
        (b'{"comment": {"text": "hi", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}}', "PLAIN_TEXT"),
        (b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}, "languages": ["de"]}', "languages"),
    ],
)
def test_bad_requests_are_400_with_a_message(client: TestClient, body: bytes, words: str) -> None:
    r = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert_error(r, 400, "INVALID_ARGUMENT", words)


def test_comment_over_the_size_limit_is_413(client: TestClient) -> None:
    body = {"comment": {"text": "é" * 51}, "requestedAttributes": {"TOXICITY": {}}}  # 102 UTF-8 bytes
    assert_error(client.post(URL, json=body), 413, "INVALID_ARGUMENT", "too long")
    body["comment"]["text"] = "é" * 50  # exactly 100 bytes
    assert client.post(URL, json=body).status_code == 200


def test_body_over_the_limit_is_413_before_parsing(analyzer: Analyzer) -> None:
    with make_client(analyzer, max_body_bytes=1000) as c:
        r = c.post(URL, content=b"{" + b" " * 2000 + b"}", headers={"content-type": "application/json"})
        assert_error(r, 413, "INVALID_ARGUMENT", "too large")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_wrong_content_type_is_415(client: TestClient, ctype: str) -> None:
    r = client.post(URL, content=b'{"comment": {"text": "hi"}}', headers={"content-type": ctype})
    assert_error(r, 415, "INVALID_ARGUMENT", "application/json")


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    r = client.post(
        URL,
        content=b'{"comment": {"text": "hi"}, "requestedAttributes": {"TOXICITY": {}}}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200


def test_thread_endpoint_errors(client: TestClient) -> None:
    path = "/v1/threads:analyze"
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert_error(client.post(path, content=b"a=b", headers=form), 415, "INVALID_ARGUMENT", "Content-Type")
    assert_error(
        client.post(path, content=b"  ", headers={"content-type": "text/plain"}), 400, "INVALID_ARGUMENT", "empty"
    )
    broken = b'{"kind": "Listing", "data": {"children": ['
    r = client.post(path, content=broken, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and "Traceback" not in r.text and r.json()["error"]["message"]


def test_unknown_path_and_method_keep_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/v1alpha1/nothing"), 404, "NOT_FOUND", "not found")
    assert_error(client.get(URL), 405, "METHOD_NOT_ALLOWED", "not allowed")


def test_queue_full_is_429_with_retry_after(analyzer: Analyzer) -> None:
    with make_client(analyzer) as c:
        state = c.app.state.discourse  # type: ignore[attr-defined]
        stalled = MicroBatcher({"comments": analyzer.score, "threads": analyzer.analyze_threads}, max_queue=1)
        stalled.submit("comments", None)  # never started: the one slot stays taken
        state["batcher"], running = stalled, state["batcher"]
        try:
            r = c.post(URL, json=GOOD)
        finally:
            state["batcher"] = running
        assert_error(r, 429, "RESOURCE_EXHAUSTED", "retry")
        assert r.headers["retry-after"] == "1"
        assert c.post(URL, json=GOOD).status_code == 200


class Exploding:
    models: dict = {}

    def score(self, jobs):
        raise RuntimeError("secret internal detail /home/x/model.bin")

    def analyze_threads(self, threads):
        raise RuntimeError("secret internal detail")


def test_an_internal_failure_is_a_plain_500() -> None:
    app = create_app(ServeSettings(warm_up=False), Exploding())  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(URL, json=GOOD)
    assert_error(r, 500, "INTERNAL", "internal error")
    assert "secret" not in r.text


@pytest.fixture
def keyed(analyzer: Analyzer, tmp_path: Path):
    keys = tmp_path / "keys.txt"
    keys.write_text("# site keys\nkey-one\n\n  key-two  \n", encoding="utf-8")
    with make_client(analyzer, api_key_file=str(keys)) as c:
        yield c


def test_api_keys(keyed: TestClient) -> None:
    assert_error(keyed.post(URL, json=GOOD), 401, "UNAUTHENTICATED", "API key not valid")
    assert_error(keyed.post(URL, json=GOOD, headers={"x-goog-api-key": "key-on"}), 401, "UNAUTHENTICATED", "key")
    assert_error(keyed.post(URL + "?key=key-one-and-more", json=GOOD), 401, "UNAUTHENTICATED", "key")
    assert keyed.post(URL, json=GOOD, headers={"x-goog-api-key": "key-one"}).status_code == 200
    assert keyed.post(URL + "?key=key-two", json=GOOD).status_code == 200
    assert keyed.get("/v1/models").status_code == 401
    assert keyed.get("/v1/models?key=key-one").status_code == 200
    assert keyed.get("/healthz").status_code == 200  # health stays open for load balancers


def test_cors_is_off_unless_an_origin_is_given(analyzer: Analyzer) -> None:
    headers = {"origin": "https://site.example", "access-control-request-method": "POST"}
    with make_client(analyzer) as c:
        assert "access-control-allow-origin" not in c.options(URL, headers=headers).headers
        assert (
            "access-control-allow-origin" not in c.post(URL, json=GOOD, headers={"origin": headers["origin"]}).headers
        )
    with make_client(analyzer, cors_origins=("https://site.example",)) as c:
        pre = c.options(URL, headers=headers)
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://site.example"
        r = c.post(URL, json=GOOD, headers={"origin": "https://other.example"})
        assert "access-control-allow-origin" not in r.headers


def test_cli_refuses_an_empty_key_file_and_a_bad_config(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# nothing\n\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["serve", "--api-key-file", str(keys)])
    assert r.exit_code == 2 and "holds no key" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: {toxicity.v1: {explain_above: banana}}\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["serve", "--config", str(bad)])
    assert r.exit_code == 3 and "explain_above" in r.output


def test_settings_travel_to_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from discourse.serve.app import SETTINGS_ENV

    s = ServeSettings(batch_window_ms=3, cors_origins=("https://a.example",), max_queue=9)
    monkeypatch.setenv(SETTINGS_ENV, s.to_env())
    assert ServeSettings.from_env() == s


def test_a_lone_surrogate_is_replaced_not_a_500(client: TestClient) -> None:
    body = b'{"comment": {"text": "cut emoji \\ud83d here. Next one."}, "requestedAttributes": {"TOXICITY": {}},'
    body += b' "spanAnnotations": true}'
    r = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    spans = r.json()["attributeScores"]["TOXICITY"]["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, 17), (18, 27)]

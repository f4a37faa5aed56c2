"""The served OpenAPI document and the server agree (issue 17, finding 5): the document is
generated from the models the server validates with; every documented example and every
refusal goes through the real server and is answered as declared; a corpus with every field
wrong in every way is refused field by field, never with a 5xx."""

from __future__ import annotations

import json

import pytest
import requests
from eth_account import Account

from relaylib import UNIT, body_of, post, served
from somstack.relay import api
from somstack.relay.checks import REASONS


@pytest.fixture(scope="module")
def contract_relay(relay_chain, tmp_path_factory):
    key = Account.create()
    relay_chain.w3.provider.make_request("anvil_setBalance", [key.address, hex(100 * UNIT)])
    with served(relay_chain, key, tmp_path_factory.mktemp("contract") / "c.sqlite") as pair:
        yield pair


def declared_answer(reply, method, path):
    """Asserts the answer is one the document declares for (method, path, status), in its model."""
    model = api.declared(method, path, reply.status_code)
    assert model is not None, (method, path, reply.status_code, reply.text)
    if isinstance(model, str):
        assert reply.headers["Content-Type"].startswith(model)
        return reply.text
    return model.model_validate(reply.json())


def test_the_served_document_is_the_one_generated_from_the_models(contract_relay):
    url, _ = contract_relay
    assert requests.get(url + "/openapi.json", timeout=10).json() == json.loads(json.dumps(api.openapi_document()))


def test_the_request_schema_is_strict(contract_relay):
    url, _ = contract_relay
    schemas = requests.get(url + "/openapi.json", timeout=10).json()["components"]["schemas"]
    request = schemas["TransferRequest"]
    assert request["additionalProperties"] is False and schemas["Fee"]["additionalProperties"] is False
    assert request["properties"]["from"]["pattern"] == "^0x[0-9a-fA-F]{40}$"
    assert "EIP-55" in request["properties"]["from"]["description"]
    value = request["properties"]["value"]
    assert {"type": "string", "pattern": "^[0-9]{1,78}$"} in value["anyOf"]
    assert request["properties"]["chainId"]["type"] == "integer"  # never null, never a string
    assert list(requests.get(url + "/openapi.json", timeout=10).json()["paths"]["/v1/transfers"]["post"]["requestBody"]
                ["content"]) == ["application/json"]


def test_every_refusal_reason_is_declared_with_its_status():
    doc = api.openapi_document()
    responses = doc["paths"]["/v1/transfers"]["post"]["responses"]
    enum = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"])
    for reason, status in REASONS.items():
        assert reason in enum
        assert reason in responses[str(status)]["description"], (reason, status)


def test_every_documented_example_is_answered_as_declared(relay_chain, contract_relay):
    """The examples as written (a token this relayer does not serve), and with this relayer's
    token (a signature of nobody here): each refused with a declared answer."""
    url, _ = contract_relay
    examples = requests.get(url + "/openapi.json", timeout=10).json()["components"]["schemas"]["TransferRequest"]["examples"]
    assert len(examples) >= 2
    for example in examples:
        if "chainId" in example:
            example = {**example, "chainId": relay_chain.w3.eth.chain_id}
        reply = post(url, example)
        assert declared_answer(reply, "post", "/v1/transfers").error == "unknown_token"
        reply = post(url, {**example, "token": relay_chain.kgst.address})
        assert declared_answer(reply, "post", "/v1/transfers").error in ("bad_signature", "expired")


def test_what_the_schema_forbids_the_server_refuses(relay_chain, contract_relay):
    """Each was accepted although the document forbade it."""
    url, _ = contract_relay
    account = Account.create()
    good = body_of(relay_chain, account, Account.create().address, UNIT)
    for name, body in {
        "lowercase from": {**good, "from": good["from"].lower()},
        "lowercase token": {**good, "token": good["token"].lower()},
        "space-padded to": {**good, "to": " " + good["to"] + " "},
        "spaced nonce": {**good, "nonce": good["nonce"] + " "},
        "chainId as a string": {**good, "chainId": str(relay_chain.w3.eth.chain_id)},
        "unknown field": {**good, "memo": "hi"},
        "unknown fee field": {**good, "fee": {"value": "1", "extra": 1}},
    }.items():
        reply = post(url, body)
        assert reply.status_code == 400 and declared_answer(reply, "post", "/v1/transfers").error == "malformed", name
    raw = json.dumps(good)
    for name, (data, content_type, status, reason) in {
        "text/plain": (raw.encode(), "text/plain", 415, "unsupported_media_type"),
        "no content type": (raw.encode(), "", 415, "unsupported_media_type"),
        "form": (b"a=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        "UTF-16 body": (raw.encode("utf-16"), "application/json", 400, "malformed"),
        "UTF-16 declared": (raw.encode("utf-16"), "application/json; charset=utf-16", 415, "unsupported_media_type"),
        "duplicate keys": (raw[:-1].encode() + b', "value": "1"}', "application/json", 400, "malformed"),
        "NaN": (b'{"value": NaN}', "application/json", 400, "malformed"),
    }.items():
        reply = requests.post(url + "/v1/transfers", data=data, headers={"Content-Type": content_type}, timeout=10)
        assert reply.status_code == status, (name, reply.text)
        assert declared_answer(reply, "post", "/v1/transfers").error == reason, name


@pytest.mark.parametrize("method, path, allow", [("get", "/v1/transfers", "POST"), ("post", "/healthz", "GET"),
                                                 ("delete", "/v1/transfers/0x" + "00" * 32, "GET"),
                                                 ("put", "/openapi.json", "GET")])
def test_405_names_the_allowed_methods(contract_relay, method, path, allow):
    url, _ = contract_relay
    reply = requests.request(method, url + path, timeout=10)
    assert reply.status_code == 405 and reply.headers["Allow"] == allow
    assert reply.json()["error"] == "method_not_allowed"


def test_every_page_answers_as_declared(contract_relay):
    url, _ = contract_relay
    for path in ("/v1/config", "/healthz", "/readyz", "/metrics", "/openapi.json"):
        declared_answer(requests.get(url + path, timeout=10), "get", path)
    declared_answer(requests.get(url + "/v1/transfers/0x" + "ab" * 32, timeout=10), "get", "/v1/transfers/{id}")


# --- The hostile corpus: every field wrong in every way ---

WRONG = {
    "null": None, "true": True, "float": 1.5, "list": [1], "object": {"a": 1}, "empty": "", "huge": "9" * 5000,
    "unicode digit": "٣", "superscript": "²", "fullwidth": "１２", "negative": -1, "negative string": "-1",
    "hex string": "0x10", "spaced": " 1", "2**256": 2**256, "2**256 string": str(2**256),
}
ADDRESS_WRONG = {**WRONG, "lowercase": "0x" + "ab" * 20, "short": "0x" + "ab" * 19, "no 0x": "ab" * 20,
                 "bad checksum": "0x5b38Da6a701c568545dCfcB03FcB875f56beddC4", "unicode hex": "0x" + "ａ" * 40}
FIELDS = {"token": ADDRESS_WRONG, "from": ADDRESS_WRONG, "to": ADDRESS_WRONG, "value": WRONG, "validAfter": WRONG,
          "validBefore": WRONG, "nonce": {**WRONG, "short": "0x1234", "long": "0x" + "11" * 33, "no 0x": "11" * 32},
          "signature": {**WRONG, "short": "0x" + "11" * 64, "odd": "0x" + "1" * 131, "not hex": "0x" + "zz" * 65},
          "kind": {**WRONG, "unknown": "steal", "capital": "Transfer"}, "chainId": WRONG}


def test_every_field_wrong_in_every_way_is_malformed_naming_the_field(relay_chain, contract_relay):
    url, _ = contract_relay
    good = body_of(relay_chain, Account.create(), Account.create().address, UNIT)
    seen = 0
    for field, wrongs in FIELDS.items():
        for name, value in wrongs.items():
            reply = post(url, {**good, field: value})
            assert 400 <= reply.status_code < 500, (field, name, reply.status_code, reply.text)
            answer = declared_answer(reply, "post", "/v1/transfers")
            if field == "chainId" and isinstance(value, int) and not isinstance(value, bool):  # an integer: another chain
                assert answer.error == "wrong_chain", (field, name)
                continue
            assert answer.error in ("malformed", "too_large"), (field, name, answer)
            if answer.error == "malformed":
                assert answer.message.startswith(field), (field, name, answer.message)
            seen += 1
        if field not in ("kind", "chainId"):
            missing = {k: v for k, v in good.items() if k != field}
            reply = post(url, missing)
            assert reply.status_code == 400 and reply.json()["message"].startswith(field), (field, reply.text)
    assert seen > 150


def test_every_refusal_reason_is_expected_by_some_test_through_the_real_server():
    """Each reason the server can answer is the expected answer of at least one test that posts
    to a served relayer (their answers are checked against the declared models by relaylib.post)."""
    import re
    from pathlib import Path

    sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_relay_*.py"))
    missing = [r for r in api.ALL_REASONS if r != "internal" and not re.search(rf"""["']{r}["']""", sources)]
    assert not missing, missing

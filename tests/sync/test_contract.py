"""The client keeps to the contract: every request it makes, and every answer it accepts, is
what the platform's published OpenAPI document describes.

``sync`` never imports ``server``; this test is what holds them together. It records the client's
real traffic against the real platform and checks each exchange against ``/openapi.json`` with a
small JSON-schema checker (just the keywords FastAPI emits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.errors import CardRejected, RegistrationInvalid, ServiceIdRefused
from appliance.proof import challenge_digest
from appliance.values import CardProof, Challenge
from drivers.card.virtual.demo import demo_citizen
from drivers.card.virtual.pki import CitizenCredentials
from server.demo import TerminalCredentials
from sync.client import PlatformClient
from tests.server.helpers import give_mykey_id, new_card, new_card_number
from tests.support.platform import PlatformServer, fake_fingerprint

_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict,
    "array": list, "null": type(None),
}  # fmt: skip


def problems(schema: dict[str, Any], value: Any, doc: dict[str, Any], at: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (an empty list when it conforms)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return problems(doc["components"]["schemas"][name], value, doc, at)
    if "anyOf" in schema:
        if all(problems(s, value, doc, at) for s in schema["anyOf"]):
            return [f"{at}: matches no alternative"]
        return []
    found: list[str] = []
    if "const" in schema and value != schema["const"]:
        found.append(f"{at}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{at}: not one of {schema['enum']}")
    kind = schema.get("type")
    if kind:
        if not isinstance(value, _TYPES[kind]) or (
            kind in ("integer", "number") and isinstance(value, bool)
        ):
            return [*found, f"{at}: not {kind}"]
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{at}: does not match {schema['pattern']}")
        if len(value) > schema.get("maxLength", len(value)) or len(value) < schema.get(
            "minLength", 0
        ):
            found.append(f"{at}: length {len(value)}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        found += [f"{at}.{k}: required" for k in schema.get("required", []) if k not in value]
        for k, v in value.items():
            if k in props:
                found += problems(props[k], v, doc, f"{at}.{k}")
            elif pattern_schemas := [
                s for p, s in schema.get("patternProperties", {}).items() if re.search(p, k)
            ]:
                found += problems(pattern_schemas[0], v, doc, f"{at}.{k}")
            elif schema.get("additionalProperties") is False or "patternProperties" in schema:
                found.append(f"{at}.{k}: not allowed")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += problems(schema["items"], item, doc, f"{at}[{i}]")
    return found


class Recorder(httpx.BaseTransport):
    """The real network, with a copy of every exchange."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def recorded(
    platform_server: PlatformServer, terminal: TerminalCredentials
) -> Iterator[tuple[PlatformClient, Recorder]]:
    recorder = Recorder()
    client = PlatformClient(
        platform_server.base_url, terminal.terminal_id, terminal.password,
        fake_fingerprint(terminal.terminal_id), transport=recorder,
    )  # fmt: skip
    yield client, recorder
    client.close()


def _prove(challenge: Challenge, citizen: int, signer: int) -> CardProof:
    key = demo_citizen(signer).credentials().key
    signature = key.sign(challenge_digest(challenge), PKCS1v15(), Prehashed(SHA256()))
    return CardProof(
        demo_citizen(citizen).credentials().certificate_der, challenge.nonce, signature
    )


def _prove_card(client: PlatformClient, card: CitizenCredentials, purpose: str) -> CardProof:
    challenge = client.challenge(purpose)
    signature = card.key.sign(challenge_digest(challenge), PKCS1v15(), Prehashed(SHA256()))
    return CardProof(card.certificate_der, challenge.nonce, signature)


def test_every_exchange_of_a_working_day_matches_the_published_document(
    recorded: tuple[PlatformClient, Recorder], platform_server: PlatformServer
) -> None:
    client, recorder = recorded
    details = {"place": "高津図書館", "name": "1台目", "issuer_id": "000001", "person": "",
               "postal_code": "2130001", "address": "川崎市高津区", "phone": "044-822-2413",
               "email": "a@example.jp", "email_again": "a@example.jp"}  # fmt: skip
    with pytest.raises(RegistrationInvalid):
        client.register_terminal({**details, "postal_code": "1"}, "reg-" + "1" * 16)
    assert client.register_terminal(details, "reg-" + "2" * 16) == "registered"
    client.status()
    client.issuers()
    client.lookup(_prove(client.challenge(), 1, 1))
    client.lookup(_prove(client.challenge(), 4, 4))
    with pytest.raises(CardRejected):
        client.lookup(_prove(client.challenge(), 1, 2))
    client.send_event("e" * 32, "label_printed", {"issuer_id": "000001", "count": 1})
    client.send_event("e" * 32, "label_printed", {"issuer_id": "000001", "count": 1})
    patron = new_card()
    give_mykey_id(platform_server.db_path, patron)
    client.register_service_id(
        _prove_card(client, patron, "register"), "000001", new_card_number(), address_notice=True
    )
    with pytest.raises(ServiceIdRefused):  # a 400 with problems
        client.register_service_id(
            _prove_card(client, patron, "register"), "000001", "12", address_notice=True
        )
    client.delete_service_id(_prove_card(client, patron, "unregister"), "000001")
    with pytest.raises(ServiceIdRefused):  # a 404
        client.delete_service_id(_prove_card(client, patron, "unregister"), "000001")
    with pytest.raises(CardRejected):  # certificate only, where the library wants the PIN
        client.lookup(CardProof(patron.certificate_der, client.challenge().nonce, b""))

    with httpx.Client(base_url=platform_server.base_url) as http:
        doc = http.get("/openapi.json").json()
    assert len(recorder.exchanges) >= 20
    for request, response in recorder.exchanges:
        where = f"{request.method} {request.url.path}"
        operation = doc["paths"].get(request.url.path, {}).get(request.method.lower())
        assert operation is not None, f"{where}: not in the document"
        for param in operation.get("parameters", []):
            if param["in"] == "header" and param.get("required"):
                assert param["name"] in request.headers, f"{where}: header {param['name']}"
                assert not problems(param["schema"], request.headers[param["name"]], doc)
        if "requestBody" in operation:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert problems(schema, json.loads(request.content), doc) == [], where
        if "security" in operation:
            assert request.headers["Authorization"].startswith("Bearer "), where
        status = str(response.status_code)
        declared = operation["responses"].get(status) or operation["responses"].get(
            f"{status[0]}XX"
        )
        assert declared is not None, f"{where}: status {status} not declared"
        schema = declared["content"]["application/json"]["schema"]
        assert problems(schema, response.json(), doc) == [], f"{where} -> {status}"


def test_the_checker_catches_what_it_should(platform_server: PlatformServer) -> None:
    with httpx.Client(base_url=platform_server.base_url) as http:
        doc = http.get("/openapi.json").json()
    lookup = {"$ref": "#/components/schemas/LookupRequest"}
    assert (
        problems(lookup, {"nonce": "AAAA", "certificate": "AAAA", "signature": "AAAA"}, doc) == []
    )
    assert problems(lookup, {"nonce": "AAAA", "signature": "AAAA"}, doc)  # no certificate
    assert problems(lookup, {"nonce": "!!!!", "certificate": "AAAA", "signature": "AAAA"}, doc)
    assert problems(
        lookup, {"nonce": "AAAA", "certificate": "AAAA", "signature": "AAAA", "x": 1}, doc
    )
    event = {"$ref": "#/components/schemas/EventRequest"}
    assert problems(event, {"kind": "x", "fields": {"n": 1, "s": "t"}}, doc) == []
    assert problems(event, {"kind": "x", "fields": {"n": True}}, doc)
    assert problems(event, {"kind": "x", "fields": {"Bad Name": 1}}, doc)

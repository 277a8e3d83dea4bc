"""The bookmobile routes keep to the contract: the client's offline requests and the answers it
accepts match the platform's published OpenAPI document (the checker of tests/sync)."""

from __future__ import annotations

import datetime as dt
import json
import secrets

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.errors import AssertionRefused
from appliance.offline import Assertion, make_nonce, offline_digest
from drivers.card.virtual.demo import demo_citizen
from server.demo import TerminalCredentials
from sync.client import PlatformClient
from sync.offline import OfflineApi
from tests.support.platform import PlatformServer, fake_fingerprint
from tests.sync.test_contract import Recorder, problems


def _assertion(terminal_id: str, number: int) -> Assertion:
    creds = demo_citizen(number).credentials()
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    nonce = make_nonce(terminal_id, at, secrets.token_bytes(16))
    signature = creds.key.sign(offline_digest(nonce), PKCS1v15(), Prehashed(SHA256()))
    return Assertion(creds.certificate_der, nonce, signature, "8000000007", "000001", at)


def test_offline_exchanges_match_the_published_document(
    platform_server: PlatformServer, terminal: TerminalCredentials
) -> None:
    recorder = Recorder()
    client = PlatformClient(
        platform_server.base_url, terminal.terminal_id, terminal.password,
        fake_fingerprint(terminal.terminal_id), transport=recorder,
    )  # fmt: skip
    try:
        api = OfflineApi(client)
        material = api.trust()
        assert material.cas and material.crls and material.issuers
        assertion = _assertion(terminal.terminal_id, 1)
        assert api.send("k" * 32, assertion)
        assert api.send("k" * 32, assertion)  # a redelivery
        assert api.send("u" * 32, _assertion(terminal.terminal_id, 4)) == []  # not linked
        with pytest.raises(AssertionRefused):
            api.send("r" * 32, assertion)  # a replay
    finally:
        client.close()
    with httpx.Client(base_url=platform_server.base_url) as http:
        doc = http.get("/openapi.json").json()
    offline = [(q, r) for q, r in recorder.exchanges if "/offline/" in q.url.path]
    assert len(offline) == 5
    for request, response in offline:
        where = f"{request.method} {request.url.path}"
        operation = doc["paths"][request.url.path][request.method.lower()]
        for param in operation.get("parameters", []):
            if param["in"] == "header" and param.get("required"):
                assert not problems(param["schema"], request.headers[param["name"]], doc), where
        if "requestBody" in operation:
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert problems(schema, json.loads(request.content), doc) == [], where
        status = str(response.status_code)
        declared = operation["responses"].get(status) or operation["responses"].get(
            f"{status[0]}XX"
        )
        assert declared is not None, f"{where}: status {status} not declared"
        schema = declared["content"]["application/json"]["schema"]
        assert problems(schema, response.json(), doc) == [], f"{where} -> {status}"

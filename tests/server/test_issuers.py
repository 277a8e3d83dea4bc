"""The issuer list: which libraries a terminal serves, with their card-number rules."""

from __future__ import annotations

import httpx
import pytest

from tests.server.helpers import sign_in
from tests.support.platform import PlatformServer, fake_fingerprint

pytestmark = pytest.mark.both_databases


def test_a_terminal_gets_the_library_it_serves(api: httpx.Client, auth: dict[str, str]) -> None:
    r = api.get("/v1/issuers", headers=auth)
    assert r.status_code == 200
    (issuer,) = r.json()["issuers"]
    assert issuer["issuer_id"] == "000001"
    assert issuer["lengths"] == [10] and issuer["check"] == "mod10w21"
    assert issuer["handover"] == "D" and issuer["pin_required"] is True


def test_a_terminal_without_an_issuer_gets_an_empty_list(
    api: httpx.Client, platform_server: PlatformServer
) -> None:
    auth = sign_in(api, platform_server.add_terminal(issuer_id=None), fake_fingerprint())
    assert api.get("/v1/issuers", headers=auth).json() == {"issuers": []}


def test_a_challenge_is_32_random_bytes_valid_for_two_minutes(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    import base64

    seen = set()
    for _ in range(3):
        body = api.post("/v1/challenges", json={"purpose": "lookup"}, headers=auth).json()
        assert body["expires_in"] == 120
        nonce = base64.b64decode(body["nonce"], validate=True)
        assert len(nonce) == 32
        seen.add(nonce)
    assert len(seen) == 3
    r = api.post("/v1/challenges", json={"purpose": "anything"}, headers=auth)
    assert r.status_code == 400

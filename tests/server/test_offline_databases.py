"""Bookmobile (offline) assertions on both databases: accepted once, a redelivery under the
same key answered again, a replay under another key refused (server/offline.py's writes and
its revocation reads, through the kiosk's real client). The full refusal matrix runs on SQLite
in tests/offline/."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.errors import AssertionRefused
from appliance.offline import Assertion, make_nonce, offline_digest
from drivers.card.virtual.pki import citizen
from server.db import connect
from server.demo import DEMO_TERMINAL, demo_card_number
from sync.offline import OfflineApi
from tests.support.platform import PlatformServer, demo_client

pytestmark = pytest.mark.both_databases


def _signed(at: dt.datetime) -> Assertion:
    creds = citizen(1, "1234")
    nonce = make_nonce(DEMO_TERMINAL.terminal_id, at, secrets.token_bytes(16))
    signature = creds.key.sign(offline_digest(nonce), PKCS1v15(), Prehashed(SHA256()))
    der = creds.certificate.public_bytes(serialization.Encoding.DER)
    return Assertion(der, nonce, signature, "8000000007", "000001", at)


def test_an_offline_assertion_counts_once(platform_server: PlatformServer) -> None:
    assertion = _signed(dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    key = secrets.token_hex(16)
    client = demo_client(platform_server)
    try:
        api = OfflineApi(client)
        first = api.send(key, assertion)
        assert [m.number.value for m in first] == [demo_card_number(1)]
        assert api.send(key, assertion) == first
        with pytest.raises(AssertionRefused) as replay:
            api.send(secrets.token_hex(16), assertion)
        assert replay.value.code == "assertion.replayed"
    finally:
        client.close()
    conn = connect(platform_server.db_path)
    try:
        rows = conn.execute(
            "SELECT count(*) FROM offline_seen WHERE idem_key = ?", (key,)
        ).fetchone()
    finally:
        conn.close()
    assert rows[0] == 1

"""What the platform refuses of offline assertions: replays, the window, tampering, revocation.

Assertions are signed here with the demo citizens' test keys (what the card would do), so the
test controls the signing time; they travel through the kiosk's real client to the real server.
The bookmobile tests' platform accepts assertions up to 3 days old (``--offline-window-s``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.errors import AssertionRefused
from appliance.offline import Assertion, make_nonce, offline_digest
from appliance.proof import challenge_digest
from appliance.values import Challenge
from drivers.card.virtual.pki import CitizenCredentials, citizen
from drivers.card.virtual.pki import test_crl as make_crl
from server.db import connect
from server.demo import DEMO_TERMINAL, demo_card_number
from server.registry import add_crl
from sync.offline import OfflineApi
from tests.offline.conftest import Plug, extra_citizen

PINS = {1: "1234", 2: "2580", 3: "0000"}
NOW = dt.datetime.now(dt.UTC)


def signed(
    number: int | CitizenCredentials,
    at: dt.datetime,
    *,
    terminal_id: str = DEMO_TERMINAL.terminal_id,
) -> Assertion:
    creds = citizen(number, PINS[number]) if isinstance(number, int) else number
    nonce = make_nonce(terminal_id, at, secrets.token_bytes(16))
    signature = creds.key.sign(offline_digest(nonce), PKCS1v15(), Prehashed(SHA256()))
    der = creds.certificate.public_bytes(serialization.Encoding.DER)
    return Assertion(der, nonce, signature, "8000000007", "000001", at)


@pytest.fixture(scope="session")
def api(plug: Plug) -> Iterator[OfflineApi]:
    assert plug.server is not None
    client = plug.server.client(DEMO_TERMINAL)
    yield OfflineApi(client)
    client.close()


def _seen(plug: Plug) -> int:
    with sqlite3.connect(plug.db_path) as db:
        (n,) = db.execute("SELECT count(*) FROM offline_seen").fetchone()
    db.close()
    return int(n)


def _refusal(api: OfflineApi, assertion: Assertion, key: str | None = None) -> str:
    with pytest.raises(AssertionRefused) as caught:
        api.send(key or secrets.token_hex(16), assertion)
    return caught.value.code


def test_an_assertion_within_the_window_names_the_card(api: OfflineApi) -> None:
    matches = api.send(secrets.token_hex(16), signed(1, NOW - dt.timedelta(days=2)))
    assert [m.number.value for m in matches] == [demo_card_number(1)]


def test_a_redelivery_with_the_same_key_is_answered_again_but_counted_once(
    api: OfflineApi, plug: Plug
) -> None:
    assertion, key = signed(1, NOW - dt.timedelta(hours=3)), secrets.token_hex(16)
    first = api.send(key, assertion)
    seen = _seen(plug)
    assert api.send(key, assertion) == first
    assert _seen(plug) == seen


def test_a_replay_under_another_key_is_refused(api: OfflineApi) -> None:
    assertion = signed(1, NOW - dt.timedelta(hours=2))
    api.send(secrets.token_hex(16), assertion)
    assert _refusal(api, assertion) == "assertion.replayed"


def test_assertions_outside_the_window_are_refused(api: OfflineApi) -> None:
    assert _refusal(api, signed(1, NOW - dt.timedelta(days=4))) == "assertion.window"
    assert _refusal(api, signed(1, NOW + dt.timedelta(hours=1))) == "assertion.window"


def test_a_tampered_signature_is_refused_and_does_not_burn_the_nonce(api: OfflineApi) -> None:
    good = signed(2, NOW - dt.timedelta(hours=5))
    bad = bytearray(good.signature)
    bad[17] ^= 0x01
    tampered = Assertion(
        good.certificate, good.nonce, bytes(bad), good.token, good.issuer_id, good.signed_at
    )
    assert _refusal(api, tampered) == "card.rejected"
    assert [m.number.value for m in api.send(secrets.token_hex(16), good)] == [demo_card_number(2)]


def test_an_online_signature_is_not_an_offline_one(api: OfflineApi) -> None:
    good = signed(1, NOW - dt.timedelta(hours=1))
    creds = citizen(1, PINS[1])
    online = creds.key.sign(
        challenge_digest(Challenge(good.nonce, DEMO_TERMINAL.terminal_id, "lookup")),
        PKCS1v15(),
        Prehashed(SHA256()),
    )
    swapped = Assertion(
        good.certificate, good.nonce, online, good.token, good.issuer_id, good.signed_at
    )
    assert _refusal(api, swapped) == "card.rejected"


def test_an_assertion_made_at_another_terminal_is_refused(api: OfflineApi) -> None:
    assertion = signed(1, NOW - dt.timedelta(hours=1), terminal_id="00000001")
    assert _refusal(api, assertion) == "assertion.terminal"


def test_revocation_counts_at_signing_time(api: OfflineApi, plug: Plug) -> None:
    revoked_at = (NOW - dt.timedelta(hours=1)).replace(microsecond=0)
    creds = extra_citizen(plug, 14)
    serial = creds.certificate.serial_number
    conn = connect(plug.db_path)
    try:
        add_crl(
            conn,
            make_crl([(serial, revoked_at)], this_update=revoked_at, number=7).public_bytes(
                serialization.Encoding.DER
            ),
            now=time.time(),
        )
    finally:
        conn.close()
    before = api.send(secrets.token_hex(16), signed(creds, revoked_at - dt.timedelta(minutes=30)))
    assert [m.number.value for m in before] == [demo_card_number(14)]
    after = signed(creds, revoked_at + dt.timedelta(minutes=10))
    assert _refusal(api, after) == "card.rejected"

"""Lookups: a card proves itself over a fresh challenge and gets back library card numbers only.

The platform checks the challenge (exists, unused, unexpired, this terminal's), the certificate
(issued by a trusted CA, inside its validity period) and the signature over SHA-256(nonce ||
terminal ID || purpose). It never returns the MyKey ID.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from drivers.card.virtual import pki
from drivers.card.virtual.pki import CitizenCredentials, citizen
from server.db import connect
from server.demo import TerminalCredentials, demo_card_number, demo_mykey_id
from server.verify import serial_hex
from tests.server.helpers import b64, card, new_nonce, proof, sign_in, table_names
from tests.support.platform import PlatformServer, fake_fingerprint

pytestmark = pytest.mark.both_databases


def _lookup(api: httpx.Client, auth: dict[str, str], body: dict[str, str]) -> httpx.Response:
    return api.post("/v1/lookups", json=body, headers=auth)


@pytest.fixture
def terminal_id(terminal: TerminalCredentials, auth: dict[str, str]) -> str:
    """This test's own terminal, signed in (``auth``)."""
    return terminal.terminal_id


def _all_mykey_ids(db_path: object) -> list[str]:
    conn = connect(str(db_path))
    try:
        return [row[0] for row in conn.execute("SELECT mykey_id FROM citizens")]
    finally:
        conn.close()


def test_a_linked_card_gets_its_library_card_number(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    r = _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, card(1)))
    assert r.status_code == 200, r.text
    (match,) = r.json()["matches"]
    assert match["card_number"] == demo_card_number(1)
    assert match["card_valid"] is True and match["address_changed"] is False
    assert match["issuer"] == {
        "issuer_id": "000001",
        "name": "川崎市立図書館",
        "symbology": "codabar",
        "codabar_start": "A",
        "codabar_stop": "A",
        "check": "mod10w21",
        "lengths": [10],
        "handover": "D",
        "pin_required": True,
        "alphabet": "0123456789",
        "number_display": "masked",
    }


def test_the_answer_never_carries_a_mykey_id(
    api: httpx.Client, auth: dict[str, str], terminal_id: str, platform_server: PlatformServer
) -> None:
    for number in (1, 2, 3, 4):
        r = _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, card(number)))
        assert r.status_code == 200
        for mykey_id in _all_mykey_ids(platform_server.db_path):
            assert mykey_id not in r.text
        assert "mykey" not in r.text.lower()


def test_a_valid_card_not_linked_here_gets_an_empty_list(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    r = _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, card(4)))
    assert r.status_code == 200
    assert r.json() == {"matches": []}


def test_a_card_without_a_mykey_id_gets_the_same_empty_list(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    stranger = citizen(77, "7777")  # a genuine card that never created a MyKey ID
    r = _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, stranger))
    assert r.status_code == 200
    assert r.json() == {"matches": []}


def test_a_terminal_of_another_library_gets_nothing_for_a_linked_card(
    api: httpx.Client, platform_server: PlatformServer
) -> None:
    other = platform_server.add_terminal(issuer_id=None)
    auth = sign_in(api, other, fake_fingerprint())
    r = _lookup(api, auth, proof(new_nonce(api, auth), other.terminal_id, card(1)))
    assert r.status_code == 200
    assert r.json() == {"matches": []}


def test_a_challenge_is_single_use_even_when_the_proof_failed(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    nonce = new_nonce(api, auth)
    good = proof(nonce, terminal_id, card(1))
    assert _lookup(api, auth, good).status_code == 200
    again = _lookup(api, auth, good)
    assert again.status_code == 400
    assert again.json()["error"] == "challenge.invalid"

    nonce = new_nonce(api, auth)
    bad = proof(nonce, terminal_id, card(1), key=card(2).key)
    assert _lookup(api, auth, bad).status_code == 403
    assert _lookup(api, auth, proof(nonce, terminal_id, card(1))).json()["error"] == (
        "challenge.invalid"
    )


def test_an_unknown_challenge_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    r = _lookup(api, auth, proof(b64(b"\x01" * 32), terminal_id, card(1)))
    assert r.status_code == 400
    assert r.json()["error"] == "challenge.invalid"


def test_an_expired_challenge_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str, platform_server: PlatformServer
) -> None:
    nonce = new_nonce(api, auth)
    conn = connect(platform_server.db_path)
    try:
        conn.execute("UPDATE nonces SET expires_at = 0 WHERE terminal_id = ?", (terminal_id,))
    finally:
        conn.close()
    r = _lookup(api, auth, proof(nonce, terminal_id, card(1)))
    assert r.status_code == 400
    assert r.json()["error"] == "challenge.invalid"


def test_another_terminals_challenge_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str, platform_server: PlatformServer
) -> None:
    other = platform_server.add_terminal()
    other_auth = sign_in(api, other, fake_fingerprint())
    nonce = new_nonce(api, other_auth)
    r = _lookup(api, auth, proof(nonce, terminal_id, card(1)))
    assert r.status_code == 400
    assert r.json()["error"] == "challenge.invalid"
    # ...and the other terminal's challenge was not burnt by the attempt.
    assert _lookup(api, other_auth, proof(nonce, other.terminal_id, card(1))).status_code == 200


def test_a_signature_by_another_key_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    body = proof(new_nonce(api, auth), terminal_id, card(1), key=card(2).key)
    r = _lookup(api, auth, body)
    assert r.status_code == 403
    assert r.json()["error"] == "card.rejected"


def test_a_signature_made_for_another_terminal_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    body = proof(new_nonce(api, auth), "00052459", card(1))  # signed as if at the demo terminal
    assert _lookup(api, auth, body).status_code == 403


def test_a_signature_made_for_another_purpose_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    body = proof(new_nonce(api, auth), terminal_id, card(1), purpose="register")
    assert _lookup(api, auth, body).status_code == 403


def test_a_certificate_from_another_ca_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    forged = citizen(1, "1234", ca_name="other")  # same serial as demo citizen 1, untrusted CA
    assert serial_hex(forged.certificate.serial_number) == serial_hex(
        card(1).certificate.serial_number
    )
    r = _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, forged))
    assert r.status_code == 403
    assert r.json()["error"] == "card.rejected"


def _reissued(
    credentials: CitizenCredentials, not_before: dt.datetime, not_after: dt.datetime
) -> CitizenCredentials:
    ca = pki.test_ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(credentials.certificate.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(credentials.key.public_key())
        .serial_number(credentials.certificate.serial_number)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(ca.key, hashes.SHA256())
    )
    return CitizenCredentials(credentials.number, credentials.pin, credentials.key, cert)


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        (dt.datetime(2020, 1, 1, tzinfo=dt.UTC), dt.datetime(2021, 1, 1, tzinfo=dt.UTC)),
        (dt.datetime(2200, 1, 1, tzinfo=dt.UTC), dt.datetime(2201, 1, 1, tzinfo=dt.UTC)),
    ],
    ids=["expired", "not-yet-valid"],
)
def test_a_certificate_outside_its_validity_period_is_refused(
    api: httpx.Client,
    auth: dict[str, str],
    terminal_id: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> None:
    stale = _reissued(card(1), not_before, not_after)
    r = _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, stale))
    assert r.status_code == 403
    assert r.json()["error"] == "card.rejected"


def test_garbage_instead_of_a_certificate_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str
) -> None:
    body = proof(new_nonce(api, auth), terminal_id, card(1))
    body["certificate"] = b64(b"not a certificate")
    assert _lookup(api, auth, body).status_code == 403


def test_lookups_leave_counts_and_nothing_that_names_the_card(
    api: httpx.Client, auth: dict[str, str], terminal_id: str, platform_server: PlatformServer
) -> None:
    for number in (1, 2, 4):
        assert _lookup(api, auth, proof(new_nonce(api, auth), terminal_id, card(number))).is_success
    bad = proof(new_nonce(api, auth), terminal_id, card(3), key=card(1).key)
    assert _lookup(api, auth, bad).status_code == 403

    secrets = {demo_card_number(n) for n in (1, 2, 3)}
    secrets |= {demo_mykey_id(n) for n in (1, 2, 3, 4)}
    secrets |= {serial_hex(card(n).certificate.serial_number) for n in (1, 2, 3, 4)}
    conn = connect(platform_server.db_path)
    try:
        tables = table_names(conn, platform_server.backend)
        assert {"nonces", "daily_counts", "idempotency", "events"} <= set(tables)
        for table in set(tables) - {"citizens", "service_ids"}:  # the registration itself
            for row in conn.execute(f"SELECT * FROM {table}"):
                text = " ".join(str(v) for v in row)
                assert not any(s in text for s in secrets), table
        counts = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT kind, count FROM daily_counts WHERE terminal_id = ?", (terminal_id,)
            )
        }
    finally:
        conn.close()
    assert counts == {"lookup": 3, "lookup_rejected": 1}
    log = platform_server.log_text()
    assert not any(s in log for s in secrets)


@pytest.mark.parametrize(
    ("content", "headers", "problem"),
    [
        (b"{", {"Content-Type": "application/json"}, "body"),  # not JSON
        (b"", {"Content-Type": "application/json"}, "body"),  # no body
        (b'{"nonce": "AAAA"}', {"Content-Type": "application/json"}, "body.certificate"),
        (
            b'{"nonce": "AAAA", "certificate": "AAAA", "x": 1}',
            {"Content-Type": "application/json"},
            "body.x",
        ),
        (
            b'{"nonce": 1, "certificate": "AAAA"}',
            {"Content-Type": "application/json"},
            "body.nonce",
        ),
        (b'{"nonce": "AAAA", "certificate": "AAAA"}', {"Content-Type": "text/plain"}, "body"),
        (b'{"nonce": "AAAA", "certificate": "AAAA"}', {}, "body"),  # no Content-Type
    ],
)
def test_a_malformed_body_is_refused_as_for_every_other_route(
    api: httpx.Client, auth: dict[str, str], content: bytes, headers: dict[str, str], problem: str
) -> None:
    """The lookup route reads its body itself (server.api.json_body): the answer is FastAPI's,
    400 request.invalid naming the field, and the body is checked before the session."""
    for authorization in (auth, {"Authorization": "Bearer not-a-session"}):
        r = api.post("/v1/lookups", content=content, headers={**headers, **authorization})
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "request.invalid"
        assert r.json()["detail"].startswith(problem), r.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic dXNlcjpwdw==", "Bearer not-a-session", "bearer"],
)
def test_a_lookup_without_a_valid_session_is_refused(
    api: httpx.Client, auth: dict[str, str], terminal_id: str, authorization: str | None
) -> None:
    body = proof(new_nonce(api, auth), terminal_id, card(1))
    headers = {} if authorization is None else {"Authorization": authorization}
    r = api.post("/v1/lookups", json=body, headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "session.invalid"
    assert r.headers["WWW-Authenticate"] == "Bearer"
    # the same token in another spelling of the scheme still counts (as FastAPI's HTTPBearer)
    token = auth["Authorization"].split(" ", 1)[1]
    assert api.post(
        "/v1/lookups", json=body, headers={"Authorization": f"bEaReR {token}"}
    ).is_success

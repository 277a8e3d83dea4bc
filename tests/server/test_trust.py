"""What a card must be besides well-signed: not revoked (the CA's CRL), and recognised after a
re-issue (successor records); and where a library chose no PIN, a certificate alone. A platform
of its own, since a revocation list changes every lookup of its CA."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.hashes import SHA256

from drivers.card.virtual import pki
from drivers.card.virtual.pki import CitizenCredentials
from server.cli import main
from server.db import connect
from server.demo import TerminalCredentials
from server.registry import add_issuer, add_successor, add_terminal, link_service_id
from server.verify import serial_hex
from tests.server.helpers import card_proof, give_mykey_id, new_card, new_card_number, sign_in
from tests.support.platform import PlatformServer, fake_fingerprint, running_platform

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    with running_platform(tmp_path_factory.mktemp("trust")) as s:
        yield s


@pytest.fixture
def api(server: PlatformServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def session(api: httpx.Client, server: PlatformServer) -> tuple[str, dict[str, str]]:
    terminal = server.add_terminal()
    return terminal.terminal_id, sign_in(api, terminal, fake_fingerprint(terminal.terminal_id))


def _linked(server: PlatformServer, card: CitizenCredentials, issuer_id: str = "000001") -> str:
    mykey_id = give_mykey_id(server.db_path, card)
    number = new_card_number()
    conn = connect(server.db_path)
    try:
        link_service_id(conn, mykey_id, issuer_id, number)
    finally:
        conn.close()
    return number


def _lookup(
    api: httpx.Client, session: tuple[str, dict[str, str]], card: CitizenCredentials, *,
    signed: bool = True,
) -> httpx.Response:  # fmt: skip
    tid, auth = session
    body = card_proof(api, auth, tid, card, "lookup")
    if not signed:
        del body["signature"]
    return api.post("/v1/lookups", json=body, headers=auth)


def _crl(
    revoked: list[int], *, next_update: dt.datetime, key: rsa.RSAPrivateKey | None = None,
    issuer: x509.Name | None = None,
) -> bytes:  # fmt: skip
    ca = pki.test_ca()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer or ca.certificate.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(next_update)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW).build()
        )
    return builder.sign(key or ca.key, SHA256()).public_bytes(serialization.Encoding.PEM)


def _load_crl(tmp_path: Path, server: PlatformServer, data: bytes) -> int:
    path = tmp_path / f"{uuid.uuid4().hex}.crl"
    path.write_bytes(data)
    return main(["add-crl", "--db", str(server.db_path), str(path)])


def test_a_revoked_certificate_is_refused_and_the_others_still_pass(
    api: httpx.Client, server: PlatformServer, session: tuple[str, dict[str, str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    revoked, fine = new_card(), new_card()
    _linked(server, revoked)
    number = _linked(server, fine)
    crl = _crl([revoked.certificate.serial_number], next_update=NOW + dt.timedelta(days=2))
    assert _load_crl(tmp_path, server, crl) == 0
    r = _lookup(api, session, revoked)
    assert (r.status_code, r.json()["error"]) == (403, "card.rejected")
    assert r.json()["detail"] == "certificate revoked"
    r = _lookup(api, session, fine)
    assert [m["card_number"] for m in r.json()["matches"]] == [number]


def test_an_out_of_date_revocation_list_refuses_every_card_of_its_ca(
    api: httpx.Client, server: PlatformServer, session: tuple[str, dict[str, str]],
    tmp_path: Path,
) -> None:  # fmt: skip
    card = new_card()
    _linked(server, card)
    assert _load_crl(tmp_path, server, _crl([], next_update=NOW - dt.timedelta(minutes=1))) == 0
    r = _lookup(api, session, card)
    assert r.status_code == 403 and "out of date" in r.json()["detail"]
    assert _load_crl(tmp_path, server, _crl([], next_update=NOW + dt.timedelta(days=1))) == 0
    assert _lookup(api, session, card).status_code == 200


def test_a_revocation_list_not_signed_by_a_trusted_ca_is_not_loaded(
    server: PlatformServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    crl = _crl([], next_update=NOW + dt.timedelta(days=1), key=forger)  # the CA's name, wrong key
    assert _load_crl(tmp_path, server, crl) == 1
    assert "not signed by a trusted CA" in capsys.readouterr().err
    assert _load_crl(tmp_path, server, b"not a CRL") == 1


def test_a_reissued_card_takes_over_at_first_use_and_the_old_one_stops(
    api: httpx.Client, server: PlatformServer, session: tuple[str, dict[str, str]]
) -> None:
    old, middle, new = new_card(), new_card(), new_card()
    number = _linked(server, old)
    ca_subject = pki.test_ca().certificate.subject.rfc4514_string()
    serial = [serial_hex(c.certificate.serial_number) for c in (old, middle, new)]
    conn = connect(server.db_path)
    try:  # re-issued twice before the patron came back: old -> middle -> new
        add_successor(conn, ca_subject, serial[0], serial[1])
        add_successor(conn, ca_subject, serial[1], serial[2])
    finally:
        conn.close()
    r = _lookup(api, session, new)
    assert [m["card_number"] for m in r.json()["matches"]] == [number]
    conn = sqlite3.connect(server.db_path)
    try:
        stored = {row[0] for row in conn.execute("SELECT cert_serial FROM citizens")}
        left = conn.execute("SELECT count(*) FROM cert_successors").fetchone()[0]
    finally:
        conn.close()
    assert serial[2] in stored and serial[0] not in stored and left == 0
    assert _lookup(api, session, old).json() == {"matches": []}
    assert [m["card_number"] for m in _lookup(api, session, new).json()["matches"]] == [number]


def test_a_pin_less_library_answers_a_certificate_alone_and_a_pin_library_does_not(
    api: httpx.Client, server: PlatformServer, session: tuple[str, dict[str, str]]
) -> None:
    conn = connect(server.db_path)
    try:
        add_issuer(conn, "000002", "PIN不要図書館", handover="D", pin_required=False)
        add_terminal(conn, "66000002", "pw-pinless", issuer_id="000002", place="館", name="端末")
    finally:
        conn.close()
    card = new_card()
    number = _linked(server, card, "000002")
    pinless = TerminalCredentials("66000002", "pw-pinless")
    pinless_session = ("66000002", sign_in(api, pinless, fake_fingerprint("pinless")))
    r = _lookup(api, pinless_session, card, signed=False)
    assert r.status_code == 200, r.text
    (match,) = r.json()["matches"]
    assert (match["card_number"], match["issuer"]["pin_required"]) == (number, False)
    # The same certificate alone at the PIN library (000001) is refused, counted as rejected.
    r = _lookup(api, session, card, signed=False)
    assert (r.status_code, r.json()["error"]) == (403, "card.pin_required")
    # An unsigned proof still needs a genuine, unrevoked certificate.
    stranger = new_card(ca_name="default", not_after=NOW - dt.timedelta(days=1))
    assert _lookup(api, pinless_session, stranger, signed=False).status_code == 403


def test_the_database_keeps_counts_not_people(
    api: httpx.Client, server: PlatformServer, session: tuple[str, dict[str, str]]
) -> None:
    cards = [new_card() for _ in range(3)]
    numbers = {_linked(server, c) for c in cards}
    for c in cards * 2:
        assert _lookup(api, session, c).status_code == 200
    secrets = numbers | {serial_hex(c.certificate.serial_number) for c in cards}
    conn = sqlite3.connect(server.db_path)
    try:
        secrets |= {r[0] for r in conn.execute("SELECT mykey_id FROM citizens")}
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in tables - {"citizens", "service_ids"}:  # the registrations themselves
            for row in conn.execute(f"SELECT * FROM {table}"):
                text = " ".join(str(v) for v in row)
                assert not any(s in text for s in secrets), table
        counts = conn.execute(
            "SELECT kind, count FROM daily_counts WHERE terminal_id = ?", (session[0],)
        ).fetchall()
    finally:
        conn.close()
    assert counts == [("lookup", 6)]
    assert not any(s in server.log_text() for s in secrets)

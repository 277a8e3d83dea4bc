"""Speaking the platform's wire protocol by hand, the way a terminal would."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import secrets

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID

from appliance.checkdigits import compute
from appliance.proof import challenge_digest
from appliance.values import Challenge
from drivers.card.virtual.demo import demo_citizen
from drivers.card.virtual.pki import CitizenCredentials, test_ca
from server import mykey
from server.db import connect
from server.dbapi import Connection
from server.demo import TerminalCredentials


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sign_in(
    api: httpx.Client, credentials: TerminalCredentials, fingerprint: str
) -> dict[str, str]:
    """Sign in and return the Authorization header for the session."""
    r = api.post(
        "/v1/sessions",
        json={
            "terminal_id": credentials.terminal_id,
            "password": credentials.password,
            "fingerprint": fingerprint,
        },
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def new_nonce(api: httpx.Client, auth: dict[str, str]) -> str:
    r = api.post("/v1/challenges", json={"purpose": "lookup"}, headers=auth)
    assert r.status_code == 200, r.text
    return str(r.json()["nonce"])


def card(number: int) -> CitizenCredentials:
    return demo_citizen(number).credentials()


def proof(
    nonce_b64: str,
    terminal_id: str,
    citizen: CitizenCredentials,
    *,
    key: rsa.RSAPrivateKey | None = None,
    purpose: str = "lookup",
) -> dict[str, str]:
    """The lookup body a card would make: its certificate and its signature over the digest."""
    digest = challenge_digest(Challenge(base64.b64decode(nonce_b64), terminal_id, purpose))
    signature = (key or citizen.key).sign(digest, PKCS1v15(), Prehashed(SHA256()))
    return {
        "nonce": nonce_b64,
        "certificate": b64(citizen.certificate_der),
        "signature": b64(signature),
    }


@functools.cache
def _shared_key() -> rsa.RSAPrivateKey:
    """One fresh RSA key for the test-made cards (the demo PKI's seeded keys take seconds)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def new_card(
    serial: int | None = None,
    *,
    ca_name: str = "default",
    not_before: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
    not_after: dt.datetime = dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
) -> CitizenCredentials:
    """A genuine card of the test CA that no other test knows (a random serial)."""
    ca = test_ca(ca_name)
    key = _shared_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TEST user auth")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .sign(ca.key, SHA256())
    )
    return CitizenCredentials(0, "0000", key, cert)


def give_mykey_id(db_path: object, credentials: CitizenCredentials) -> str:
    """Create a MyKey ID for the card, as the citizen would on My Page."""
    conn = connect(str(db_path))
    try:
        choice = mykey.IdChoice(conn)
        choice.draw()
        mykey_id = choice.accept()
        mykey.create(conn, mykey_id, credentials.certificate)
    finally:
        conn.close()
    return mykey_id


def table_names(conn: Connection, backend: str) -> list[str]:
    """Every table of the platform's database (to scan them all)."""
    if backend == "postgresql":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    else:
        sql = "SELECT name FROM sqlite_schema WHERE type = 'table'"
    return [r[0] for r in conn.execute(sql)]


def new_card_number() -> str:
    """A valid, unused-looking 10-digit mod10w21 number for the demo library."""
    body = f"9{secrets.randbelow(10**8):08d}"
    return body + compute(body, "mod10w21")


def card_proof(
    api: httpx.Client,
    auth: dict[str, str],
    terminal_id: str,
    citizen: CitizenCredentials,
    purpose: str,
) -> dict[str, str]:
    """A fresh challenge of ``purpose`` and the card's proof over it."""
    r = api.post("/v1/challenges", json={"purpose": purpose}, headers=auth)
    assert r.status_code == 200, r.text
    return proof(r.json()["nonce"], terminal_id, citizen, purpose=purpose)

"""Speaking the platform's wire protocol by hand, the way a terminal would."""

from __future__ import annotations

import base64

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.proof import challenge_digest
from appliance.values import Challenge
from drivers.card.virtual.demo import demo_citizen
from drivers.card.virtual.pki import CitizenCredentials
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

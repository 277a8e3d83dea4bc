"""The staff flows (issue 5): linking a library card number to a card, and unlinking it.

Apart from the patron's lookup because the refusals are the staff's to read: a number that is
taken, a link that exists, a number that breaks the library's rules all come back as
:class:`appliance.errors.ServiceIdRefused` with the platform's ``code`` and every problem, and
because these are writes: each carries an idempotency key derived from the whole request
(:func:`request_key`), so a retry after a lost answer replays instead of registering twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import NoReturn

import httpx

from appliance.errors import MalformedReply, ServiceIdRefused
from appliance.ports import RegisteredServiceId
from appliance.values import CardProof
from sync import _wire
from sync.cards import proof_fields
from sync.session import PlatformSession


def register(
    session: PlatformSession,
    proof: CardProof,
    issuer_id: str,
    card_number: str,
    *,
    address_notice: bool,
) -> RegisteredServiceId:
    """Link ``card_number`` at ``issuer_id`` to the card that made ``proof`` (a challenge of
    purpose ``register``). Raises ServiceIdRefused with the platform's reason."""
    payload = {
        **proof_fields(proof),
        "issuer_id": issuer_id,
        "card_number": card_number,
        "address_notice": address_notice,
    }
    response = _write(session, "/v1/service-ids", payload)
    if response.status_code != 201:
        _refuse(session, response)
    body = _wire.json_object(response)
    issuer = _wire.issuer(body.get("issuer"))
    return RegisteredServiceId(
        issuer_id=issuer.issuer_id,
        card_number=_wire.field(body, "card_number", str),
        address_notice=_wire.field(body, "address_notice", bool),
    )


def delete(session: PlatformSession, proof: CardProof, issuer_id: str) -> None:
    """Remove the card's registration at ``issuer_id`` (a challenge of purpose ``unregister``).
    Raises ServiceIdRefused ``service_id.unknown`` if there is none."""
    response = _write(
        session, "/v1/service-ids/deletions", {**proof_fields(proof), "issuer_id": issuer_id}
    )
    if response.status_code != 200:
        _refuse(session, response)
    if _wire.json_object(response).get("deleted") is not True:
        raise MalformedReply("field 'deleted': expected true")


def request_key(payload: Mapping[str, object]) -> str:
    """The idempotency key of a proof-carrying write: a digest of the whole request, which
    holds the challenge. A retry of the same call replays; the same proof with a corrected
    card number is a new request (and a spent challenge then says "tap again")."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "p-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def _write(session: PlatformSession, path: str, payload: Mapping[str, object]) -> httpx.Response:
    return session.authed(
        "POST", path, json=payload, headers={"Idempotency-Key": request_key(payload)}
    )


def _refuse(session: PlatformSession, response: httpx.Response) -> NoReturn:
    code = _wire.error_code(response)
    if code in ServiceIdRefused.KEYS:
        problems = _wire.json_object(response).get("problems", [])
        listed = problems if isinstance(problems, list) else []
        codes = [
            p["code"] for p in listed if isinstance(p, dict) and isinstance(p.get("code"), str)
        ]
        raise ServiceIdRefused(code, f"HTTP {response.status_code} {code}", codes)
    session.refuse(response)

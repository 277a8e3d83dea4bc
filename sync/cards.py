"""The card calls of a patron's tap: a challenge, then a lookup with the card's proof.

Kept apart from the session plumbing because this is where the privacy rules of a lookup live:
the proof goes out as base64 fields and nothing else about the card does; the answer is parsed
strictly (:mod:`sync._wire`) and never carries the MyKey ID; the log gets a count only.
:func:`proof_fields` is shared with the staff flows (:mod:`sync.service_ids`) and the
bookmobile's assertions (:mod:`sync.offline`), which send the same three fields.
"""

from __future__ import annotations

import base64
import logging
from typing import Protocol

from appliance.errors import MalformedReply
from appliance.values import CardProof, Challenge, LookupMatch
from sync import _wire
from sync.session import PlatformSession

log = logging.getLogger(__name__)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SignedProof(Protocol):
    """What a card's proof carries: a :class:`CardProof`, or an offline ``Assertion``."""

    @property
    def nonce(self) -> bytes: ...
    @property
    def certificate(self) -> bytes: ...
    @property
    def signature(self) -> bytes: ...


def proof_fields(proof: SignedProof, *, with_empty_signature: bool = True) -> dict[str, str]:
    """``nonce``, ``certificate`` and ``signature`` of a card's proof, base64.

    A certificate-only proof (an issuer's PIN-less policy) has an empty signature; the lookup
    leaves the field out then (``with_empty_signature=False``), the other writes always send it.
    """
    fields = {"nonce": b64(proof.nonce), "certificate": b64(proof.certificate)}
    if proof.signature or with_empty_signature:
        fields["signature"] = b64(proof.signature)
    return fields


def challenge(session: PlatformSession, purpose: str = "lookup") -> Challenge:
    """A fresh single-use nonce for this terminal and ``purpose``."""
    response = session.authed("POST", "/v1/challenges", json={"purpose": purpose})
    nonce = _wire.b64_field(session.expect(response, 200), "nonce")
    if len(nonce) < 16:
        raise MalformedReply("field 'nonce': shorter than 16 bytes")
    return Challenge(nonce=nonce, terminal_id=session.terminal_id, purpose=purpose)


def lookup(session: PlatformSession, proof: CardProof) -> list[LookupMatch]:
    """The library card numbers linked to the card, for the issuers this terminal serves."""
    payload = proof_fields(proof, with_empty_signature=False)
    body = session.expect(session.authed("POST", "/v1/lookups", json=payload), 200)
    matches = [_wire.match(obj) for obj in _wire.field(body, "matches", list)]
    log.info("lookup: %d match(es)", len(matches))
    return matches

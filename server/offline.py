"""Bookmobile (offline) lending on the platform: trust material out, signed assertions in.

A kiosk on a bookmobile has no network at the stops. Before departure it fetches what it needs to
check a card by itself (``GET /v1/offline/trust``: the trusted CA certificates and their latest
revocation lists, all public). At each stop the card signs a nonce the *kiosk* made: terminal ID
(8 ASCII digits) || signing time (8 bytes, big-endian Unix seconds) || 16 random bytes, hashed with
the terminal ID and the purpose ``offline`` exactly as an online challenge is. Back online the kiosk
sends each such assertion (``POST /v1/offline/assertions``) and gets the linked card numbers back,
as a lookup would answer.

What the platform checks: the nonce names the session's terminal; it was signed within the
configured window (``window_s``) and not in the future; signature and chain hold *at signing
time*; the certificate was not revoked at signing time (revocations accumulate in
``revocations``); the nonce was never accepted before. A redelivery of the very same assertion
with the same ``Idempotency-Key`` by the same terminal is answered again (a kiosk killed between
our answer and its own write must not lose the patron's loans); anything else seen before is a
replay, 409 ``assertion.replayed``. Only a hash of the nonce is kept: no row names the card, its
certificate or the library card number, and no answer is stored.
"""

import base64
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from typing import Annotated

from cryptography import x509
from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from server import models
from server.api import ApiError, Db, Terminal
from server.api import count as _count
from server.api import issuer_model as _issuer
from server.dbapi import Connection
from server.routes_cards import _b64decode
from server.verify import ProofRejected, challenge_digest, load_cas, serial_hex, verify_card

log = logging.getLogger(__name__)

OFFLINE_PURPOSE = "offline"
WINDOW_SECONDS = 7 * 24 * 3600  # default: a bookmobile round is at most a week
FUTURE_SKEW_SECONDS = 300  # a kiosk clock a little ahead is not an attack
NONCE_BYTES = 32


class OfflineAssertion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nonce: Annotated[
        str,
        models.b64_field(
            64, "terminal ID (8 ASCII digits) || Unix seconds (8 bytes BE) || 16 random"
        ),
    ]
    certificate: Annotated[
        str, models.b64_field(16384, "User-authentication certificate, DER, base64")
    ]
    signature: Annotated[
        str,
        models.b64_field(
            2048, "RSA PKCS#1 v1.5 over SHA-256(nonce || terminal ID || 'offline'), base64"
        ),
    ]


class RevocationList(BaseModel):
    issuer: str = Field(description="RFC 4514 name of the CA")
    der: str = Field(description="The CRL as the CA published it, DER, base64")
    this_update: int = Field(description="Unix seconds")
    next_update: int | None = Field(description="Unix seconds")


class OfflineTrust(BaseModel):
    cas: list[str] = Field(description="Trusted CA certificates, PEM")
    crls: list[RevocationList]
    served_at: int = Field(description="Unix seconds, the platform's clock")
    window_s: int = Field(description="How long after signing an assertion is still accepted")


def parse_nonce(nonce: bytes) -> tuple[str, float] | None:
    """(terminal ID, signing time) of an offline nonce, or None if it is not one."""
    if len(nonce) != NONCE_BYTES:
        return None
    terminal_id = nonce[:8].decode("ascii", errors="replace")
    if not terminal_id.isdigit():
        return None
    return terminal_id, float(int.from_bytes(nonce[8:16], "big"))


def offline_router(*, clock: Callable[[], float], window_s: int = WINDOW_SECONDS) -> APIRouter:
    """The two routes, on the same pooled connections and terminal sessions as the others."""
    router = APIRouter()

    @router.get("/v1/offline/trust", response_model=OfflineTrust)
    def trust(term: Terminal, conn: Db) -> OfflineTrust:
        cas = [row["pem"] for row in conn.execute("SELECT pem FROM ca_certificates")]
        crls = [
            RevocationList(
                issuer=row["ca_subject"],
                der=base64.b64encode(row["der"]).decode("ascii"),
                this_update=int(row["this_update"]),
                next_update=None if row["next_update"] is None else int(row["next_update"]),
            )
            for row in conn.execute("SELECT * FROM crls ORDER BY ca_subject")
        ]
        log.info("offline trust fetched by terminal %s", term["terminal_id"])
        return OfflineTrust(cas=cas, crls=crls, served_at=int(clock()), window_s=window_s)

    @router.post("/v1/offline/assertions", response_model=models.LookupResult)
    def assertion(
        body: OfflineAssertion,
        term: Terminal,
        conn: Db,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_-]{8,64}$")
        ],
    ) -> models.LookupResult:
        nonce = _b64decode(body.nonce, "nonce")
        certificate = _b64decode(body.certificate, "certificate")
        signature = _b64decode(body.signature, "signature")
        terminal_id: str = term["terminal_id"]
        parsed = parse_nonce(nonce)
        if parsed is None:
            raise ApiError(400, "request.invalid", "nonce: not an offline nonce")
        nonce_terminal, signed_at = parsed
        if nonce_terminal != terminal_id:
            raise ApiError(403, "assertion.terminal", "signed at another terminal")
        now = clock()
        if signed_at > now + FUTURE_SKEW_SECONDS or now - signed_at > window_s:
            _count(conn, now, terminal_id, "offline_window")
            log.info("offline assertion of terminal %s outside the window", terminal_id)
            raise ApiError(403, "assertion.window", "signed outside the accepted window")
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)
        body_hash = hashlib.sha256(canonical.encode()).hexdigest()
        nonce_hash = hashlib.sha256(nonce).hexdigest()

        def replay() -> bool:
            """True for a redelivery; raise for a replay; False if never seen."""
            seen = conn.execute(
                "SELECT terminal_id, idem_key, body_hash FROM offline_seen WHERE nonce_hash = ?",
                (nonce_hash,),
            ).fetchone()
            if seen is None:
                return False
            if tuple(seen) == (terminal_id, idempotency_key, body_hash):
                return True
            raise ApiError(409, "assertion.replayed", "this assertion was already accepted")

        replay()  # refuse a replay before spending CPU on its signature
        cert = _check(conn, certificate, signature, nonce, terminal_id, signed_at)
        conn.execute("BEGIN IMMEDIATE")
        try:
            redelivery = replay()  # again, inside the transaction: two deliveries may race
            if not redelivery:
                conn.execute(
                    "INSERT INTO offline_seen (nonce_hash, terminal_id, idem_key, body_hash,"
                    " signed_at, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (nonce_hash, terminal_id, idempotency_key, body_hash, signed_at, now),
                )
                _count(conn, now, terminal_id, "offline_resolved")
            rows = conn.execute(
                "SELECT i.*, s.card_number, s.card_valid, s.address_notice, s.address_changed"
                " FROM citizens c JOIN service_ids s USING (mykey_id)"
                " JOIN issuers i USING (issuer_id)"
                " WHERE c.cert_issuer = ? AND c.cert_serial = ? AND s.issuer_id = ?",
                (cert.issuer.rfc4514_string(), serial_hex(cert.serial_number), term["issuer_id"]),
            ).fetchall()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info(
            "offline assertion at terminal %s%s: %d match(es)",
            terminal_id,
            " (redelivery)" if redelivery else "",
            len(rows),
        )
        return models.LookupResult(
            matches=[
                models.LookupMatch(
                    issuer=_issuer(r),
                    card_number=r["card_number"],
                    card_valid=bool(r["card_valid"]),
                    address_changed=bool(r["address_notice"] and r["address_changed"]),
                )
                for r in rows
            ]
        )

    def _check(
        conn: Connection,
        certificate: bytes,
        signature: bytes,
        nonce: bytes,
        terminal_id: str,
        signed_at: float,
    ) -> x509.Certificate:
        cas = load_cas(
            row["pem"].encode() for row in conn.execute("SELECT pem FROM ca_certificates")
        )
        digest = challenge_digest(nonce, terminal_id, OFFLINE_PURPOSE)
        at = dt.datetime.fromtimestamp(signed_at, dt.UTC)
        try:
            cert = verify_card(certificate, signature, digest, cas, at)
            revoked = conn.execute(
                "SELECT revoked_at FROM revocations WHERE issuer = ? AND serial = ?",
                (cert.issuer.rfc4514_string(), serial_hex(cert.serial_number)),
            ).fetchone()
            if revoked is not None and revoked["revoked_at"] <= signed_at:
                raise ProofRejected("certificate was revoked when it signed")
        except ProofRejected as exc:
            _count(conn, clock(), terminal_id, "offline_rejected")
            log.info("offline assertion at terminal %s refused: %s", terminal_id, exc.reason)
            raise ApiError(403, "card.rejected", exc.reason) from exc
        return cert

    return router

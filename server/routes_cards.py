"""Routes where a card proves itself: challenges, lookups, service-ID registration and deletion.

Each proof spends its challenge first, inside the same transaction as everything the route
then writes, so one commit (one fsync) covers the spent nonce and the day's counter, and a
challenge is gone whether or not the proof held.

A lookup answers with the library card numbers only, never the MyKey ID, and leaves one
increment in ``daily_counts``; it is not idempotency-keyed, because a stored answer would be
exactly the per-lookup record naming a person that the platform must not keep (a retried
lookup needs a fresh challenge anyway).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import secrets
from typing import Any

from cryptography import x509
from fastapi import APIRouter, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from server import cardrules, models, mykey
from server.api import (
    ApiError,
    Bearer,
    Db,
    IdempotencyKey,
    Platform,
    State,
    Terminal,
    bearer_token,
    body_hash,
    count,
    credentials_token,
    idempotent,
    issuer_model,
    json_body,
    raw_body_openapi,
    signed_in,
)
from server.dbapi import Connection, Row
from server.verify import ProofRejected, challenge_digest, verify_card

log = logging.getLogger(__name__)
router = APIRouter()
# Bodies that routes here read themselves (json_body): their schemas go into the OpenAPI
# document's components (server.app), as FastAPI puts those of the bodies it parses.
RAW_BODIES = (models.LookupRequest,)
CHALLENGE_SECONDS = 120


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "request.invalid", f"{what}: not base64") from exc


def _prove(
    state: Platform,
    conn: Connection,
    terminal_id: str,
    purpose: str,
    nonce_b64: str,
    certificate_b64: str,
    signature_b64: str | None,
    now: float,
) -> x509.Certificate:
    """Spend the challenge, then check the proof; inside the caller's transaction."""
    nonce = _b64decode(nonce_b64, "nonce")
    certificate = _b64decode(certificate_b64, "certificate")
    signature = None if signature_b64 is None else _b64decode(signature_b64, "signature")
    spent = conn.execute(
        "UPDATE nonces SET used = 1 WHERE nonce = ? AND terminal_id = ? AND purpose = ?"
        " AND used = 0 AND expires_at > ?",
        (nonce, terminal_id, purpose, now),
    ).rowcount
    if spent != 1:
        raise ApiError(400, "challenge.invalid", "unknown, used or expired challenge")
    try:
        return verify_card(
            certificate,
            signature,
            challenge_digest(nonce, terminal_id, purpose),
            state.trust.load(conn),
            dt.datetime.fromtimestamp(now, dt.UTC),
        )
    except ProofRejected as exc:
        count(conn, now, terminal_id, f"{purpose}_rejected")
        log.info("%s at terminal %s refused: %s", purpose, terminal_id, exc.reason)
        raise ApiError(403, "card.rejected", exc.reason) from exc


@router.post("/v1/challenges", response_model=models.Challenge)
async def challenge(
    body: models.ChallengeRequest, request: Request, credentials: Bearer
) -> models.Challenge:
    """A single-use nonce. Not idempotency-keyed: a repeat simply makes another one."""
    # Like a lookup (below), one hop to the thread pool for the session check and the insert.
    state: Platform = request.app.state.platform
    return await run_in_threadpool(_challenge, body, credentials, state)


def _challenge(
    body: models.ChallengeRequest, credentials: HTTPAuthorizationCredentials | None, state: Platform
) -> models.Challenge:
    nonce = secrets.token_bytes(32)
    conn = state.ephemeral.acquire()
    try:
        now = state.clock()
        term = signed_in(conn, credentials_token(credentials), now)
        with state.write_lock:
            conn.execute("DELETE FROM nonces WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO nonces (nonce, terminal_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
                (nonce, term["terminal_id"], body.purpose, now + CHALLENGE_SECONDS),
            )
    finally:
        state.ephemeral.release(conn)
    return models.Challenge(
        nonce=base64.b64encode(nonce).decode("ascii"), expires_in=CHALLENGE_SECONDS
    )


@router.post(
    "/v1/lookups",
    response_model=models.LookupResult,
    openapi_extra=raw_body_openapi(models.LookupRequest),
)
async def lookup(request: Request) -> Response:
    # Async on purpose (a comment, not a docstring: that would go into the OpenAPI document):
    # the whole lookup (body, session check, SQL, chain, signature) runs on the lookups' own
    # worker thread, in one go with the lookups that arrive meanwhile (server/batch.py), where
    # a sync route takes two trips to the thread pool (the endpoint, then validating its
    # answer) and each dependency with IO one more. The route takes the raw request: FastAPI's
    # body parsing and dependency solving ran on the event loop and cost about as much as the
    # lookup's SQL (bench/platform.py); json_body and bearer_token read the body and the
    # token as FastAPI did, and the OpenAPI document is the same (raw_body_openapi). The work
    # blocks, so it never runs on the event loop. The answer is serialised there too and sent
    # as it is: response_model documents it, and FastAPI does not validate a Response again.
    state: Platform = request.app.state.platform
    headers = request.headers
    raw = await request.body()
    content = await state.lookups.run(
        _lookup, raw, headers.get("content-type"), headers.get("authorization"), state
    )
    return Response(content, media_type="application/json")


def _lookup(
    raw: bytes, content_type: str | None, authorization: str | None, state: Platform
) -> bytes:
    body = json_body(models.LookupRequest, raw, content_type)  # first, as FastAPI did
    conn = state.ephemeral.acquire()  # synchronous=NORMAL, like the challenge it spends
    try:
        term = signed_in(conn, bearer_token(authorization), state.clock())
        return _lookup_on(conn, body, term, state).model_dump_json().encode()
    finally:
        state.ephemeral.release(conn)


def _lookup_on(
    conn: Connection, body: models.LookupRequest, term: Row, state: Platform
) -> models.LookupResult:
    terminal_id: str = term["terminal_id"]
    now = state.clock()
    with state.write_lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            try:
                cert = _prove(state, conn, terminal_id, "lookup", body.nonce, body.certificate,
                              body.signature, now)  # fmt: skip
            except ApiError as exc:
                conn.execute("COMMIT" if exc.error == "card.rejected" else "ROLLBACK")
                raise
            if body.signature is None and term["issuer_id"] is not None:
                pin = conn.execute(
                    "SELECT pin_required FROM issuers WHERE issuer_id = ?", (term["issuer_id"],)
                ).fetchone()
                if pin is not None and pin["pin_required"]:
                    count(conn, now, terminal_id, "lookup_rejected")
                    conn.execute("COMMIT")
                    raise ApiError(
                        403,
                        "card.pin_required",
                        "this library's policy needs the PIN (a signature)",
                    )
            rows = mykey.service_ids_for_certificate(conn, cert, term["issuer_id"])
            count(conn, now, terminal_id, "lookup")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    # debug, not info: one line per lookup would be a per-visit log (terminal and time) beside
    # the day's count, which is the record a lookup leaves; refusals are still logged.
    log.debug("lookup at terminal %s: %d match(es)", terminal_id, len(rows))
    return models.LookupResult(
        matches=[
            models.LookupMatch(
                issuer=issuer_model(r),
                card_number=r["card_number"],
                card_valid=bool(r["card_valid"]),
                address_changed=bool(r["address_notice"] and r["address_changed"]),
            )
            for r in rows
        ]
    )


def _served_issuer(conn: Connection, term: Row, issuer_id: str) -> Row:
    if term["issuer_id"] != issuer_id:
        raise ApiError(403, "issuer.not_served", "this terminal does not serve that ID-issuer")
    row: Row = conn.execute("SELECT * FROM issuers WHERE issuer_id = ?", (issuer_id,)).fetchone()
    return row


def _citizen(conn: Connection, cert: x509.Certificate) -> str:
    citizen = mykey.citizen_for_certificate(conn, cert)
    if citizen is None:
        raise ApiError(
            409, "citizen.unknown", "this card has no MyKey ID yet: create one on My Page first"
        )
    return citizen


@router.post(
    "/v1/service-ids",
    status_code=201,
    response_model=models.ServiceId,
    responses={409: {"model": models.Error, "description": "service_id.* or citizen.unknown"}},
)
def register_service_id(
    body: models.ServiceIdRequest,
    term: Terminal,
    state: State,
    conn: Db,
    idempotency_key: IdempotencyKey,
) -> Any:
    """Staff link a library card to the patron's card (challenge purpose ``register``)."""
    terminal_id: str = term["terminal_id"]
    now = state.clock()
    # Checked before the challenge is spent and before anything is stored under the key, so
    # staff can correct a typo and send the same card proof again.
    issuer = _served_issuer(conn, term, body.issuer_id)
    found = cardrules.problems(body.card_number, cardrules.Rules.of(issuer))
    if found:
        raise ApiError(
            400, "card_number.invalid", "the card number breaks the library's rules",
            problems=[models.Problem(field="card_number", code=c, detail=d) for c, d in found],
        )  # fmt: skip

    def action() -> tuple[int, dict[str, Any]]:
        cert = _prove(state, conn, terminal_id, "register", body.nonce, body.certificate,
                      body.signature, now)  # fmt: skip
        citizen = _citizen(conn, cert)
        mine = conn.execute(
            "SELECT card_number FROM service_ids WHERE mykey_id = ? AND issuer_id = ?",
            (citizen, body.issuer_id),
        ).fetchone()
        if mine is not None and mine["card_number"] == body.card_number:
            raise ApiError(409, "service_id.exists", "this card is already registered so")
        if mine is not None:
            raise ApiError(
                409, "service_id.conflict",
                "this card is registered with another library card number here: delete first",
            )  # fmt: skip
        taken = conn.execute(
            "SELECT 1 FROM service_ids WHERE issuer_id = ? AND card_number = ?",
            (body.issuer_id, body.card_number),
        ).fetchone()
        if taken is not None:
            raise ApiError(
                409, "service_id.taken", "that library card number belongs to another card"
            )
        conn.execute(
            "INSERT INTO service_ids (mykey_id, issuer_id, card_number, address_notice)"
            " VALUES (?, ?, ?, ?)",
            (citizen, body.issuer_id, body.card_number, int(body.address_notice)),
        )
        count(conn, now, terminal_id, "service_id_registered")
        log.info("service ID registered at terminal %s", terminal_id)
        answer = models.ServiceId(
            issuer=issuer_model(issuer),
            card_number=body.card_number,
            address_notice=body.address_notice,
        )
        return 201, answer.model_dump()

    digest = body_hash("service-id", body.model_dump(mode="json"))
    return idempotent(
        conn, terminal_id=terminal_id, key=idempotency_key, digest=digest, now=now,
        action=action, lock=state.write_lock,
    )  # fmt: skip


@router.post("/v1/service-ids/deletions", response_model=models.ServiceIdDeleted)
def delete_service_id(
    body: models.ServiceIdDeletion,
    term: Terminal,
    state: State,
    conn: Db,
    idempotency_key: IdempotencyKey,
) -> Any:
    """Remove the patron's registration at an issuer (challenge purpose ``unregister``)."""
    terminal_id: str = term["terminal_id"]
    now = state.clock()

    def action() -> tuple[int, dict[str, Any]]:
        _served_issuer(conn, term, body.issuer_id)
        cert = _prove(state, conn, terminal_id, "unregister", body.nonce, body.certificate,
                      body.signature, now)  # fmt: skip
        citizen = _citizen(conn, cert)
        gone = conn.execute(
            "DELETE FROM service_ids WHERE mykey_id = ? AND issuer_id = ?",
            (citizen, body.issuer_id),
        ).rowcount
        if not gone:
            raise ApiError(404, "service_id.unknown", "this card is not registered here")
        count(conn, now, terminal_id, "service_id_deleted")
        log.info("service ID deleted at terminal %s", terminal_id)
        return 200, {"issuer_id": body.issuer_id, "deleted": True}

    digest = body_hash("service-id-deletion", body.model_dump(mode="json"))
    return idempotent(
        conn, terminal_id=terminal_id, key=idempotency_key, digest=digest, now=now,
        action=action, lock=state.write_lock,
    )  # fmt: skip

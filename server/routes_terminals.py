"""Routes about the terminal itself: health, registration (form 10), sign-in, issuers, events.

Sign-in and registration both check the ministry's password; both go through the failed
sign-in limiter (:mod:`server.ratelimit`) *before* the hash is computed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server import enrolment, models
from server.api import (
    ApiError,
    Db,
    IdempotencyKey,
    Platform,
    State,
    Terminal,
    body_hash,
    idempotent,
    issuer_model,
)
from server.db import DUMMY_HASH, verify_password
from server.dbapi import Connection, Row

log = logging.getLogger(__name__)
router = APIRouter()
SESSION_SECONDS = 3600


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _check_password(
    state: Platform, conn: Connection, terminal_id: str, password: str, address: str
) -> Row:
    """The terminal's row if ID and password hold; 429 while throttled, 401 otherwise."""
    wait = state.limiter.retry_after(terminal_id, address)
    if wait:
        log.warning("sign-in for terminal %s throttled", terminal_id)
        raise ApiError(
            429,
            "signin.throttled",
            f"too many failed sign-ins: wait {wait} s",
            headers={"Retry-After": str(wait)},
        )
    row = conn.execute(
        "SELECT * FROM terminals WHERE terminal_id = ? AND deleted_at IS NULL", (terminal_id,)
    ).fetchone()
    ok = verify_password(password, row["password_hash"] if row else DUMMY_HASH)
    if row is None or not ok:
        state.limiter.failed(terminal_id, address)
        log.info("sign-in refused for terminal %s", terminal_id)
        raise ApiError(401, "terminal.credentials", "unknown terminal ID or wrong password")
    state.limiter.succeeded(terminal_id)
    return row  # type: ignore[no-any-return]


@router.get("/v1/health", response_model=models.Health)
def health(conn: Db) -> models.Health:
    conn.execute("SELECT 1").fetchone()
    return models.Health(status="ok")


@router.post(
    "/v1/terminal-registrations",
    response_model=models.RegistrationAccepted,
    responses={400: {"model": models.Error, "description": "registration.invalid: `problems`"}},
)
def register_terminal(
    body: models.TerminalRegistration,
    request: Request,
    state: State,
    conn: Db,
    idempotency_key: IdempotencyKey,
) -> Any:
    """Form 10: bind this board to the terminal ID and leave contact details to confirm."""
    credentials = enrolment.credential_problems(body)
    problems = credentials + enrolment.contact_problems(body)
    if credentials:  # no terminal to check the rest against: report what can be judged
        raise ApiError(400, "registration.invalid", "see problems", problems=problems)
    row = _check_password(state, conn, body.terminal_id, body.password, _address(request))
    problems += enrolment.issuer_problems(conn, row, body)
    if problems:
        raise ApiError(400, "registration.invalid", "see problems", problems=problems)
    now = state.clock()

    def action() -> tuple[int, dict[str, Any]]:
        fresh = conn.execute(
            "SELECT * FROM terminals WHERE terminal_id = ?", (body.terminal_id,)
        ).fetchone()
        status = enrolment.register(conn, fresh, body, now)
        log.info("terminal %s %s", body.terminal_id, status)
        answer = models.RegistrationAccepted(
            terminal_id=body.terminal_id, status=status, contact_confirmed=False
        )
        return 200, answer.model_dump()

    digest = body_hash("terminal-registration", body.model_dump(mode="json"))
    return idempotent(
        conn, terminal_id=body.terminal_id, key=idempotency_key, digest=digest, now=now,
        action=action, lock=state.write_lock,
    )  # fmt: skip


@router.post(
    "/v1/sessions",
    response_model=models.Session,
    responses={429: {"model": models.Error, "description": "signin.throttled; see Retry-After"}},
)
def sign_in(
    body: models.SessionRequest, request: Request, state: State, conn: Db
) -> models.Session:
    """A short-lived token. Not idempotency-keyed: storing the answer would store a token."""
    row = _check_password(state, conn, body.terminal_id, body.password, _address(request))
    fingerprint = body.fingerprint.lower()
    bound = row["fingerprint"]
    if bound is None:
        if not state.settings.open_enrolment:
            raise ApiError(
                403,
                "terminal.unregistered",
                "register this terminal first (POST /v1/terminal-registrations)",
            )
        conn.execute(
            "UPDATE terminals SET fingerprint = ? WHERE terminal_id = ? AND fingerprint IS NULL",
            (fingerprint, body.terminal_id),
        )
        bound = conn.execute(
            "SELECT fingerprint FROM terminals WHERE terminal_id = ?", (body.terminal_id,)
        ).fetchone()["fingerprint"]
        log.info("terminal %s bound to its board at first sign-in", body.terminal_id)
    if bound != fingerprint:
        log.warning("terminal %s signed in from another board", body.terminal_id)
        raise ApiError(
            409,
            "terminal.fingerprint",
            "this terminal ID is bound to another board: re-registration needed",
        )
    token = secrets.token_urlsafe(32)
    now = state.clock()
    with state.write_lock:
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
        conn.execute(
            "INSERT INTO sessions (token_hash, terminal_id, expires_at) VALUES (?, ?, ?)",
            (hashlib.sha256(token.encode()).hexdigest(), body.terminal_id, now + SESSION_SECONDS),
        )
    return models.Session(token=token, expires_in=SESSION_SECONDS)


@router.get("/v1/issuers", response_model=models.IssuerList)
def issuers(term: Terminal, conn: Db) -> models.IssuerList:
    rows = conn.execute(
        "SELECT * FROM issuers WHERE issuer_id = ?", (term["issuer_id"],)
    ).fetchall()
    return models.IssuerList(issuers=[issuer_model(r) for r in rows])


@router.post(
    "/v1/events",
    status_code=201,
    response_model=models.EventAccepted,
    responses={200: {"model": models.EventAccepted, "description": "A replay, as first sent"}},
)
def event(
    body: models.EventRequest,
    term: Terminal,
    state: State,
    conn: Db,
    idempotency_key: IdempotencyKey,
) -> JSONResponse:
    terminal_id = term["terminal_id"]
    now = state.clock()

    def action() -> tuple[int, dict[str, Any]]:
        conn.execute(
            "INSERT INTO events (terminal_id, kind, fields, received_at) VALUES (?, ?, ?, ?)",
            (terminal_id, body.kind, json.dumps(body.fields, sort_keys=True), now),
        )
        return 201, {"accepted": True}

    return idempotent(
        conn, terminal_id=terminal_id, key=idempotency_key,
        digest=body_hash("event", body.model_dump(mode="json")), now=now, action=action,
        lock=state.write_lock,
    )  # fmt: skip

"""The ``/v1`` routes of the reference MyKey Platform.

Terminal-authenticated throughout: a terminal signs in with its ministry-issued ID and password
plus its board fingerprint (bound at the first login; a replaced board must register again) and
then sends ``Authorization: Bearer <token>``. Errors are ``{"error": code, "detail": text}``;
malformed requests are 400 ``request.invalid`` with every problem at once.

Privacy, enforced here: a lookup answers with library card numbers only, never the MyKey ID; it
leaves one increment in ``daily_counts`` and no row naming the card; the log gets the terminal ID
and a count, never a card number, certificate or serial.
"""

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import models
from server.db import DUMMY_HASH, connect, migrate, verify_password
from server.verify import ProofRejected, challenge_digest, load_cas, serial_hex, verify_card

log = logging.getLogger(__name__)

SESSION_SECONDS = 3600
CHALLENGE_SECONDS = 120
JST = dt.timezone(dt.timedelta(hours=9), "JST")  # daily counts follow the Japanese day

_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": models.Error, "description": "Refused; `error` says why"}
}


class ApiError(Exception):
    """An answer other than success: HTTP status, stable code, a sentence."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status, self.error, self.detail = status, error, detail


def _error(
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def _b64decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, "request.invalid", f"{what}: not base64") from exc


def _issuer(row: sqlite3.Row) -> models.Issuer:
    return models.Issuer(
        issuer_id=row["issuer_id"],
        name=row["name"],
        symbology=row["symbology"],
        codabar_start=row["codabar_start"],
        codabar_stop=row["codabar_stop"],
        check=row["check_scheme"],
        lengths=[int(n) for n in row["lengths"].split(",") if n],
        handover=row["handover"],
        pin_required=bool(row["pin_required"]),
    )


def _count(conn: sqlite3.Connection, now: float, terminal_id: str, kind: str) -> None:
    day = dt.datetime.fromtimestamp(now, JST).date().isoformat()
    conn.execute(
        "INSERT INTO daily_counts (day, terminal_id, kind, count) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (day, terminal_id, kind) DO UPDATE SET count = count + 1",
        (day, terminal_id, kind),
    )


def create_app(
    db_path: str, *, clock: Callable[[], float] = time.time, offline_window_s: int | None = None
) -> FastAPI:
    """The platform on ``db_path`` (migrated now). ``clock`` gives Unix time; tests may fake it.

    ``offline_window_s``: how long after signing a bookmobile assertion is accepted
    (``server/offline.py``; ``None`` = its default).
    """
    migrate(db_path)
    app = FastAPI(
        title="MyKey Platform (reference)",
        version="1",
        description=__doc__,
        responses=_ERRORS,
    )
    bearer = HTTPBearer(auto_error=False, description="The token from POST /v1/sessions")

    def db() -> Iterator[sqlite3.Connection]:
        conn = connect(db_path)
        try:
            yield conn
        finally:
            conn.close()

    Db = Annotated[sqlite3.Connection, Depends(db)]

    def terminal(
        conn: Db,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> sqlite3.Row:
        if credentials is not None:
            token_hash = hashlib.sha256(credentials.credentials.encode()).hexdigest()
            row = conn.execute(
                "SELECT t.* FROM sessions s JOIN terminals t USING (terminal_id)"
                " WHERE s.token_hash = ? AND s.expires_at > ?",
                (token_hash, clock()),
            ).fetchone()
            if row is not None:
                return row  # type: ignore[no-any-return]
        raise ApiError(401, "session.invalid", "sign in again with POST /v1/sessions")

    Terminal = Annotated[sqlite3.Row, Depends(terminal)]

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _error(exc.status, exc.error, exc.detail, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            ".".join(str(part) for part in e.get("loc", ())) + ": " + str(e.get("msg", ""))
            for e in exc.errors()
        ]
        if any(tuple(e.get("loc", ()))[:2] == ("header", "Idempotency-Key") for e in exc.errors()):
            return _error(400, "idempotency.missing", "; ".join(problems))
        return _error(400, "request.invalid", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, f"http.{exc.status_code}", str(exc.detail), exc.headers)

    @app.exception_handler(Exception)
    async def server_error(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__name__)
        return _error(500, "server.error", "internal error")

    @app.get("/v1/health", response_model=models.Health)
    def health(conn: Db) -> models.Health:
        conn.execute("SELECT 1").fetchone()
        return models.Health(status="ok")

    @app.post("/v1/sessions", response_model=models.Session)
    def sign_in(body: models.SessionRequest, conn: Db) -> models.Session:
        row = conn.execute(
            "SELECT password_hash, fingerprint FROM terminals WHERE terminal_id = ?",
            (body.terminal_id,),
        ).fetchone()
        password_ok = verify_password(body.password, row["password_hash"] if row else DUMMY_HASH)
        if row is None or not password_ok:
            log.info("sign-in refused for terminal %s", body.terminal_id)
            raise ApiError(401, "terminal.credentials", "unknown terminal ID or wrong password")
        fingerprint = body.fingerprint.lower()
        if row["fingerprint"] is None:
            conn.execute(
                "UPDATE terminals SET fingerprint = ?"
                " WHERE terminal_id = ? AND fingerprint IS NULL",
                (fingerprint, body.terminal_id),
            )
            bound = conn.execute(
                "SELECT fingerprint FROM terminals WHERE terminal_id = ?", (body.terminal_id,)
            ).fetchone()["fingerprint"]
            log.info("terminal %s bound to its board", body.terminal_id)
        else:
            bound = row["fingerprint"]
        if bound != fingerprint:
            log.warning("terminal %s signed in from another board", body.terminal_id)
            raise ApiError(
                409,
                "terminal.fingerprint",
                "this terminal ID is bound to another board: register again",
            )
        token = secrets.token_urlsafe(32)
        now = clock()
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
        conn.execute(
            "INSERT INTO sessions (token_hash, terminal_id, expires_at) VALUES (?, ?, ?)",
            (hashlib.sha256(token.encode()).hexdigest(), body.terminal_id, now + SESSION_SECONDS),
        )
        return models.Session(token=token, expires_in=SESSION_SECONDS)

    @app.get("/v1/issuers", response_model=models.IssuerList)
    def issuers(term: Terminal, conn: Db) -> models.IssuerList:
        rows = conn.execute(
            "SELECT * FROM issuers WHERE issuer_id = ?", (term["issuer_id"],)
        ).fetchall()
        return models.IssuerList(issuers=[_issuer(r) for r in rows])

    @app.post("/v1/challenges", response_model=models.Challenge)
    def challenge(body: models.ChallengeRequest, term: Terminal, conn: Db) -> models.Challenge:
        nonce = secrets.token_bytes(32)
        now = clock()
        conn.execute("DELETE FROM nonces WHERE expires_at <= ?", (now,))
        conn.execute(
            "INSERT INTO nonces (nonce, terminal_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
            (nonce, term["terminal_id"], body.purpose, now + CHALLENGE_SECONDS),
        )
        return models.Challenge(
            nonce=base64.b64encode(nonce).decode("ascii"), expires_in=CHALLENGE_SECONDS
        )

    @app.post("/v1/lookups", response_model=models.LookupResult)
    def lookup(body: models.LookupRequest, term: Terminal, conn: Db) -> models.LookupResult:
        nonce = _b64decode(body.nonce, "nonce")
        certificate = _b64decode(body.certificate, "certificate")
        signature = _b64decode(body.signature, "signature")
        terminal_id: str = term["terminal_id"]
        now = clock()
        # Spend the nonce first, atomically: it is gone whether or not the proof holds.
        spent = conn.execute(
            "UPDATE nonces SET used = 1 WHERE nonce = ? AND terminal_id = ? AND purpose = 'lookup'"
            " AND used = 0 AND expires_at > ?",
            (nonce, terminal_id, now),
        ).rowcount
        if spent != 1:
            raise ApiError(400, "challenge.invalid", "unknown, used or expired challenge")
        cas = load_cas(
            row["pem"].encode() for row in conn.execute("SELECT pem FROM ca_certificates")
        )
        digest = challenge_digest(nonce, terminal_id, "lookup")
        try:
            cert = verify_card(
                certificate, signature, digest, cas, dt.datetime.fromtimestamp(now, dt.UTC)
            )
        except ProofRejected as exc:
            _count(conn, now, terminal_id, "lookup_rejected")
            log.info("lookup at terminal %s refused: %s", terminal_id, exc.reason)
            raise ApiError(403, "card.rejected", exc.reason) from exc
        rows = conn.execute(
            "SELECT i.*, s.card_number, s.card_valid, s.address_notice, s.address_changed"
            " FROM citizens c JOIN service_ids s USING (mykey_id) JOIN issuers i USING (issuer_id)"
            " WHERE c.cert_issuer = ? AND c.cert_serial = ? AND s.issuer_id = ?",
            (cert.issuer.rfc4514_string(), serial_hex(cert.serial_number), term["issuer_id"]),
        ).fetchall()
        _count(conn, now, terminal_id, "lookup")
        log.info("lookup at terminal %s: %d match(es)", terminal_id, len(rows))
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

    @app.post(
        "/v1/events",
        status_code=201,
        response_model=models.EventAccepted,
        responses={200: {"model": models.EventAccepted, "description": "A replay, as first sent"}},
    )
    def event(
        body: models.EventRequest,
        term: Terminal,
        conn: Db,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", pattern=r"^[A-Za-z0-9_-]{8,64}$")
        ],
    ) -> Any:
        canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        body_hash = hashlib.sha256(canonical.encode()).hexdigest()
        terminal_id = term["terminal_id"]
        now = clock()
        conn.execute("BEGIN IMMEDIATE")
        try:
            stored = conn.execute(
                "SELECT body_hash, status, response FROM idempotency"
                " WHERE terminal_id = ? AND key = ?",
                (terminal_id, idempotency_key),
            ).fetchone()
            if stored is None:
                answer = {"accepted": True}
                conn.execute(
                    "INSERT INTO events (terminal_id, kind, fields, received_at)"
                    " VALUES (?, ?, ?, ?)",
                    (terminal_id, body.kind, json.dumps(body.fields, sort_keys=True), now),
                )
                conn.execute(
                    "INSERT INTO idempotency (terminal_id, key, body_hash, status, response,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (terminal_id, idempotency_key, body_hash, 201, json.dumps(answer), now),
                )
                status, content = 201, answer
            elif stored["body_hash"] != body_hash:
                raise ApiError(
                    409, "idempotency.conflict", "this Idempotency-Key was used with another body"
                )
            else:
                status, content = stored["status"], json.loads(stored["response"])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return JSONResponse(content, status_code=status)

    from server.offline import WINDOW_SECONDS, offline_router

    window = WINDOW_SECONDS if offline_window_s is None else offline_window_s
    app.include_router(offline_router(db=db, terminal=terminal, clock=clock, window_s=window))
    return app

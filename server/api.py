"""What every ``/v1`` route shares: errors, settings, the per-request connection, the session
check, idempotent writes and the daily counters.

The routes live in :mod:`server.routes_terminals` and :mod:`server.routes_cards`; they reach the
running platform's state through ``request.app.state.platform`` (a :class:`Platform`), so the
modules need no closure over :func:`server.app.create_app`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import anyio
import pydantic
from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from server import models
from server.batch import Batcher
from server.db import Pool
from server.dbapi import Connection, Row
from server.ratelimit import SignInLimiter
from server.verify import TrustStore

JST = dt.timezone(dt.timedelta(hours=9), "JST")  # daily counts follow the Japanese day
# A stored answer is replayed for 30 days, then forgotten: longer than any terminal keeps
# retrying one write (a bookmobile offline for a fortnight still gets exactly-once events).
IDEMPOTENCY_SECONDS = 30 * 24 * 3600


class ApiError(Exception):
    """An answer other than success: HTTP status, stable code, a sentence, maybe problems."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        problems: list[models.Problem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status, self.error, self.detail = status, error, detail
        self.problems = problems or []
        self.headers = headers

    def content(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "detail": self.detail}
        if self.problems:
            body["problems"] = [p.model_dump() for p in self.problems]
        return body


@dataclass(frozen=True)
class Settings:
    """Operator choices for one platform.

    ``open_enrolment`` lets an unregistered terminal bind its board at its first sign-in (the
    demo and the kiosk's tests); otherwise a terminal must register (form 10) first.
    """

    open_enrolment: bool = False
    max_failures_per_terminal: int = 5
    max_failures_per_address: int = 30
    failure_window: float = 900.0  # seconds
    offline_window_s: int | None = None  # bookmobile assertions' age limit; None = the default


@dataclass
class Platform:
    db_path: str
    clock: Callable[[], float]
    settings: Settings
    limiter: SignInLimiter
    pool: Pool
    ephemeral: Pool  # synchronous=NORMAL: challenges and lookups (see server.db)
    trust: TrustStore = field(default_factory=TrustStore)
    # Lookups' worker thread; those that arrive together go in one go (server/batch.py).
    lookups: Batcher[bytes] = field(default_factory=lambda: Batcher("lookups"))
    # One writer at a time inside this process: SQLite allows one anyway, and a thread that
    # waits here wakes the moment the lock is free, where SQLite's busy handler sleeps in
    # steps of up to 100 ms (that was the bench's p99). Other processes still meet the busy
    # handler.
    write_lock: threading.Lock = field(default_factory=threading.Lock)


async def platform(request: Request) -> Platform:
    """(async: no IO, and it spares every request a hop to the thread pool)"""
    state: Platform = request.app.state.platform
    return state


State = Annotated[Platform, Depends(platform)]


@asynccontextmanager
async def _pooled(pool: Pool) -> AsyncIterator[Connection]:
    """A pooled connection for one request, with no database IO on the event loop: an idle
    connection is taken and given back without any (the common case); opening a new one, or
    rolling back and closing one, is blocking IO on PostgreSQL (a socket round trip) and on
    SQLite (the file), so it goes to the thread pool."""
    conn = pool.acquire_idle()
    if conn is None:
        conn = await run_in_threadpool(pool.acquire)
    try:
        yield conn
    finally:
        if not pool.release_idle(conn):
            with anyio.CancelScope(shield=True):  # a cancelled request still gives it back
                await run_in_threadpool(pool.release, conn)


async def db(state: State) -> AsyncIterator[Connection]:
    """A pooled, durable connection for this request."""
    async with _pooled(state.pool) as conn:
        yield conn


Db = Annotated[Connection, Depends(db)]


async def ephemeral_db(state: State) -> AsyncIterator[Connection]:
    """A pooled connection whose commits skip the fsync: for short-lived bookkeeping only."""
    async with _pooled(state.ephemeral) as conn:
        yield conn


EphemeralDb = Annotated[Connection, Depends(ephemeral_db)]
bearer = HTTPBearer(auto_error=False, description="The token from POST /v1/sessions")
# The bearer credentials as sent (or None): parsing the header is no IO. Routes that check the
# session inside their own thread-pool hop (challenges) take this and call :func:`signed_in`;
# the others take :data:`Terminal`.
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
M = TypeVar("M", bound=pydantic.BaseModel)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization`` header, or None, read exactly as :data:`bearer` reads
    it (for a route that takes the raw request, see :func:`json_body`)."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and token) or scheme.lower() != "bearer":
        return None
    return token


def credentials_token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The token the :data:`Bearer` dependency found, for :func:`signed_in`."""
    return None if credentials is None else credentials.credentials


def json_body(model: type[M], raw: bytes, content_type: str | None) -> M:
    """``raw`` validated as FastAPI validates a ``model`` body, and refused as it refuses one
    (:class:`RequestValidationError`, locations under ``body``, so the same 400 answer).

    For the lookup route (server/routes_cards.py), which reads the body itself so that the
    parsing happens in its worker thread, straight from the bytes (pydantic's JSON parser, no
    ``json.loads`` then a second walk), and skips FastAPI's dependency machinery on the event
    loop. Like FastAPI (``strict_content_type``), only a JSON media type is parsed.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",),
              "msg": "Input should be a JSON object (Content-Type: application/json)"}]
        )  # fmt: skip
    try:
        return model.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


def raw_body_openapi(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads ``model`` with :func:`json_body` and signs in
    with :func:`bearer_token`: the operation reads as if FastAPI had parsed both (the
    component itself is added by :func:`server.app.create_app`)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"content": {"application/json": {"schema": schema}}, "required": True},
        "security": [{"HTTPBearer": []}],
    }


def signed_in(conn: Connection, token: str | None, now: float) -> Row:
    """The terminal whose unexpired session ``token`` is, or ApiError 401. A primary-key read:
    blocking IO, so never on the event loop. Not cached in memory: sessions end in other
    processes too (``mykey-platform import-terminals`` retires a terminal and deletes its
    sessions), which only the database knows."""
    if token is not None:
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        row = conn.execute(
            "SELECT t.* FROM sessions s JOIN terminals t USING (terminal_id)"
            " WHERE s.token_hash = ? AND s.expires_at > ? AND t.deleted_at IS NULL",
            (token_hash, now),
        ).fetchone()
        if row is not None:
            return row  # type: ignore[no-any-return]
    raise ApiError(401, "session.invalid", "sign in again with POST /v1/sessions")


def terminal(state: State, credentials: Bearer) -> Row:
    """The signed-in terminal. A plain ``def`` on purpose: FastAPI runs it in the thread pool,
    so its read never blocks the event loop (on PostgreSQL it is a socket round trip). The
    connection is taken and given back here, not through the ``Db`` dependency: a generator
    dependency costs every authenticated request an exit-stack frame (bench).
    """
    conn = state.pool.acquire()
    try:
        return signed_in(conn, credentials_token(credentials), state.clock())
    finally:
        state.pool.release(conn)


Terminal = Annotated[Row, Depends(terminal)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="Chosen by the caller per write; a repeat with the same body replays",
    ),
]


def issuer_model(row: Row) -> models.Issuer:
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
        alphabet=row["alphabet"],
        number_display=row["number_display"],
    )


def count(conn: Connection, now: float, terminal_id: str, kind: str) -> None:
    """One more ``kind`` for this terminal today: the only trace a lookup leaves."""
    day = dt.datetime.fromtimestamp(now, JST).date().isoformat()
    conn.execute(
        "INSERT INTO daily_counts (day, terminal_id, kind, count) VALUES (?, ?, ?, 1)"
        " ON CONFLICT (day, terminal_id, kind) DO UPDATE SET count = daily_counts.count + 1",
        (day, terminal_id, kind),
    )


def body_hash(operation: str, body: Any) -> str:
    """What "the same body" means: the operation and its canonical JSON.

    Events keep the digest of the first release (the body alone), so keys stored before an
    upgrade still replay instead of turning into conflicts.
    """
    value = body if operation == "event" else {"op": operation, "body": body}
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    conn: Connection,
    *,
    terminal_id: str,
    key: str,
    digest: str,
    now: float,
    action: Callable[[], tuple[int, dict[str, Any]]],
    lock: threading.Lock,
) -> JSONResponse:
    """Run ``action`` once per (terminal, key) in one transaction and store its answer.

    The same key with the same body (``digest``, which names the operation too) replays the
    stored answer, errors included, so a retried request can never act twice; the same key with
    another body is refused. ``action`` may raise :class:`ApiError`: that answer is stored like
    a success, and whatever the action wrote before (a spent challenge) is kept.
    """
    with lock:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "DELETE FROM idempotency WHERE created_at < ?", (now - IDEMPOTENCY_SECONDS,)
            )
            stored = conn.execute(
                "SELECT body_hash, status, response FROM idempotency"
                " WHERE terminal_id = ? AND key = ?",
                (terminal_id, key),
            ).fetchone()
            if stored is None:
                try:
                    status, content = action()
                except ApiError as exc:
                    status, content = exc.status, exc.content()
                conn.execute(
                    "INSERT INTO idempotency (terminal_id, key, body_hash, status, response,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        terminal_id,
                        key,
                        digest,
                        status,
                        json.dumps(content, ensure_ascii=False),
                        now,
                    ),
                )
            elif stored["body_hash"] != digest:
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

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
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server import models
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


async def db(state: State) -> AsyncIterator[Connection]:
    """A pooled connection for this request (taking one from the pool does not block)."""
    conn = state.pool.acquire()
    try:
        yield conn
    finally:
        state.pool.release(conn)


Db = Annotated[Connection, Depends(db)]


async def ephemeral_db(state: State) -> AsyncIterator[Connection]:
    """A pooled connection whose commits skip the fsync: for short-lived bookkeeping only."""
    conn = state.ephemeral.acquire()
    try:
        yield conn
    finally:
        state.ephemeral.release(conn)


EphemeralDb = Annotated[Connection, Depends(ephemeral_db)]
bearer = HTTPBearer(auto_error=False, description="The token from POST /v1/sessions")


async def terminal(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Row:
    """The signed-in terminal. Async on purpose: one primary-key read on a pooled connection
    (tens of microseconds) costs less than the hop to the thread pool it would otherwise take.
    The connection is taken and given back here, not through the ``Db`` dependency: a
    generator dependency costs every authenticated request an exit-stack frame (bench).
    """
    if credentials is not None:
        token_hash = hashlib.sha256(credentials.credentials.encode()).hexdigest()
        conn = state.pool.acquire()
        try:
            row = conn.execute(
                "SELECT t.* FROM sessions s JOIN terminals t USING (terminal_id)"
                " WHERE s.token_hash = ? AND s.expires_at > ? AND t.deleted_at IS NULL",
                (token_hash, state.clock()),
            ).fetchone()
        finally:
            state.pool.release(conn)
        if row is not None:
            return row  # type: ignore[no-any-return]
    raise ApiError(401, "session.invalid", "sign in again with POST /v1/sessions")


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

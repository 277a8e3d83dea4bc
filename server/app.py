"""The ``/v1`` API of the reference MyKey Platform, assembled.

Terminal-authenticated throughout: a terminal registers once with its ministry-issued ID and
password, its board fingerprint and its contact details (form 10), then signs in with ID,
password and fingerprint and sends ``Authorization: Bearer <token>``. Errors are ``{"error":
code, "detail": text}`` (plus ``problems`` for forms); malformed requests are 400
``request.invalid`` with every problem at once. Writes that change lasting state carry an
``Idempotency-Key``.

Privacy, enforced here: a lookup answers with library card numbers only, never the MyKey ID; it
leaves one increment in ``daily_counts`` and no row naming the card; the log gets the terminal ID
and a count, never a card number, certificate or serial.

The routes: :mod:`server.routes_terminals` (health, registration, sessions, issuers, events)
and :mod:`server.routes_cards` (challenges, lookups, service IDs); shared pieces in
:mod:`server.api`; bookmobile assertions in :mod:`server.offline`.
"""

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import models, routes_cards, routes_terminals
from server.api import ApiError, Platform, Settings
from server.db import EPHEMERAL, Pool, connect, migrate
from server.offline import WINDOW_SECONDS, offline_router
from server.ratelimit import SignInLimiter

log = logging.getLogger(__name__)

_ERRORS: dict[int | str, dict[str, object]] = {
    "4XX": {"model": models.Error, "description": "Refused; `error` says why"}
}


def _error(
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def create_app(
    db_path: str, *, clock: Callable[[], float] = time.time, settings: Settings | None = None
) -> FastAPI:
    """The platform on ``db_path`` (migrated now). ``clock`` gives Unix time; tests may fake it."""
    migrate(db_path)
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.platform.lookups.close()  # its worker thread (server/batch.py)

    app = FastAPI(
        title="MyKey Platform (reference)",
        version="1",
        description=__doc__,
        responses=_ERRORS,
        lifespan=lifespan,
    )
    app.state.platform = Platform(
        db_path=db_path,
        clock=clock,
        settings=settings,
        pool=Pool(db_path),
        ephemeral=Pool(db_path, synchronous=EPHEMERAL),
        limiter=SignInLimiter(
            max_per_terminal=settings.max_failures_per_terminal,
            max_per_address=settings.max_failures_per_address,
            window=settings.failure_window,
            clock=clock,
        ),
    )
    _warn_about_trust(db_path)
    app.include_router(routes_terminals.router)
    app.include_router(routes_cards.router)
    window = settings.offline_window_s
    app.include_router(
        offline_router(clock=clock, window_s=WINDOW_SECONDS if window is None else window)
    )

    _document_raw_bodies(app, routes_cards.RAW_BODIES)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(exc.content(), status_code=exc.status, headers=headers or None)

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

    return app


def _document_raw_bodies(app: FastAPI, bodies: tuple[type[BaseModel], ...]) -> None:
    """Put the schemas of the bodies that routes read themselves (``server.api.json_body``)
    into the OpenAPI document's components, where FastAPI puts those it parses. FastAPI makes
    them itself, for a probe app whose routes take those bodies, so the document is the same
    as if the real routes took them (tests/server/test_openapi.py)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate()["components"]["schemas"]
            schemas.update(_probe_schemas(bodies))
            app.openapi_schema["components"]["schemas"] = dict(sorted(schemas.items()))  # type: ignore[index]
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _probe_schemas(bodies: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    probe = FastAPI()
    for model in bodies:

        def take(body: model) -> None:  # type: ignore[valid-type]
            """(only for its schema)"""

        probe.post(f"/{model.__name__}")(take)
    schemas: dict[str, Any] = probe.openapi()["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422, not ours
        schemas.pop(name, None)
    return schemas


def _warn_about_trust(db_path: str) -> None:
    conn = connect(db_path)
    try:
        bare = conn.execute(
            "SELECT subject FROM ca_certificates WHERE subject NOT IN (SELECT ca_subject FROM crls)"
        ).fetchall()
    finally:
        conn.close()
    for row in bare:
        log.warning("no revocation list for CA %s: its cards are checked by chain only", row[0])

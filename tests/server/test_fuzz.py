"""10,000 malformed requests in-process and 300 more over a real socket: only 4xx, always in the
error shape, and the server still healthy afterwards (see tests/server/fuzzing.py)."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from starlette.types import ASGIApp

from server.api import Settings
from server.app import create_app
from server.demo import DEMO_TERMINAL, load_demo_data
from tests.server.fuzzing import Case, Fuzzer
from tests.support.platform import fake_fingerprint, running_platform

IN_PROCESS, OVER_SOCKET = 10_000, 300


def _check(case: Case, status: int, content: bytes, seen: Counter[str]) -> None:
    where = f"case {case.number} ({case.mutation}) {case.method} {case.path[:60]}"
    assert 400 <= status < 500, f"{where}: HTTP {status}"
    body = json.loads(content)
    assert isinstance(body.get("error"), str) and isinstance(body.get("detail"), str), where
    seen[f"{status} {body['error']}"] += 1


async def _asgi(app: ASGIApp, case: Case) -> tuple[int, bytes]:
    """One request straight into the ASGI app: a fifth of httpx.ASGITransport's overhead, which
    is what lets 10,000 cases fit the suite's budget. The HTTP server in front is exercised by
    the socket test below."""
    path, _, query = case.path.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": case.method, "scheme": "http", "path": unquote(path),
        "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": [(k.lower().encode(), v if isinstance(v, bytes) else v.encode())
                    for k, v in case.headers.items()],
        "client": ("127.0.0.1", 40000), "server": ("platform", 80),
    }  # fmt: skip
    delivered = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()  # no disconnect while the app answers
        delivered = True
        return {"type": "http.request", "body": case.content or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)  # type: ignore[arg-type]
    return status, b"".join(chunks)


def _sign_in(client: httpx.Client) -> str:
    r = client.post(
        "/v1/sessions",
        json={**DEMO_TERMINAL._asdict(), "fingerprint": fake_fingerprint("fuzz")},
    )
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_ten_thousand_malformed_requests_in_process_get_only_4xx(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """On both databases: what differs is the database's own errors (PostgreSQL's translated
    in server/pg.py), for the cases that get as far as SQL."""
    db = str(tmp_path / "fuzz.sqlite")
    if database == "postgresql":
        db = request.getfixturevalue("postgres").new_database("fuzz")
    _fuzz(db)


def _fuzz(db: str) -> None:
    load_demo_data(db)
    # Few failed sign-ins before the limiter answers 429: the bulk then costs no scrypt time.
    app = create_app(
        db,
        settings=Settings(open_enrolment=True, max_failures_per_terminal=2,
                          max_failures_per_address=4),
    )  # fmt: skip
    seen: Counter[str] = Counter()

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as client:
            r = await client.post(
                "/v1/sessions",
                json={**DEMO_TERMINAL._asdict(), "fingerprint": fake_fingerprint("fuzz")},
            )
            fuzzer = Fuzzer(app.openapi(), r.json()["token"], random.Random(20261201))
            for number in range(IN_PROCESS):
                case = fuzzer.case(number)
                _check(case, *await _asgi(app, case), seen)
            assert (await client.get("/v1/health")).status_code == 200

    try:
        asyncio.run(run())
    finally:  # no lifespan here (no uvicorn): give the pools' connections back by hand
        app.state.platform.pool.close()
        app.state.platform.ephemeral.close()
    assert sum(seen.values()) == IN_PROCESS
    # The mutations reached every layer: routing, auth, idempotency keys, body validation,
    # credentials and the throttle.
    for expected in (
        "404 http.404", "405 http.405", "401 session.invalid", "400 idempotency.missing",
        "400 request.invalid", "429 signin.throttled",
    ):  # fmt: skip
        assert seen[expected] > 0, (expected, seen)


def test_malformed_requests_over_a_real_socket_leave_the_server_healthy(tmp_path: Path) -> None:
    extra = ["--max-failures-per-address", "4"]
    with (
        running_platform(tmp_path, extra=extra) as server,
        httpx.Client(base_url=server.base_url, timeout=10.0) as client,
    ):
        fuzzer = Fuzzer(client.get("/openapi.json").json(), _sign_in(client), random.Random(7))
        seen: Counter[str] = Counter()
        for number in range(OVER_SOCKET):
            case = fuzzer.case(number)
            response = client.request(
                case.method, case.path, headers=case.headers, content=case.content
            )
            _check(case, response.status_code, response.content, seen)
        assert client.get("/v1/health").status_code == 200
        assert "Traceback" not in server.log_text()
        assert "unhandled" not in server.log_text()

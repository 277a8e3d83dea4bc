"""No database IO on the event loop, on either database.

A blocking call on the loop stalls every other request meanwhile; on PostgreSQL each statement
is a socket round trip. The platform runs here in uvicorn on a real socket, in this process, so
that every connection its pools open can be watched: a statement (or a close) made while an
asyncio loop runs in the calling thread is one made on the event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from server import db as server_db
from server.api import Settings
from server.app import create_app
from server.dbapi import Connection
from server.demo import DEMO_TERMINAL, load_demo_data
from tests.server.helpers import card, new_nonce, proof, sign_in
from tests.support.platform import fake_fingerprint
from ui.child import free_port


class Watched:
    """A connection that notes each statement run on an event loop's thread."""

    def __init__(self, inner: Connection, on_loop: list[str], off_loop: list[str]) -> None:
        self._inner, self._on_loop, self._off_loop = inner, on_loop, off_loop

    def _note(self, what: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._off_loop.append(what)
        else:
            self._on_loop.append(what)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        self._note(sql)
        return self._inner.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        self._note(sql)
        return self._inner.executemany(sql, parameters)

    def close(self) -> None:
        self._note("close")
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("postgres").new_database("loopio")
        return url
    return str(tmp_path / "platform.sqlite")


@pytest.fixture
def watched(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, list[str], list[str]]]:
    """(base URL, statements on the loop, statements off it) of a platform in uvicorn."""
    load_demo_data(database)
    on_loop: list[str] = []
    off_loop: list[str] = []
    plain = server_db.connect

    def connect(*args: Any, **kwargs: Any) -> Connection:
        return Watched(plain(*args, **kwargs), on_loop, off_loop)  # type: ignore[return-value]

    app = create_app(database, settings=Settings(open_enrolment=True))
    monkeypatch.setattr(server_db, "connect", connect)  # what the pools open from now on
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", on_loop, off_loop
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.platform.pool.close()
        app.state.platform.ephemeral.close()


def test_the_watch_sees_a_statement_made_on_a_loop(tmp_path: Path) -> None:
    on_loop: list[str] = []
    off_loop: list[str] = []
    conn = Watched(server_db.connect(tmp_path / "x.sqlite"), on_loop, off_loop)

    async def on_the_loop() -> None:
        conn.execute("SELECT 1").fetchone()

    asyncio.run(on_the_loop())
    conn.execute("SELECT 2").fetchone()
    conn.close()
    assert on_loop == ["SELECT 1"] and off_loop == ["SELECT 2", "close"]


def test_no_route_runs_a_statement_on_the_event_loop(
    watched: tuple[str, list[str], list[str]],
) -> None:
    url, on_loop, off_loop = watched
    citizen = card(1)
    with httpx.Client(base_url=url, timeout=30) as api:
        auth = sign_in(api, DEMO_TERMINAL, fake_fingerprint("loop-io"))
        for _ in range(3):  # the first requests open the pools' connections, later ones reuse
            body = proof(new_nonce(api, auth), DEMO_TERMINAL.terminal_id, citizen)
            found = api.post("/v1/lookups", json=body, headers=auth)
            assert found.status_code == 200, found.text
            assert found.json()["matches"], found.text
        refused = api.post("/v1/lookups", json=body, headers=auth)  # its challenge is spent
        assert refused.json()["error"] == "challenge.invalid", refused.text
        forged = api.post("/v1/lookups", json=body, headers={"Authorization": "Bearer nope"})
        assert forged.status_code == 401, forged.text
        assert api.get("/v1/issuers", headers=auth).status_code == 200
        event = api.post(
            "/v1/events",
            json={"kind": "heartbeat", "fields": {"n": 1}},
            headers={**auth, "Idempotency-Key": "loop-io-event-1"},
        )
        assert event.status_code == 201, event.text
        assert api.get("/v1/offline/trust", headers=auth).status_code == 200
        assert api.get("/v1/health").status_code == 200
    assert any("FROM sessions" in sql for sql in off_loop)  # the watch saw the session checks
    assert any("UPDATE nonces" in sql for sql in off_loop)
    assert on_loop == []

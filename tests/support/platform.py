"""The real reference platform for tests: ``python -m server serve --demo`` on a loopback port.

One server per test session (it starts in under a second, but hundreds of starts add up), on
SQLite; tests/server/conftest.py runs the tests marked ``both_databases`` again against a
second one on PostgreSQL (``platform_server`` takes the backend as its parameter). Tests
stay independent of each other anyway: whoever needs a terminal whose state they control (its
fingerprint binding, its sessions, its events) takes a fresh one from :meth:`PlatformServer.
add_terminal` rather than reusing the demo terminal. The demo terminal signs in with this
machine's :func:`sync.fingerprint.board_fingerprint`, as the real kiosk wiring does, so every
test that uses it agrees on the binding.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.db import connect
from server.demo import DEMO_ISSUER_ID, DEMO_TERMINAL, TerminalCredentials
from server.registry import add_terminal
from sync.client import PlatformClient
from sync.fingerprint import board_fingerprint
from ui.child import free_port, stop_child

REPO = Path(__file__).resolve().parents[2]
_terminal_numbers = itertools.count(random.randrange(10_000_000, 90_000_000))


def fake_fingerprint(label: str = "test") -> str:
    """A fixed, obviously fake board fingerprint (64 hex characters)."""
    return hashlib.sha256(f"test board {label}".encode()).hexdigest()


@dataclass
class PlatformServer:
    base_url: str
    db_path: Path | str  # a SQLite file, or a postgresql:// URL
    log_path: Path

    @property
    def backend(self) -> str:
        return "postgresql" if str(self.db_path).startswith("postgresql://") else "sqlite"

    def add_terminal(
        self, *, issuer_id: str | None = DEMO_ISSUER_ID, password: str = "test-password"
    ) -> TerminalCredentials:
        """Register a terminal nobody else uses (no fingerprint bound yet)."""
        conn = connect(self.db_path)
        try:
            while True:
                terminal_id = f"{next(_terminal_numbers) % 100_000_000:08d}"
                if add_terminal(
                    conn,
                    terminal_id,
                    password,
                    issuer_id=issuer_id,
                    place="テスト館",
                    name=f"test terminal {terminal_id}",
                ):
                    return TerminalCredentials(terminal_id, password)
        finally:
            conn.close()

    def client(
        self,
        credentials: TerminalCredentials = DEMO_TERMINAL,
        fingerprint: str | None = None,
        *,
        timeout: float = 5.0,
    ) -> PlatformClient:
        """A PlatformClient for ``credentials`` (this board's fingerprint unless given)."""
        return PlatformClient(
            self.base_url,
            credentials.terminal_id,
            credentials.password,
            fingerprint or board_fingerprint(),
            timeout=timeout,
        )

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def demo_client(server: PlatformServer, *, timeout: float = 5.0) -> PlatformClient:
    """The demo terminal (00052459) as the kiosk's wiring builds it; the caller closes it."""
    return server.client(DEMO_TERMINAL, timeout=timeout)


@contextmanager
def running_platform(
    workdir: Path,
    *,
    demo: bool = True,
    timeout: float = 30.0,
    port: int | None = None,
    extra: tuple[str, ...] = (),
    database: str | None = None,
) -> Iterator[PlatformServer]:
    """Start the server as a child process, wait for /v1/health, stop it (terminate, then kill).

    Entering again with the same ``workdir`` and ``port`` restarts the same platform (same
    database, same address): the bookmobile tests "unplug" it that way. ``extra``: more
    ``serve`` options. ``database``: a ``postgresql://`` URL instead of a SQLite file in
    ``workdir``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    server = PlatformServer(
        f"http://127.0.0.1:{port}",
        database or workdir / "platform.sqlite",
        workdir / "platform.log",
    )
    command = [sys.executable, "-m", "server", "serve", "--db", str(server.db_path),
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    if demo:
        command.append("--demo")
    command.extend(extra)
    with open(server.log_path, "ab") as log:
        proc = subprocess.Popen(
            command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        _wait_healthy(server, proc, timeout)
        yield server
    finally:
        stop_child(proc)


def _wait_healthy(server: PlatformServer, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as http:  # one client: each new one builds a TLS context
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"platform exited with {proc.returncode}:\n{server.log_text()}")
            try:
                if http.get(f"{server.base_url}/v1/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"platform not healthy after {timeout}s:\n{server.log_text()}")


@pytest.fixture(scope="session")
def platform_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformServer]:
    """The reference platform with its demo data, shared by the session; on SQLite unless
    parametrised with "postgresql" (then on a database of the session's PostgreSQL cluster)."""
    backend = getattr(request, "param", "sqlite")
    database = (
        request.getfixturevalue("postgres").new_database() if backend == "postgresql" else None
    )
    with running_platform(tmp_path_factory.mktemp(backend), database=database) as server:
        yield server


@pytest.fixture
def terminal(platform_server: PlatformServer) -> TerminalCredentials:
    """A terminal of its own for this test, serving the demo library, no board bound yet."""
    return platform_server.add_terminal()


@pytest.fixture
def platform_client(
    platform_server: PlatformServer, terminal: TerminalCredentials
) -> Iterator[PlatformClient]:
    """A PlatformClient for this test's own terminal, closed afterwards."""
    client = platform_server.client(terminal, fake_fingerprint(terminal.terminal_id))
    yield client
    client.close()

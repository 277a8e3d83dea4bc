"""Raw HTTP against the real platform process, with a terminal of the test's own.

Tests (or modules) marked ``both_databases`` run twice: on the SQLite platform and on one
backed by the session's PostgreSQL cluster (tests/support/postgres.py); the marked ones are
those whose answers come from the database (sign-in, lookups, service IDs, idempotent writes,
registration, the privacy scan). The others run on SQLite only. Every test here gets its
platform fixture as an explicit parameter, so each server is started once per scope (pytest
groups the tests by it): ``platform_server`` (session-wide, demo data) and the ``server`` of
a module that runs its own platform (e.g. test_registration.py, module-wide).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from server.demo import TerminalCredentials
from tests.server.helpers import sign_in
from tests.support.platform import PlatformServer, fake_fingerprint

BOTH = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_databases: run on SQLite and on PostgreSQL")


_PLATFORM_FIXTURES = {"platform_server": "session", "server": "module"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    for name, scope in _PLATFORM_FIXTURES.items():
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, BOTH if both else ["sqlite"], indirect=True, scope=scope)


@pytest.fixture
def api(platform_server: PlatformServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform_server.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def auth(api: httpx.Client, terminal: TerminalCredentials) -> dict[str, str]:
    """The Authorization header of a session for this test's own terminal."""
    return sign_in(api, terminal, fake_fingerprint(terminal.terminal_id))

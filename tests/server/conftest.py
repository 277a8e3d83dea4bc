"""Raw HTTP against the real platform process, with a terminal of the test's own."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from server.demo import TerminalCredentials
from tests.server.helpers import sign_in
from tests.support.platform import PlatformServer, fake_fingerprint


@pytest.fixture
def api(platform_server: PlatformServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform_server.base_url, timeout=10.0) as client:
        yield client


@pytest.fixture
def auth(api: httpx.Client, terminal: TerminalCredentials) -> dict[str, str]:
    """The Authorization header of a session for this test's own terminal."""
    return sign_in(api, terminal, fake_fingerprint(terminal.terminal_id))

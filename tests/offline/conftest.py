"""A bookmobile kiosk against a platform of its own that the test can unplug and plug back in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from drivers.card.virtual.pki import CitizenCredentials, citizen
from server.db import connect
from server.demo import DEMO_ISSUER_ID, DEMO_TERMINAL, demo_card_number, demo_mykey_id
from server.registry import add_citizen, link_service_id
from tests.support.platform import PlatformServer, running_platform
from ui.child import free_port
from ui.offline_wiring import OfflineKit, build_offline
from ui.wiring import build_kiosk

OFFLINE_SETTINGS = {
    "offline_token_low": "8000000000",
    "offline_token_high": "8999999999",
    "offline_stop": "宮前公民館前",
    "terminal_password": DEMO_TERMINAL.password,  # a real platform: no default password
}


class Plug:
    """The platform process: ``down()`` stops it (the bookmobile leaves), ``up()`` restarts it
    on the same database and port (back in range)."""

    def __init__(self, workdir: Path, extra: tuple[str, ...] = ()) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.extra = extra
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._stack: contextlib.ExitStack | None = None
        self.server: PlatformServer | None = None

    def up(self) -> PlatformServer:
        assert self._stack is None, "already up"
        self._stack = contextlib.ExitStack()
        self.server = self._stack.enter_context(
            running_platform(self.workdir, port=self.port, extra=self.extra)
        )
        return self.server

    def down(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    @property
    def db_path(self) -> Path:
        return self.workdir / "platform.sqlite"


@pytest.fixture(scope="session")
def plug(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plug]:
    """One platform for the bookmobile tests (a start costs seconds on a shared machine).

    Tests that revoke a certificate use citizens of their own (:func:`extra_citizen`), so that
    the demo citizens 1-4 stay valid for everyone else. Whoever unplugs it plugs it back in.
    """
    p = Plug(tmp_path_factory.mktemp("platform"), extra=("--offline-window-s", str(3 * 86400)))
    p.up()
    yield p
    p.down()


def make_kit(data_dir: Path, plug: Plug, **settings: object) -> OfflineKit:
    config = load_config(
        {
            "data_dir": str(data_dir),
            "platform_url": plug.base_url,
            "card_reader": "virtual",
            **OFFLINE_SETTINGS,
            **settings,
        }
    )
    return build_offline(build_kiosk(config))


@pytest.fixture
def bookmobile(tmp_path: Path, plug: Plug) -> Iterator[OfflineKit]:
    """A kiosk prepared for departure (trust material cached while the platform is up)."""
    kit = make_kit(tmp_path / "kiosk", plug)
    kit.prepare()
    yield kit
    kit.close()
    kit.kiosk.close()


def extra_citizen(plug: Plug, number: int, *, linked: bool = True) -> CitizenCredentials:
    """A citizen beyond the demo four, registered on the platform (card number from the demo
    rule), for tests that revoke their certificate."""
    creds = citizen(number, f"{number % 10000:04d}")
    conn = connect(plug.db_path)
    try:
        add_citizen(conn, demo_mykey_id(number), creds.certificate)
        if linked:
            link_service_id(conn, demo_mykey_id(number), DEMO_ISSUER_ID, demo_card_number(number))
    finally:
        conn.close()
    return creds

"""A bookmobile kiosk against a platform of its own that the test can unplug and plug back in."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from tests.support.platform import PlatformServer, free_port, running_platform
from ui.offline_wiring import OfflineKit, build_offline
from ui.wiring import build_kiosk

OFFLINE_SETTINGS = {
    "offline_token_low": "8000000000",
    "offline_token_high": "8999999999",
    "offline_stop": "宮前公民館前",
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


@pytest.fixture(scope="module")
def plug(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plug]:
    """One platform per test module (starting one costs seconds on a shared machine)."""
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

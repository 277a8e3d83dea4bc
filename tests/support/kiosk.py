"""Build a whole kiosk for integration tests: real platform over HTTP, virtual card via pcscd."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from server.demo import DEMO_TERMINAL
from ui.wiring import Kiosk, build_kiosk


def demo_card_numbers(db_path: str | Path) -> dict[int, str]:
    """Card number per demo citizen, from the platform's own registrations."""
    from server.demo import demo_registrations

    return {number: card for number, _issuer, card in demo_registrations()}


def mykey_ids(db_path: str | Path) -> list[str]:
    """Every MyKey ID the platform holds: none of them may ever reach the kiosk."""
    with sqlite3.connect(db_path) as db:
        ids = [row[0] for row in db.execute("SELECT mykey_id FROM citizens")]
    db.close()
    assert ids, "the demo platform should hold MyKey IDs"
    return ids


@pytest.fixture
def pcsc_kiosk(tmp_path: Path, pcscd: None, platform_server) -> Iterator[Kiosk]:  # type: ignore[no-untyped-def]
    config = load_config(
        {
            "data_dir": str(tmp_path / "kiosk"),
            "platform_url": platform_server.base_url,
            "terminal_password": DEMO_TERMINAL.password,  # a real platform: no default password
            "card_reader": "vpcd",
            "result_screen_s": 30,
        }
    )
    kiosk = build_kiosk(config)
    yield kiosk
    kiosk.close()

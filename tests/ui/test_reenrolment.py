"""The re-enrolment screen against the real platform: a refused terminal, end to end.

The kiosk signs in with a password the platform does not know (what a replaced password or a
re-registered board looks like from the kiosk); the real client raises ``TerminalRejected`` and
the patron sees what to do, never the platform's error code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from appliance.config import load_config
from appliance.messages import Lang, render
from tests.ui.fakes import text_of, until
from ui.app import KioskApp
from ui.screens import IdleScreen
from ui.setup import ReenrolmentScreen
from ui.wiring import build_kiosk


def test_a_terminal_the_platform_refuses_shows_re_enrolment(
    tmp_path: Path, platform_server
) -> None:  # type: ignore[no-untyped-def]
    config = load_config({
        "data_dir": str(tmp_path), "platform_url": platform_server.base_url,
        "card_reader": "virtual", "terminal_password": "not-the-password",
    })  # fmt: skip
    kiosk = build_kiosk(config)
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await pilot.press("1")
            await until(pilot, lambda: isinstance(app.screen, ReenrolmentScreen))
            seen.append(text_of(app.export_screenshot()))

    try:
        asyncio.run(scenario())
    finally:
        kiosk.close()
    assert render("reenrol.title", Lang.JA) in seen[0]
    assert render("reenrol.title", Lang.EN) in seen[0]
    assert "terminal.credentials" not in seen[0] and "401" not in seen[0]

"""First boot against the real platform: no stored identity and no password opens the setup
wizard (not "re-enrolment needed"); the wizard's form-10 registration enrols the terminal, the
kiosk starts again with the stored credentials and serves patrons. A store copied to another
device still stops at ReEnrolmentNeeded."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static

from appliance.config import load_config
from appliance.errors import ReEnrolmentNeeded
from server.demo import DEMO_ISSUER_ID, DEMO_TERMINAL
from tests.ui.fakes import text_of, until
from ui.app import KioskApp
from ui.setup import SetupScreen
from ui.wiring import build_kiosk

CONTACT = {
    "place": "高津図書館", "name": "新しい端末", "postal_code": "213-0001",
    "address": "川崎市高津区溝口", "person": "技術 太郎", "phone": "044-822-2413",
    "email": "kiosk@example.jp", "email_again": "kiosk@example.jp",
}  # fmt: skip


def test_first_boot_opens_the_wizard_which_enrols_and_restarts_the_kiosk(
    tmp_path: Path, platform_server
) -> None:  # type: ignore[no-untyped-def]
    credentials = platform_server.add_terminal()
    settings = {"data_dir": str(tmp_path / "kiosk"), "platform_url": platform_server.base_url,
                "card_reader": "virtual", "terminal_id": credentials.terminal_id,
                "terminal_password": ""}  # fmt: skip
    kiosk = build_kiosk(load_config(settings))
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 60)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SetupScreen))
            screen = app.screen
            assert not screen.query_one("#pick-issuer_id", Select).display  # no list yet
            values = {**CONTACT, "password": credentials.password, "issuer_id": "00001"}
            for name, value in values.items():
                screen.query_one(f"#in-{name}", Input).value = value
            await pilot.click("#register")
            await pilot.pause()
            seen.append(text_of(app.export_screenshot()))  # the 5-digit issuer is refused
            screen.query_one("#in-issuer_id", Input).value = DEMO_ISSUER_ID
            await pilot.click("#register")
            state = screen.query_one("#setup-state", Static)
            await until(pilot, lambda: "restarts" in str(state.render()))
            seen.append(text_of(app.export_screenshot()))
            await until(pilot, lambda: not app.is_running, timeout=10)

    try:
        asyncio.run(scenario())
    finally:
        kiosk.close()
    assert "ID発行者コードは6桁の数字です" in seen[0] and "is 6 digits" in seen[0]
    assert "The kiosk restarts" in seen[1] and app.restart
    # what main() does next: build again, from the store; this time it signs in
    again = build_kiosk(load_config(settings))
    try:
        assert not again.needs_setup
        assert [i.issuer_id for i in again.platform.issuers()] == [DEMO_ISSUER_ID]
        # a copy of this store on another device (another device secret) is not a first boot
        other = tmp_path / "copy"
        other.mkdir()
        shutil.copy(tmp_path / "kiosk" / "kiosk.sqlite", other / "kiosk.sqlite")
        with pytest.raises(ReEnrolmentNeeded):
            build_kiosk(load_config({**settings, "data_dir": str(other)}))
    finally:
        again.close()


def test_an_enrolled_kiosk_s_wizard_offers_the_served_issuers(
    tmp_path: Path, platform_server
) -> None:  # type: ignore[no-untyped-def]
    config = load_config({"data_dir": str(tmp_path), "platform_url": platform_server.base_url,
                          "card_reader": "virtual",
                          "terminal_password": DEMO_TERMINAL.password})  # fmt: skip
    kiosk = build_kiosk(config)
    app = KioskApp(kiosk)
    picked: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 60)) as pilot:
            await pilot.pause()
            app.switch_screen(SetupScreen(config.terminal_id))
            await until(pilot, lambda: isinstance(app.screen, SetupScreen))
            pick = app.screen.query_one("#pick-issuer_id", Select)
            await until(pilot, lambda: bool(pick.display))
            pick.value = DEMO_ISSUER_ID
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SetupScreen)
            picked.append(screen.values()["issuer_id"])
            assert not screen.query_one("#in-issuer_id", Input).display

    try:
        asyncio.run(scenario())
    finally:
        kiosk.close()
    assert picked == [DEMO_ISSUER_ID]

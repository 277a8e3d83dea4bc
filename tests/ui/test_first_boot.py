"""First boot against the real platform: no stored identity and no password opens the setup
wizard (not "re-enrolment needed"); the wizard's form-10 registration enrols the terminal, the
kiosk starts again with the stored credentials and serves patrons. A store copied to another
device still stops at ReEnrolmentNeeded."""

from __future__ import annotations

import asyncio
import shutil
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select, Static

from appliance.config import load_config
from appliance.errors import ConfigError, ReEnrolmentNeeded
from server.demo import DEMO_ISSUER_ID, DEMO_TERMINAL, TerminalCredentials
from tests.ui.fakes import text_of, until
from ui.app import KioskApp
from ui.settings import read_settings, save_setup
from ui.setup import RESTART_DELAY_S, SetupScreen
from ui.wiring import Kiosk, build_kiosk

CONTACT = {
    "place": "高津図書館", "name": "新しい端末", "postal_code": "213-0001",
    "address": "川崎市高津区溝口", "person": "技術 太郎", "phone": "044-822-2413",
    "email": "kiosk@example.jp", "email_again": "kiosk@example.jp",
}  # fmt: skip
Steps = Callable[[Pilot[None], KioskApp], Awaitable[None]]


def _drive(kiosk: Kiosk, steps: Steps, size: tuple[int, int] = (110, 60)) -> KioskApp:
    """The kiosk's app, headless, through ``steps``; the kiosk is closed after, whatever
    happened. The app is returned for what it did (``restart``, ``settings_path``)."""
    app = KioskApp(kiosk)

    async def scenario() -> None:
        async with app.run_test(size=size) as pilot:
            await steps(pilot, app)

    try:
        asyncio.run(scenario())
    finally:
        kiosk.close()
    return app


def test_first_boot_opens_the_wizard_which_enrols_and_restarts_the_kiosk(
    tmp_path: Path, platform_server
) -> None:  # type: ignore[no-untyped-def]
    credentials = platform_server.add_terminal()
    settings = {"data_dir": str(tmp_path / "kiosk"), "platform_url": platform_server.base_url,
                "card_reader": "virtual", "terminal_id": credentials.terminal_id,
                "terminal_password": ""}  # fmt: skip
    seen: list[str] = []

    async def steps(pilot: Pilot[None], app: KioskApp) -> None:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        screen = app.screen
        assert not screen.query_one("#pick-issuer_id", Select).display  # no list yet
        _fill(screen, credentials, issuer_id="00001")
        await pilot.click("#register")
        await pilot.pause()
        seen.append(text_of(app.export_screenshot()))  # the 5-digit issuer is refused
        screen.query_one("#in-issuer_id", Input).value = DEMO_ISSUER_ID
        await pilot.click("#register")
        state = screen.query_one("#setup-state", Static)
        await until(pilot, lambda: "restarts" in str(state.render()))
        seen.append(text_of(app.export_screenshot()))
        await until(pilot, lambda: not app.is_running, timeout=10)

    app = _drive(build_kiosk(load_config(settings)), steps)
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
    picked: list[str] = []

    async def steps(pilot: Pilot[None], app: KioskApp) -> None:
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

    _drive(build_kiosk(config), steps)
    assert picked == [DEMO_ISSUER_ID]


def _image_first_boot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """What the image does without a provisioning file: ``kiosk-session`` points KIOSK_CONFIG
    at the read-only /etc/kiosk/setup.toml (the placeholder address, where to save) instead."""
    saves_to = tmp_path / "data" / "kiosk.toml"
    setup = tmp_path / "setup.toml"
    setup.write_text(
        'platform_url = "https://mykey-platform.invalid/"\n'
        f'setup_saves_to = "{saves_to}"\n'
        'card_reader = "virtual"\n'
        '\n[library."131016"]\ninstructions_ja = "2階の自動貸出機へ"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KIOSK_CONFIG", str(setup))
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))
    return setup, saves_to


def _fill(screen: Screen[None], credentials: TerminalCredentials, **more: str) -> None:
    """The wizard's fields as a technician fills them in (the address only where given)."""
    values = {**CONTACT, "terminal_id": credentials.terminal_id,
              "password": credentials.password, "issuer_id": DEMO_ISSUER_ID, **more}  # fmt: skip
    for name, value in values.items():
        screen.query_one(f"#in-{name}", Input).value = value


def test_image_first_boot_asks_for_the_platform_and_saves_the_settings(
    tmp_path: Path, platform_server, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    credentials = platform_server.add_terminal()
    _, saves_to = _image_first_boot(tmp_path, monkeypatch)
    seen: list[str] = []

    async def steps(pilot: Pilot[None], app: KioskApp) -> None:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        screen = app.screen
        url = screen.query_one("#in-platform_url", Input)
        seen.append(url.value)
        assert screen.query_one("#in-terminal_id", Input).value == ""  # no sample ID
        _fill(screen, credentials)
        await pilot.click("#register")
        await pilot.pause()
        seen.append(text_of(app.export_screenshot()))  # the placeholder is refused
        url.value = "http://mykey.example.lg.jp/"
        await pilot.click("#register")
        await pilot.pause()
        seen.append(text_of(app.export_screenshot()))  # plain http only on loopback
        url.value = platform_server.base_url
        await pilot.click("#register")
        state = screen.query_one("#setup-state", Static)
        await until(pilot, lambda: "restarts" in str(state.render()))
        await until(pilot, lambda: not app.is_running, timeout=10)

    app = _drive(build_kiosk(read_settings()), steps, size=(110, 70))
    assert seen[0] == "https://mykey-platform.invalid/"
    assert "見本のアドレスのまま" in seen[1] and "Still the sample address" in seen[1]
    assert "https:// で始めて" in seen[2] and "http:// only for a loopback" in seen[2]
    assert app.restart and app.settings_path == str(saves_to)
    saved = tomllib.loads(saves_to.read_text(encoding="utf-8"))
    assert saved["terminal_id"] == credentials.terminal_id
    assert saved["platform_url"] == platform_server.base_url
    assert saved["terminal_password"] == "" and "setup_saves_to" not in saved
    assert saved["library"]["131016"]["instructions_ja"] == "2階の自動貸出機へ"  # kept as it was
    assert credentials.password not in saves_to.read_text(encoding="utf-8")
    assert saves_to.stat().st_mode & 0o077 == 0
    # what main() does next: start from the saved file; it signs in with the sealed password
    again = build_kiosk(read_settings(str(saves_to)))
    try:
        assert not again.needs_setup
        assert again.config.terminal_id == credentials.terminal_id
        assert [i.issuer_id for i in again.platform.issuers()] == [DEMO_ISSUER_ID]
    finally:
        again.close()


def test_image_first_boot_that_cannot_save_says_so_and_does_not_restart(
    tmp_path: Path, platform_server, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    credentials = platform_server.add_terminal()
    setup, _ = _image_first_boot(tmp_path, monkeypatch)
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    blocked = tmp_path / "not-a-folder" / "kiosk.toml"  # its parent is a file: OSError
    setup.write_text(
        setup.read_text(encoding="utf-8").replace(
            str(tmp_path / "data" / "kiosk.toml"), str(blocked)
        ),
        encoding="utf-8",
    )
    seen: list[str] = []

    async def steps(pilot: Pilot[None], app: KioskApp) -> None:
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        screen = app.screen
        _fill(screen, credentials, platform_url=platform_server.base_url)
        await pilot.click("#register")
        state = screen.query_one("#setup-state", Static)
        await until(pilot, lambda: "could not be saved" in str(state.render()))
        await pilot.pause(RESTART_DELAY_S + 0.5)  # no restart is pending
        seen.append(text_of(app.export_screenshot()))
        assert app.is_running

    app = _drive(build_kiosk(read_settings()), steps, size=(110, 70))
    assert "設定を保存できませんでした" in seen[0] and not app.restart
    assert not blocked.exists()


def test_saved_settings_that_would_not_load_are_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, saves_to = _image_first_boot(tmp_path, monkeypatch)
    with pytest.raises(ConfigError):
        save_setup(str(saves_to), {"terminal_id": "123", "platform_url": "https://x.example/"})
    assert not saves_to.exists() and not saves_to.parent.exists()

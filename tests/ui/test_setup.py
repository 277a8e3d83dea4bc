"""The first-boot setup wizard: every problem under its field at once; then one registration."""

from __future__ import annotations

import asyncio
import ctypes
from pathlib import Path

from textual.widgets import Input, Static

from appliance.contact import ContactDetails
from appliance.errors import TerminalRejected
from tests.ui.fakes import KAWASAKI, match, scripted_kiosk, text_of, until
from ui.app import KioskApp
from ui.host import _Timex, clock_check
from ui.setup import FIELDS, SetupScreen

GOOD = {
    "terminal_id": "00052459", "password": "a912lkfja", "place": "高津図書館",
    "name": "高津図書館1台目", "postal_code": "213-0001", "address": "川崎市高津区溝口",
    "phone": "044-822-2413", "email": "kiosk@example.jp", "email_again": "kiosk@example.jp",
}  # fmt: skip


class RecordingRegistrar:
    def __init__(self, refuse: bool = False) -> None:
        self.calls: list[tuple[str, str, ContactDetails]] = []
        self.refuse = refuse

    def register_terminal(
        self, terminal_id: str, password: str, contact: ContactDetails, platform_url: str = ""
    ) -> None:
        assert platform_url == ""  # an enrolled kiosk's wizard: the configured platform
        self.calls.append((terminal_id, password, contact))
        if self.refuse:
            raise TerminalRejected("terminal 00052459: ID or password refused")


def _wizard(
    tmp_path: Path, registrar: object, values: dict[str, str]
) -> tuple[dict[str, str], str]:
    kiosk = scripted_kiosk(tmp_path, [match(KAWASAKI)])
    kiosk.registrar = registrar  # type: ignore[assignment]
    app = KioskApp(kiosk)
    out: dict[str, str] = {}
    shot: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 60)) as pilot:
            await pilot.pause()
            app.switch_screen(SetupScreen(""))
            await until(pilot, lambda: isinstance(app.screen, SetupScreen))
            for name, value in values.items():
                app.screen.query_one(f"#in-{name}", Input).value = value
            await pilot.click("#register")
            state = app.screen.query_one("#setup-state", Static)
            await until(pilot, lambda: "…" not in str(state.render()) and str(state.render()))
            for name, _ in FIELDS:
                out[name] = str(app.screen.query_one(f"#err-{name}", Static).render())
            out["state"] = str(state.render())
            shot.append(text_of(app.export_screenshot()))

    asyncio.run(scenario())
    return out, shot[0]


def test_every_problem_shows_under_its_field_at_once(tmp_path: Path) -> None:
    registrar = RecordingRegistrar()
    bad = {**GOOD, "terminal_id": "123", "place": "", "postal_code": "21300", "phone": "abc",
           "email_again": "kiosk@example.com"}  # fmt: skip
    errors, _ = _wizard(tmp_path, registrar, bad)
    assert "8 digits" in errors["terminal_id"]
    assert "Required" in errors["place"]
    assert "7 digits" in errors["postal_code"]
    assert "10 or 11 digits" in errors["phone"]
    assert "Does not match" in errors["email_again"]
    assert errors["name"] == errors["address"] == errors["email"] == ""
    assert "5 problem(s)" in errors["state"]
    assert registrar.calls == []  # nothing is sent while anything is wrong


def test_a_valid_form_is_registered_once_normalised(tmp_path: Path) -> None:
    registrar = RecordingRegistrar()
    errors, screen = _wizard(tmp_path, registrar, GOOD)
    assert "Registered" in errors["state"]
    ((tid, password, contact),) = registrar.calls
    assert (tid, password, contact.postal_code, contact.phone) == (
        "00052459", "a912lkfja", "2130001", "0448222413",
    )  # fmt: skip
    assert "a912lkfja" not in screen


def test_a_refused_registration_says_so_and_a_missing_registrar_too(tmp_path: Path) -> None:
    errors, _ = _wizard(tmp_path / "a", RecordingRegistrar(refuse=True), GOOD)
    assert "registration checked" in errors["state"]
    errors, _ = _wizard(tmp_path / "b", None, GOOD)
    assert "cannot be sent from this kiosk" in errors["state"]


def test_the_second_e_mail_cannot_be_pasted(tmp_path: Path) -> None:
    app = KioskApp(scripted_kiosk(tmp_path, [match(KAWASAKI)]))
    values: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 60)) as pilot:
            await pilot.pause()
            app.switch_screen(SetupScreen(""))
            await until(pilot, lambda: isinstance(app.screen, SetupScreen))
            from textual.events import Paste

            for name in ("email", "email_again"):
                field = app.screen.query_one(f"#in-{name}", Input)
                field.focus()
                field.post_message(Paste("kiosk@example.jp"))
                await pilot.pause(0.1)
                values.append(field.value)

    asyncio.run(scenario())
    assert values == ["kiosk@example.jp", ""]


def test_the_clock_check_reads_the_kernels_timex() -> None:
    """The struct is laid out as the kernel's: the tick it reports is a plausible one."""
    libc = ctypes.CDLL(None, use_errno=True)
    timex = _Timex()
    assert libc.adjtimex(ctypes.byref(timex)) >= 0
    assert ctypes.sizeof(_Timex) == 208  # struct timex on 64-bit Linux
    assert 1_000 <= timex.tick <= 100_000  # microseconds per kernel tick (10000 at USER_HZ 100)
    status = clock_check()
    assert status.part == "clock" and status.state.value in ("ok", "warning")


def test_a_kiosk_without_an_identity_starts_on_the_wizard(tmp_path: Path) -> None:
    kiosk = scripted_kiosk(tmp_path, [match(KAWASAKI)])
    kiosk.needs_setup = True
    kiosk.registrar = registrar = RecordingRegistrar()
    app = KioskApp(kiosk)
    screens: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 60)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, SetupScreen))
            await pilot.press("1")  # no patron flow before the kiosk is registered
            await pilot.pause(0.1)
            screens.append(type(app.screen).__name__)
            for name, value in GOOD.items():
                app.screen.query_one(f"#in-{name}", Input).value = value
            await pilot.click("#register")
            await until(pilot, lambda: not kiosk.needs_setup)
            screens.append(text_of(app.export_screenshot()))
            await until(pilot, lambda: not app.is_running, timeout=10)  # main() builds it again

    asyncio.run(scenario())
    assert screens[0] == "SetupScreen"
    assert "登録しました。端末を再起動" in screens[1] and app.restart
    assert len(registrar.calls) == 1

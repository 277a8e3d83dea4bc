"""Service-ID registration end to end: the real app, the virtual card through pcscd, the real
platform over HTTP. The registration lands (a following patron tap prints the new number) and
the deletion undoes it (the next tap is "not registered here")."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from textual.widgets import Input, Select

from appliance.checkdigits import compute
from server.demo import DEMO_ISSUER_ID
from tests.ui.fakes import text_of, until
from ui.app import KioskApp
from ui.register import ServiceIdConfirmScreen, ServiceIdFormScreen, ServiceIdWaitScreen
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.wiring import Kiosk

CITIZEN, PIN = 4, "4321"  # the demo citizen with a MyKey ID and no library card


async def _card(pilot: Any, app: KioskApp, until_screen: type) -> None:
    await pilot.press(str(CITIZEN))
    await until(pilot, lambda: isinstance(app.screen, PinScreen))
    field = app.screen.query_one("#pin", Input)
    field.value = PIN
    await field.action_submit()
    await until(pilot, lambda: isinstance(app.screen, until_screen))


async def _form(pilot: Any, app: KioskApp, mode: str, number: str = "") -> None:
    await until(pilot, lambda: isinstance(app.screen, IdleScreen))
    app.start_service_ids(mode)
    await until(pilot, lambda: isinstance(app.screen, ServiceIdFormScreen))
    form = app.screen
    assert isinstance(form, ServiceIdFormScreen)
    await until(pilot, lambda: bool(form.session.issuers))  # the platform's list, over HTTP
    form.query_one("#issuer", Select).value = DEMO_ISSUER_ID
    if number:
        form.query_one("#number", Input).value = number
    form.next()
    await until(pilot, lambda: isinstance(app.screen, ServiceIdWaitScreen))
    await _card(pilot, app, ServiceIdConfirmScreen)
    await pilot.click("#send")
    await until(pilot, lambda: isinstance(app.screen, ResultScreen))


def test_a_registration_lands_on_the_platform_and_the_next_tap_finds_it(
    pcsc_kiosk: Kiosk,
) -> None:
    body = f"9{secrets.randbelow(10**8):08d}"
    number = body + compute(body, "mod10w21")  # the demo library's rules
    app = KioskApp(pcsc_kiosk)
    seen: dict[str, str] = {}
    printed: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            await _form(pilot, app, "register", number)
            seen["registered"] = text_of(app.export_screenshot())
            app.action_to_idle()
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await _card(pilot, app, ResultScreen)  # the patron's own tap, now linked
            assert app.last_outcome is not None, text_of(app.export_screenshot())
            printed.append(app.last_outcome.match.number.value)
            app.action_to_idle()
            await _form(pilot, app, "unregister")
            seen["deleted"] = text_of(app.export_screenshot())
            app.action_to_idle()
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await _card(pilot, app, ResultScreen)
            seen["after"] = text_of(app.export_screenshot())

    try:
        asyncio.run(scenario())
    finally:
        app.service = None
    assert "Registered" in seen["registered"] and number not in seen["registered"]
    assert printed == [number]
    assert "The registration was deleted" in seen["deleted"]
    assert "この図書館に登録されていません" in seen["after"]

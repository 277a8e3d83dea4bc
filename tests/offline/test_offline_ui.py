"""The bookmobile on the real Textual app, headless: staff switch to offline mode, a patron gets a
provisional label, staff resolve, export and confirm from the bookmobile screen."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from appliance.offline import ProvisionalOutcome
from tests.support.barcodes import decode_both
from ui.app import KioskApp
from ui.offline import OfflineStaffScreen
from ui.offline_wiring import OfflineKit
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.staff import StaffMenuScreen, StaffPinScreen


async def _until(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the app did not reach the expected state"
        await pilot.pause(0.05)


def _text(app: KioskApp) -> str:
    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


def test_offline_mode_provisional_label_then_resolve_export_confirm(
    bookmobile: OfflineKit, tmp_path: Path
) -> None:
    app = KioskApp(bookmobile.kiosk, bookmobile)
    seen: dict[str, str] = {}
    usb = tmp_path / "usb"
    outcomes: list[object] = []

    async def to_bookmobile_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press("f2")
        await _until(pilot, lambda: isinstance(app.screen, StaffPinScreen))
        await pilot.press(*"9999", "enter")
        await _until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
        await pilot.click("#bookmobile")
        await _until(pilot, lambda: isinstance(app.screen, OfflineStaffScreen))

    async def result(pilot, button: str) -> str:  # type: ignore[no-untyped-def]
        before = str(app.screen.query_one("#offline-result").render())
        await pilot.pause(0.3)  # a button ignores a second press during its "active" flash
        await pilot.click(f"#{button}")
        await _until(pilot, lambda: str(app.screen.query_one("#offline-result").render()) != before)
        return str(app.screen.query_one("#offline-result").render())

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await to_bookmobile_screen(pilot)
            await pilot.click("#mode")
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            seen["idle"] = _text(app)
            await pilot.press("1")
            await _until(pilot, lambda: isinstance(app.screen, PinScreen))
            await pilot.press(*"1234", "enter")
            await _until(pilot, lambda: isinstance(app.screen, ResultScreen))
            seen["done"] = _text(app)
            outcomes.append(app.last_outcome)
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await to_bookmobile_screen(pilot)
            seen["resolve"] = await result(pilot, "resolve")
            seen["no folder"] = await result(pilot, "export")
            app.screen.query_one("#export-dir").value = str(usb)  # type: ignore[attr-defined]
            seen["export"] = await result(pilot, "export")
            seen["confirm"] = await result(pilot, "confirm")

    asyncio.run(scenario())
    assert "Offline: provisional labels are printed" in seen["idle"]
    assert "You can borrow today with this provisional label" in seen["done"]
    (outcome,) = outcomes
    assert isinstance(outcome, ProvisionalOutcome)
    png = next(p for p in outcome.printed.artifacts if p.endswith(".png"))
    assert decode_both(Image.open(png))[0] == [f"A{outcome.job.number.value}A"]
    assert "1 resolved (0 still pending)" in seen["resolve"]
    assert "Type the folder to export to" in seen["no folder"]
    assert "provisional-" in seen["export"] and len(list(usb.glob("*.csv"))) == 1
    assert "1 record(s) deleted" in seen["confirm"]
    for text in seen.values():
        assert outcome.job.number.value not in text  # the token is on the label, not the screen

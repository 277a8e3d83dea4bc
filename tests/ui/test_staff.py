"""Staff screens: the staff PIN gate and the diagnostics, on a real kiosk."""

from __future__ import annotations

import asyncio
import html

from textual.widgets import DataTable

from ui.app import KioskApp
from ui.screens import IdleScreen
from ui.staff import DiagnosticsScreen, StaffMenuScreen, StaffPinScreen
from ui.wiring import Kiosk


async def _until(pilot, condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the app did not reach the expected state"
        await pilot.pause(0.05)


def test_a_wrong_staff_pin_keeps_the_menu_closed(pcsc_kiosk: Kiosk) -> None:
    app = KioskApp(pcsc_kiosk)
    texts: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await pilot.press("f2")
            await _until(pilot, lambda: isinstance(app.screen, StaffPinScreen))
            await pilot.press("1", "2", "3", "4", "enter")
            await pilot.pause(0.1)
            assert isinstance(app.screen, StaffPinScreen)
            texts.append(html.unescape(app.export_screenshot()).replace("\xa0", " "))
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))

    asyncio.run(scenario())
    assert "Wrong staff PIN" in texts[0] and "1234" not in texts[0]


def test_diagnostics_lists_every_part_with_its_state(pcsc_kiosk: Kiosk) -> None:
    app = KioskApp(pcsc_kiosk)
    rows: list[list[str]] = []

    async def scenario() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await pilot.press("f2")
            await _until(pilot, lambda: isinstance(app.screen, StaffPinScreen))
            await pilot.press(*"9999", "enter")
            await _until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
            await pilot.click("#diagnostics")
            await _until(pilot, lambda: isinstance(app.screen, DiagnosticsScreen))
            table = app.screen.query_one("#checks", DataTable)
            await _until(pilot, lambda: table.row_count == 7)
            for key in table.rows:
                rows.append([str(cell) for cell in table.get_row(key)])

    asyncio.run(scenario())
    parts = ["card reader", "printer", "platform", "platform link", "clock", "disk", "version"]
    assert [row[0] for row in rows] == parts
    # the clock's state is the machine's own (a CI container's clock may be unsynchronised)
    # the clock's state is the machine's own; the link may still be "connecting" at start-up
    assert all("OK" in row[1] for row in rows if row[0] not in ("clock", "platform link")), rows

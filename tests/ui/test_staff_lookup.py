"""Staff lookup with the four hand-over methods, one library each, on the real app and flow.

(B) is proven the way a library would: the screen is exported (SVG), rasterised (cairosvg) and
the screenshot decoded by zbar AND zxing-cpp.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import cairosvg
from PIL import Image
from textual.widgets import Static

from appliance.values import Handover
from drivers.handoff.memory import MemoryHandoff
from tests.support.barcodes import decode_both
from tests.ui.fakes import (
    KAWASAKI,
    NUMBERS,
    SHIBUYA,
    YOKOHAMA,
    ZUSHI,
    match,
    scripted_kiosk,
    text_of,
    until,
)
from ui.app import KioskApp
from ui.jobs_screen import ReprintLastScreen
from ui.lookup import LookupWaitScreen, StaffLookupScreen
from ui.screens import IdleScreen, PinScreen
from ui.staff import StaffMenuScreen, StaffPinScreen


def screenshot_png(svg: str) -> Image.Image:
    """What a camera pointed at the display would see, near enough: the SVG rasterised."""
    return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=2)))


async def _staff_lookup(app: KioskApp, pilot, pin: str = "1234") -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: isinstance(app.screen, IdleScreen))
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(app.screen, StaffPinScreen))
    await pilot.press(*"9999", "enter")
    await until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
    await pilot.click("#lookup")
    await until(pilot, lambda: isinstance(app.screen, LookupWaitScreen))
    await pilot.press("1")  # the patron taps (demo key)
    await until(pilot, lambda: isinstance(app.screen, PinScreen))
    await pilot.press(*pin, "enter")
    await until(pilot, lambda: isinstance(app.screen, StaffLookupScreen))


def test_the_four_methods_each_hand_the_number_over(tmp_path: Path) -> None:
    matches = [
        match(KAWASAKI, Handover.SCREEN),
        match(YOKOHAMA, Handover.SCREEN_BARCODE),
        match(SHIBUYA, Handover.AUTO_INPUT, address_changed=True),
        match(ZUSHI, Handover.LABEL),
    ]
    kiosk = scripted_kiosk(tmp_path, matches)
    kiosk.handoff = handoff = MemoryHandoff()
    app = KioskApp(kiosk)
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(110, 90)) as pilot:
            await _staff_lookup(app, pilot)
            await until(pilot, lambda: handoff.sent != [])
            seen["masked"] = text_of(svg := app.export_screenshot())
            seen["barcode"] = svg
            await pilot.click("#reveal-0")
            await pilot.pause(0.1)
            seen["revealed"] = text_of(app.export_screenshot())
            await pilot.click("#print-3")
            sent = app.screen.query_one("#printed-3", Static)
            await until(pilot, lambda: "printed" in str(sent.render()))
            await pilot.click("#done")  # back to the staff menu, the lookup wiped
            await until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
            wiped["menu"] = app._matches is None and app.last_outcome is None
            # the label printed in this staff session can be reprinted (it jammed, it tore)
            await pilot.click("#reprint")
            await until(pilot, lambda: isinstance(app.screen, ReprintLastScreen))
            seen["reprint"] = text_of(app.export_screenshot())
            await pilot.click("#reprint-last")
            await until(pilot, lambda: len(list((tmp_path / "labels").glob("*.png"))) == 2)
            await pilot.click("#done")
            await until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
            app.action_to_idle()  # staff leave: the session ends, its last label with it
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))

    wiped: dict[str, bool] = {}
    asyncio.run(scenario())
    assert wiped == {"menu": True}
    assert "*567" in seen["reprint"] and NUMBERS["000004"] not in seen["reprint"]
    assert app.last_label.match is None
    # (A) masked until revealed
    assert NUMBERS["000001"] not in seen["masked"] and "*******000" in seen["masked"]
    assert NUMBERS["000001"] in seen["revealed"]
    # (B) the screenshot scans as the issuer's barcode data
    expected = f"B{NUMBERS['000002']}B"
    assert decode_both(screenshot_png(seen["barcode"])) == ([expected], [expected])
    assert NUMBERS["000002"] not in seen["masked"]  # as a barcode, never as text
    # (C) typed once, automatically; (D) the label decodes
    assert handoff.sent == [NUMBERS["000003"]]
    assert "The address has changed" in seen["masked"]
    for png in (tmp_path / "labels").glob("*.png"):  # the label and its reprint
        assert decode_both(Image.open(png)) == (
            [f"A{NUMBERS['000004']}A"], [f"A{NUMBERS['000004']}A"]
        )  # fmt: skip
    assert app._matches is None and app.last_outcome is None


def test_the_kiosk_config_overrides_the_platforms_method(tmp_path: Path) -> None:
    kiosk = scripted_kiosk(tmp_path, [match(KAWASAKI)], handover="000001=A")
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            await _staff_lookup(app, pilot)
            seen.append(text_of(app.export_screenshot()))

    asyncio.run(scenario())
    assert "Reveal" in seen[0] and "*******000" in seen[0]
    assert list((tmp_path / "labels").glob("*.png")) == []  # a lookup never prints by itself


def test_a_failing_hand_over_device_says_what_to_do(tmp_path: Path) -> None:
    kiosk = scripted_kiosk(tmp_path, [match(KAWASAKI, Handover.AUTO_INPUT)])
    kiosk.handoff = MemoryHandoff(fail=True)
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            await _staff_lookup(app, pilot)
            state = app.screen.query_one("#sent-0", Static)
            await until(pilot, lambda: "Reveal it" in str(state.render()))
            seen.append(text_of(app.export_screenshot()))

    asyncio.run(scenario())
    assert "could not be typed into the library system" in seen[0]
    assert NUMBERS["000001"] not in seen[0]

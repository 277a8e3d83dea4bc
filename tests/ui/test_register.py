"""Staff service-ID registration on the real app: form checks, scanner, tap + PIN, confirm with
"back", every refusal in Japanese and English; and deletion. The virtual card (in-process) and a
scripted platform here; ``test_register_live.py`` runs it against the real platform over pcscd.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, Input, Select, Static

from appliance.checkdigits import compute
from appliance.errors import PlatformUnreachable, ServiceIdRefused
from drivers.scanner.memory import MemoryScanner
from tests.ui.fakes import KAWASAKI, NUMBERS, ScriptedPlatform, scripted_kiosk, text_of, until
from ui.app import KioskApp
from ui.register import ServiceIdConfirmScreen, ServiceIdFormScreen, ServiceIdWaitScreen
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.staff import StaffMenuScreen
from ui.wiring import Kiosk

GOOD = NUMBERS["000001"]  # a valid Kawasaki number (mod 10, weights 2-1, 10 digits)
FIXED = "180000001" + compute("180000001", "mod10w21")  # what staff meant to type


@pytest.fixture
def kiosk(tmp_path: Path) -> Kiosk:
    kiosk = scripted_kiosk(tmp_path, [])
    kiosk.scanner = MemoryScanner()
    return kiosk


def _platform(kiosk: Kiosk) -> ScriptedPlatform:
    platform = kiosk.platform
    assert isinstance(platform, ScriptedPlatform)
    return platform


def _verifies(kiosk: Kiosk, citizen: int) -> int:
    assert kiosk.demo is not None
    card = kiosk.demo.card(citizen)
    return len([a for a in card.log if a[:4] == b"\x00\x20\x00\x80" and len(a) > 4])


async def _open(
    pilot: Any, app: KioskApp, mode: str = "register", *, gate: bool = False
) -> ServiceIdFormScreen:
    """The form, from idle: through the staff PIN and menu (``gate``), else straight (keys are
    slow in a pilot, and the gate has its own tests)."""
    await until(pilot, lambda: isinstance(app.screen, IdleScreen))
    if gate:
        await pilot.press("f2", *"9999", "enter")
        await until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
        await pilot.click(f"#{mode}")
    else:
        app.start_service_ids(mode)
    await until(pilot, lambda: isinstance(app.screen, ServiceIdFormScreen))
    screen = app.screen
    assert isinstance(screen, ServiceIdFormScreen)
    await until(pilot, lambda: "Fetching" not in str(screen.query_one("#problems").render()))
    return screen


def _problems(screen: ServiceIdFormScreen) -> str:
    return text_of(str(screen.query_one("#problems", Static).render()))


async def _form(pilot: Any, screen: ServiceIdFormScreen, issuer: str, typed: str) -> None:
    screen.query_one("#issuer", Select).value = issuer
    screen.query_one("#number", Input).value = typed
    await pilot.pause()
    screen.next()
    await pilot.pause()


async def _tap(pilot: Any, app: KioskApp, citizen: int, pin: str) -> None:
    await until(pilot, lambda: isinstance(app.screen, ServiceIdWaitScreen))
    await pilot.press(str(citizen))
    await until(pilot, lambda: isinstance(app.screen, PinScreen | ResultScreen))
    if isinstance(app.screen, PinScreen):  # the keypad has its own tests; keys are slow here
        field = app.screen.query_one("#pin", Input)
        field.value = pin
        await field.action_submit()


def test_number_checked_scanned_tapped_corrected_and_registered(kiosk: Kiosk) -> None:
    app = KioskApp(kiosk)
    platform, scanner = _platform(kiosk), kiosk.scanner
    assert isinstance(scanner, MemoryScanner)
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            form = await _open(pilot, app, gate=True)
            form.next()  # nothing chosen, nothing typed: both problems at once
            await pilot.pause()
            seen["empty"] = _problems(form)
            for name, typed in (("length", "12345"), ("check", GOOD[:-1] + "9"),
                                ("digits", "18000000A0")):  # fmt: skip
                await _form(pilot, form, KAWASAKI.issuer_id, typed)
                seen[name] = _problems(form)
                assert app.screen is form  # the patron is not asked while the number is wrong
            scanner.push(f"A{GOOD}A")  # a card's NW-7 barcode, with its start/stop characters
            await until(pilot, lambda: form.query_one("#number", Input).value == f"A{GOOD}A")
            seen["scanned"] = text_of(app.export_screenshot())
            form.next()
            await _tap(pilot, app, 1, "1234")
            await until(pilot, lambda: isinstance(app.screen, ServiceIdConfirmScreen))
            seen["confirm"] = text_of(app.export_screenshot())
            await pilot.click("#fix")  # a typo: back to the form, no second tap
            await until(pilot, lambda: isinstance(app.screen, ServiceIdFormScreen))
            form = app.screen
            assert isinstance(form, ServiceIdFormScreen)
            assert form.query_one("#number", Input).value == f"A{GOOD}A"
            await _form(pilot, form, KAWASAKI.issuer_id, FIXED)
            await until(pilot, lambda: isinstance(app.screen, ServiceIdConfirmScreen))
            seen["confirm2"] = text_of(app.export_screenshot())
            app.screen.query_one("#notice", Checkbox).value = True
            await pilot.pause()
            await pilot.click("#send")
            await until(pilot, lambda: isinstance(app.screen, ResultScreen))
            seen["done"] = text_of(app.export_screenshot())

    asyncio.run(scenario())
    assert "図書館を選んでください" in seen["empty"] and "No number was entered" in seen["empty"]
    assert "桁数がちがいます（5桁。この図書館は10桁）" in seen["length"]
    assert "this library uses 10" in seen["length"]
    assert "チェックディジット" in seen["check"] and "check digit does not match" in seen["check"]
    assert "数字だけ" in seen["digits"] and "Use digits only" in seen["digits"]
    assert "Barcode read" in seen["scanned"] and "バーコードを読み取りました" in seen["scanned"]
    assert GOOD in seen["confirm"] and "Please check that it is right" in seen["confirm"]
    assert FIXED in seen["confirm2"] and GOOD not in seen["confirm2"]
    assert "登録しました" in seen["done"] and "Registered" in seen["done"]
    assert "*******" + FIXED[-3:] in seen["done"] and FIXED not in seen["done"]
    assert "Address-change notice: yes" in seen["done"]
    assert platform.registered == [(KAWASAKI.issuer_id, FIXED, True)]
    assert platform.purposes == ["register"]  # one challenge, one tap, one PIN
    assert _verifies(kiosk, 1) == 1
    assert app.service is None  # nothing of the registration is kept once it is done


# Two of the platform's reasons (every reason's key is in the catalogue: tests/server); the
# screen shows whichever key the refusal carries.
REFUSALS = [
    ("service_id.taken", "別のマイナンバーカードに登録", "linked to another card"),
    ("citizen.unknown", "マイキーIDがありません", "no MyKey ID yet"),
]


def test_the_platform_s_refusals_are_shown_in_both_languages(kiosk: Kiosk) -> None:
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            for code, _, _ in REFUSALS:
                _platform(kiosk).service_error = ServiceIdRefused(code, f"HTTP 409 {code}")
                form = await _open(pilot, app)
                await _form(pilot, form, KAWASAKI.issuer_id, GOOD)
                await _tap(pilot, app, 1, "1234")
                await until(pilot, lambda: isinstance(app.screen, ServiceIdConfirmScreen))
                await pilot.click("#send")
                await until(pilot, lambda: isinstance(app.screen, ResultScreen))
                seen.append(text_of(app.export_screenshot()))
                app.action_to_idle()

    asyncio.run(scenario())
    for (code, ja, en), text in zip(REFUSALS, seen, strict=True):
        assert ja in text and en in text, code
        assert code not in text and "409" not in text and "Traceback" not in text


def test_wrong_pin_ends_it_and_deletion_and_its_refusal_and_the_parts_failing(
    kiosk: Kiosk,
) -> None:
    app = KioskApp(kiosk)
    platform, scanner = _platform(kiosk), kiosk.scanner
    assert isinstance(scanner, MemoryScanner)
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            # a wrong PIN: the error screen, the PIN sent once, nothing registered
            form = await _open(pilot, app)
            await _form(pilot, form, KAWASAKI.issuer_id, GOOD)
            await _tap(pilot, app, 2, "9999")
            await until(pilot, lambda: isinstance(app.screen, ResultScreen))
            seen["pin"] = text_of(app.export_screenshot())
            await pilot.press("enter")
            # deletion: library, tap, confirm, delete
            form = await _open(pilot, app, "unregister")
            assert not form.query("#number")
            form.query_one("#issuer", Select).value = KAWASAKI.issuer_id
            form.next()
            await _tap(pilot, app, 1, "1234")
            await until(pilot, lambda: isinstance(app.screen, ServiceIdConfirmScreen))
            seen["delete-confirm"] = text_of(app.export_screenshot())
            await pilot.click("#send")
            await until(pilot, lambda: isinstance(app.screen, ResultScreen))
            seen["deleted"] = text_of(app.export_screenshot())
            await pilot.press("enter")
            platform.service_error = ServiceIdRefused("service_id.unknown")
            form = await _open(pilot, app, "unregister")
            form.query_one("#issuer", Select).value = KAWASAKI.issuer_id
            form.next()
            await _tap(pilot, app, 3, "0000")
            await until(pilot, lambda: isinstance(app.screen, ServiceIdConfirmScreen))
            await pilot.click("#send")
            await until(pilot, lambda: isinstance(app.screen, ResultScreen))
            seen["nothing"] = text_of(app.export_screenshot())
            await pilot.press("enter")
            # the barcode reader unplugged; the platform down; a terminal serving no library
            scanner.fail()
            form = await _open(pilot, app)
            await until(pilot, lambda: "reader" in str(form.query_one("#scan-state").render()))
            seen["scanner"] = text_of(app.export_screenshot())
            await pilot.press("escape")
            platform.issuers_error = PlatformUnreachable("connection refused")
            form = await _open(pilot, app)
            seen["down"] = _problems(form)
            await pilot.press("escape")
            platform.issuers_error, platform.served = None, []
            form = await _open(pilot, app)
            seen["none"] = _problems(form)
            form.next()  # nothing to pick: still on the form
            await pilot.pause()
            assert app.screen is form

    asyncio.run(scenario())
    assert "暗証番号がちがいます" in seen["pin"] and platform.registered == []
    assert _verifies(kiosk, 2) == 1
    assert "登録を削除します" in seen["delete-confirm"] and GOOD not in seen["delete-confirm"]
    assert "The registration was deleted" in seen["deleted"]
    assert platform.deleted == [KAWASAKI.issuer_id]
    assert "nothing to delete" in seen["nothing"] and "削除するものはありません" in seen["nothing"]
    assert platform.purposes == ["register", "unregister", "unregister"]
    assert "バーコードリーダーが読み取れません" in seen["scanner"]
    assert "barcode reader cannot be read" in seen["scanner"]
    assert "cannot" in seen["down"] or "reach" in seen["down"], seen["down"]
    assert "serves no library" in seen["none"]


def test_the_idle_countdown_wipes_a_registration_half_done(kiosk: Kiosk) -> None:
    app = KioskApp(kiosk)
    kept: list[object] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            form = await _open(pilot, app)
            await _form(pilot, form, KAWASAKI.issuer_id, GOOD)
            await _tap(pilot, app, 1, "1234")
            await until(pilot, lambda: isinstance(app.screen, ServiceIdConfirmScreen))
            session = app.service
            assert session is not None and session.proof is not None
            kept.append(session)
            confirm = app.screen
            assert isinstance(confirm, ServiceIdConfirmScreen)
            confirm.remaining = 1
            await until(pilot, lambda: isinstance(app.screen, IdleScreen), timeout=5)

    asyncio.run(scenario())
    (session,) = kept
    assert app.service is None
    assert session.proof is None and session.number is None and session.typed == ""  # type: ignore[attr-defined]
    assert _platform(kiosk).registered == []

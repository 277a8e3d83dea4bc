"""The patron flow on the real Textual app, driven headless, over pcscd and the real platform."""

from __future__ import annotations

import asyncio
import html
import sqlite3
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from tests.support.barcodes import decode_both
from tests.support.kiosk import demo_card_numbers, mykey_ids
from ui.app import KioskApp
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.wiring import Kiosk


async def _until(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the app did not reach the expected state"
        await pilot.pause(0.05)


def _text(svg: str) -> str:
    """The SVG export spells spaces as no-break spaces; compare text as a person reads it."""
    return html.unescape(svg).replace("\xa0", " ")


def _run_patron(kiosk: Kiosk, citizen: int, pin: str) -> tuple[KioskApp, list[str]]:
    """Tap, type the PIN, wait for the result; return the app and an SVG of every screen seen."""
    app = KioskApp(kiosk)
    screens: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            screens.append(_text(app.export_screenshot()))
            await pilot.press(str(citizen))
            await _until(pilot, lambda: isinstance(app.screen, PinScreen | ResultScreen))
            screens.append(_text(app.export_screenshot()))
            if isinstance(app.screen, PinScreen):
                await pilot.press(*pin, "enter")
                await _until(pilot, lambda: isinstance(app.screen, ResultScreen))
                screens.append(_text(app.export_screenshot()))

    asyncio.run(scenario())
    return app, screens


def test_tap_pin_and_the_label_reads_back_as_the_card_number(
    pcsc_kiosk: Kiosk, platform_server
) -> None:
    app, screens = _run_patron(pcsc_kiosk, 1, "1234")
    assert app.last_outcome is not None
    png = next(p for p in app.last_outcome.printed.artifacts if p.endswith(".png"))
    expected = f"A{demo_card_numbers(platform_server.db_path)[1]}A"
    assert decode_both(Image.open(png)) == ([expected], [expected])
    assert "ラベルをお取りください" in screens[-1]
    assert "Please take your label" in screens[-1]


def test_wrong_pin_shows_tries_left_and_is_not_retried(pcsc_kiosk: Kiosk) -> None:
    app, screens = _run_patron(pcsc_kiosk, 2, "9999")
    assert app.last_outcome is None
    assert "暗証番号がちがいます" in screens[-1]
    assert "2 more wrong tries" in screens[-1]
    assert pcsc_kiosk.demo is not None
    card = pcsc_kiosk.demo.card(2)
    verifies = [a for a in card.log if a[:4] == b"\x00\x20\x00\x80" and len(a) > 4]
    assert len(verifies) == 1


def test_unlinked_card_gets_a_clear_message(pcsc_kiosk: Kiosk) -> None:
    app, screens = _run_patron(pcsc_kiosk, 4, "4321")
    assert app.last_outcome is None
    assert "この図書館に登録されていません" in screens[-1]
    assert "not linked to this library" in screens[-1]


def test_the_mykey_id_appears_nowhere_the_kiosk_writes(pcsc_kiosk: Kiosk, platform_server) -> None:
    """Screens, label image and bytes, the log and every row of the kiosk's SQLite file."""
    app, screens = _run_patron(pcsc_kiosk, 1, "1234")
    _, more = _run_patron(pcsc_kiosk, 4, "4321")
    assert app.last_outcome is not None
    forbidden = mykey_ids(platform_server.db_path)
    card_number = demo_card_numbers(platform_server.db_path)[1]

    texts: dict[str, str] = {f"screen {i}": svg for i, svg in enumerate(screens + more)}
    for path in app.last_outcome.printed.artifacts:
        texts[path] = Path(path).read_bytes().decode("latin-1")
    texts["log"] = pcsc_kiosk.log_path.read_text(encoding="utf-8")
    db = sqlite3.connect(Path(pcsc_kiosk.config.data_dir) / "kiosk.sqlite")
    try:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in db.execute(f'SELECT * FROM "{table}"'):
                texts[f"row of {table}"] = texts.get(f"row of {table}", "") + repr(row)
    finally:
        db.close()
    assert any(k.startswith("row of") for k in texts), "the kiosk store should hold events"
    for where, text in texts.items():
        for mykey_id in forbidden:
            assert mykey_id not in text, f"MyKey ID leaked into {where}"
    # no card number in clear in the log or stored events either
    assert card_number not in texts["log"]
    assert all(card_number not in t for k, t in texts.items() if k.startswith("row of"))

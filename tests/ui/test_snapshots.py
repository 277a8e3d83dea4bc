"""SVG snapshots of every patron screen, committed and compared (``make snapshots`` updates them).

A change to what a patron sees must show up in review as a changed snapshot. The screens are
rendered by the real app with a kiosk that has no parts: screens never touch devices.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from appliance.config import load_config
from ui.app import KioskApp
from ui.screens import LANGUAGE_MODES, IdleScreen, PinScreen, ResultScreen

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

SCREENS: dict[str, Callable[[], object]] = {
    "idle": lambda: IdleScreen(""),
    "pin": lambda: PinScreen(3, 60),
    "pin-two-left": lambda: PinScreen(2, 60),
    "pin-last-try": lambda: PinScreen(1, 60),
    "done": lambda: ResultScreen("done.title", hint_key="done.hint"),
    "error-wrong-pin": lambda: ResultScreen(
        "error.pin.wrong", error=True, params={"tries_left": 2}
    ),
    "error-blocked": lambda: ResultScreen("error.pin.blocked", error=True),
    "error-foreign-card": lambda: ResultScreen("error.card.foreign", error=True),
    "error-unregistered": lambda: ResultScreen("error.platform.unregistered", error=True),
    "error-platform-down": lambda: ResultScreen("error.platform.down", error=True),
    "error-paper-out": lambda: ResultScreen("error.printer.paper", error=True),
}
# name -> (screen, language mode index into LANGUAGE_MODES, high contrast)
VARIANTS: dict[str, tuple[str, int, bool]] = {
    "idle-ja-only": ("idle", 1, False),
    "idle-en-only": ("idle", 2, False),
    "pin-en-only": ("pin-last-try", 2, False),
    "error-ja-only": ("error-unregistered", 1, False),
    "idle-high-contrast": ("idle", 0, True),
    "pin-high-contrast": ("pin", 0, True),
}
ALL = {name: (name, 0, False) for name in SCREENS} | VARIANTS


def _render(name: str) -> str:
    screen, languages, contrast = ALL[name]
    kiosk = SimpleNamespace(demo=None, config=load_config({"data_dir": "/nonexistent"}))
    app = KioskApp(kiosk)  # type: ignore[arg-type]

    async def scenario() -> str:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            app.languages = LANGUAGE_MODES[languages]
            if contrast:
                app.action_contrast()
            app.switch_screen(SCREENS[screen]())  # type: ignore[arg-type]
            await pilot.pause(0.2)
            return app.export_screenshot(title=name)

    return asyncio.run(scenario())


def _normalise(svg: str) -> str:
    """Textual names CSS classes after a hash of the terminal id; keep only what is drawn."""
    return re.sub(r"terminal-\d+", "terminal", svg)


@pytest.mark.parametrize("name", sorted(ALL))
def test_screen_matches_its_snapshot(name: str) -> None:
    svg = _normalise(_render(name))
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}: run `make snapshots` and review it")
        path.write_text(svg, encoding="utf-8")
    assert svg == path.read_text(encoding="utf-8"), f"{name} changed: `make snapshots`, review"


def test_the_language_key_cycles_both_japanese_english() -> None:
    kiosk = SimpleNamespace(demo=None, config=load_config({"data_dir": "/nonexistent"}))
    app = KioskApp(kiosk)  # type: ignore[arg-type]
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            for _ in range(3):
                await pilot.press("f3")
                await pilot.pause(0.1)
                seen.append(html.unescape(app.export_screenshot()).replace("\xa0", " "))

    asyncio.run(scenario())
    ja_only, en_only, both = seen
    assert "マイナンバーカードをかざしてください" in ja_only and "Tap your" not in ja_only
    assert "Tap your My Number Card" in en_only and "かざしてください" not in en_only
    assert "Tap your My Number Card" in both and "かざしてください" in both

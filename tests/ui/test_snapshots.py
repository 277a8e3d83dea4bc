"""SVG snapshots of every patron screen, committed and compared (``make snapshots`` updates them).

A change to what a patron sees must show up in review as a changed snapshot. The screens are
rendered by the real app with a kiosk that has no parts: screens never touch devices.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from appliance.config import load_config
from ui.app import KioskApp
from ui.screens import IdleScreen, PinScreen, ResultScreen

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

SCREENS: dict[str, Callable[[], object]] = {
    "idle": lambda: IdleScreen(""),
    "pin": lambda: PinScreen(3, 60),
    "pin-two-left": lambda: PinScreen(2, 60),
    "pin-last-try": lambda: PinScreen(1, 60),
    "done": lambda: ResultScreen("done.title", "自動貸出機でラベルを読ませてください。"),
    "error-wrong-pin": lambda: ResultScreen(
        "error.pin.wrong", error=True, params={"tries_left": 2}
    ),
    "error-blocked": lambda: ResultScreen("error.pin.blocked", error=True),
    "error-foreign-card": lambda: ResultScreen("error.card.foreign", error=True),
    "error-unregistered": lambda: ResultScreen("error.platform.unregistered", error=True),
    "error-platform-down": lambda: ResultScreen("error.platform.down", error=True),
    "error-paper-out": lambda: ResultScreen("error.printer.paper", error=True),
}


def _render(name: str) -> str:
    kiosk = SimpleNamespace(demo=None, config=load_config({"data_dir": "/nonexistent"}))
    app = KioskApp(kiosk)  # type: ignore[arg-type]

    async def scenario() -> str:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            app.switch_screen(SCREENS[name]())  # type: ignore[arg-type]
            await pilot.pause(0.2)
            return app.export_screenshot(title=name)

    return asyncio.run(scenario())


def _normalise(svg: str) -> str:
    """Textual names CSS classes after a hash of the terminal id; keep only what is drawn."""
    return re.sub(r"terminal-\d+", "terminal", svg)


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screen_matches_its_snapshot(name: str) -> None:
    svg = _normalise(_render(name))
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}: run `make snapshots` and review it")
        path.write_text(svg, encoding="utf-8")
    assert svg == path.read_text(encoding="utf-8"), f"{name} changed: `make snapshots`, review"

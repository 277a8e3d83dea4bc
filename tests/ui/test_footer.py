"""The key line at the bottom of the screens (ui/footer.py): one widget for all the keys, each
key still pressable by touch or mouse where it is drawn, and the same keys a screen's bindings
give Textual's own Footer.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from rich.cells import cell_len
from textual.widgets._footer import FooterKey

from appliance.config import load_config
from tests.ui.fakes import until
from ui.app import KioskApp
from ui.footer import KeyLine
from ui.screens import IdleScreen, PinScreen
from ui.staff import StaffPinScreen


def _app() -> KioskApp:
    return KioskApp(SimpleNamespace(demo=None, config=load_config({"data_dir": "/nonexistent"})))  # type: ignore[arg-type]


def _offset(line: KeyLine, key: str) -> int:
    """The middle of ``key``'s description, counted in cells as drawn."""
    left = 0
    for name, display, description, _, _ in line.keys:
        width = 1 + cell_len(display) + 1 + cell_len(description) + 1
        if name == key:
            return left + width - 3
        left += width
    raise AssertionError(f"{key} not on the key line")


def test_each_key_on_the_line_presses_its_own_binding() -> None:
    app = _app()
    seen: dict[str, object] = {}

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))
            keys = list(app.screen.query(FooterKey))
            assert [type(k) for k in keys] == [KeyLine]  # one widget, not one per key
            line = keys[0]
            assert isinstance(line, KeyLine)
            seen["keys"] = [name for name, *_ in line.keys]
            await pilot.click(KeyLine, offset=(_offset(line, "f5"), 0))
            await pilot.pause()
            seen["large"] = app.large_text
            await pilot.click(KeyLine, offset=(_offset(line, "f3"), 0))
            await pilot.pause()
            seen["languages"] = [lang.value for lang in app.languages]
            line = app.screen.query_one(KeyLine)
            await pilot.click(KeyLine, offset=(_offset(line, "f2"), 0))
            await until(pilot, lambda: isinstance(app.screen, StaffPinScreen))

    asyncio.run(scenario())
    assert seen == {"keys": ["f3", "f4", "f5", "f2"], "large": True, "languages": ["ja"]}


def test_a_screen_s_own_key_comes_first_and_presses() -> None:
    app = _app()

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))
            app.switch_screen(PinScreen(3, 60))
            await until(pilot, lambda: isinstance(app.screen, PinScreen))
            line = app.screen.query_one(KeyLine)
            assert [name for name, *_ in line.keys] == ["escape", "f3", "f4", "f5", "f2"]
            await pilot.click(KeyLine, offset=(_offset(line, "escape"), 0))  # Cancel
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))

    asyncio.run(scenario())

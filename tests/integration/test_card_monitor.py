"""Card insertion and removal seen through pcscd, and the kiosk screen that follows them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from drivers.card.monitor import PresenceMonitor
from drivers.card.virtual.inprocess import CardDeck
from tests.support.pcsc import FIRST_READER, VpcdSlot
from ui.app import KioskApp
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.wiring import Kiosk


def test_insertion_and_removal_are_reported_as_they_happen(vpcd_slot: VpcdSlot) -> None:
    seen: list[bool] = []
    changed = threading.Event()

    def on_change(present: bool) -> None:
        seen.append(present)
        changed.set()

    monitor = PresenceMonitor(FIRST_READER).start(on_change)
    try:
        assert changed.wait(5) and seen == [False]
        for expected in (True, False, True):
            changed.clear()
            if expected:
                vpcd_slot.insert(CardDeck().card(1))
            else:
                vpcd_slot.remove()
            assert changed.wait(5), f"no event for present={expected}"
            assert seen[-1] is expected
    finally:
        monitor.stop()
    assert seen == [False, True, False, True]


async def _until(pilot, condition: Callable[[], bool], timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the app did not reach the expected state"
        await pilot.pause(0.05)


def test_a_card_laid_on_the_reader_starts_the_flow_and_lifting_it_wipes_it(
    pcsc_kiosk: Kiosk, vpcd_slot: VpcdSlot
) -> None:
    """No demo key: the card arrives as a patron's would, and the screen follows pcscd."""
    app = KioskApp(pcsc_kiosk)

    async def scenario() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await _until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await asyncio.to_thread(vpcd_slot.insert, CardDeck().card(1))
            await _until(pilot, lambda: isinstance(app.screen, PinScreen))
            await asyncio.to_thread(vpcd_slot.remove)
            await _until(pilot, lambda: isinstance(app.screen, ResultScreen))
            assert app._pending is None  # what the patron left is gone

    asyncio.run(scenario())

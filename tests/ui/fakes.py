"""A kiosk for screen tests: the real flow, the in-process virtual card and the virtual printer,
with a scripted platform in place of the server (so a card can be linked at several libraries,
or any error can happen at any step). Unit-test fakes only: the integration tests use the real
platform over HTTP and the card through pcscd.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import load_config
from appliance.flow import TapFlow
from appliance.ports import DeviceState, DeviceStatus
from appliance.values import (
    CardNumber,
    CardProof,
    Challenge,
    CheckScheme,
    Handover,
    Issuer,
    LookupMatch,
)
from drivers.card.virtual.inprocess import VirtualReader
from drivers.printer.virtual import VirtualPrinter
from ui.wiring import DemoCards, Kiosk

KAWASAKI = Issuer("000001", "川崎市立図書館", check=CheckScheme.MOD10_W21, lengths=(10,))
YOKOHAMA = Issuer("000002", "横浜市立図書館", codabar_start="B", codabar_stop="B")
SHIBUYA = Issuer("000003", "渋谷区立図書館")
ZUSHI = Issuer("000004", "逗子市立図書館")
NUMBERS = {"000001": "1800000000", "000002": "20240017", "000003": "30001234", "000004": "4567"}


def match(issuer: Issuer, handover: Handover | None = None, **kw: Any) -> LookupMatch:
    if handover is not None:
        issuer = Issuer(issuer.issuer_id, issuer.name, issuer.symbology, issuer.codabar_start,
                        issuer.codabar_stop, issuer.check, issuer.lengths, handover)  # fmt: skip
    return LookupMatch(CardNumber(issuer, NUMBERS[issuer.issuer_id]), **kw)


class ScriptedPlatform:
    """Answers challenges; ``lookup`` returns ``matches`` or raises ``error``.

    ``gate``, when set, holds the lookup until the test lets it go, so a test can look at the
    progress screen while the kiosk is waiting for the platform.
    """

    def __init__(self, matches: list[LookupMatch]) -> None:
        self.matches = matches
        self.error: BaseException | None = None
        self.gate: threading.Event | None = None
        self.proofs: list[CardProof] = []

    def challenge(self, purpose: str = "lookup") -> Challenge:
        return Challenge(os.urandom(32), "00052459", purpose)

    def lookup(self, proof: CardProof) -> list[LookupMatch]:
        self.proofs.append(proof)
        if self.gate is not None:
            self.gate.wait(10)
        if self.error is not None:
            raise self.error
        return list(self.matches)

    def status(self) -> DeviceStatus:
        return DeviceStatus("platform", DeviceState.OK, "scripted")

    def close(self) -> None:
        pass


class MemoryOutbox:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, str | int]]] = []

    def record(self, kind: str, **fields: str | int) -> None:
        self.events.append((kind, fields))


class FixedClock:
    def today(self) -> dt.date:
        return dt.date(2026, 12, 1)


def scripted_kiosk(tmp_path: Path, matches: list[LookupMatch], **settings: Any) -> Kiosk:
    config = load_config({"data_dir": str(tmp_path), "card_reader": "virtual", **settings})
    reader = VirtualReader()
    platform = ScriptedPlatform(matches)
    printer = VirtualPrinter(tmp_path / "labels")
    flow = TapFlow(reader=reader, platform=platform, printer=printer, outbox=MemoryOutbox(),
                   clock=FixedClock())  # fmt: skip
    return Kiosk(config, flow, reader, printer, platform, None, tmp_path / "labels",  # type: ignore[arg-type]
                 tmp_path / "kiosk.log", DemoCards(reader, "virtual"))  # fmt: skip


def text_of(svg: str) -> str:
    """The SVG export spells spaces as no-break spaces; compare text as a person reads it."""
    return html.unescape(svg).replace("\xa0", " ")


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the app did not reach the expected state"
        await pilot.pause(0.05)
    await pilot.pause(0.1)  # let the new screen lay itself out before anyone looks

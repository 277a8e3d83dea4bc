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
from appliance.errors import PaperOut, ServiceIdRefused
from appliance.flow import TapFlow
from appliance.ports import DeviceState, DeviceStatus, RegisteredServiceId
from appliance.spool import MemoryJobs
from appliance.values import (
    CardNumber,
    CardProof,
    Challenge,
    CheckScheme,
    Handover,
    Issuer,
    LabelJob,
    LookupMatch,
    PrintedLabel,
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
        # staff registrations (ServiceIds + IssuerList ports)
        self.served: list[Issuer] = [KAWASAKI, YOKOHAMA]
        self.issuers_error: BaseException | None = None
        self.service_error: ServiceIdRefused | None = None
        self.purposes: list[str] = []
        self.registered: list[tuple[str, str, bool]] = []
        self.deleted: list[str] = []

    def challenge(self, purpose: str = "lookup") -> Challenge:
        self.purposes.append(purpose)
        return Challenge(os.urandom(32), "00052459", purpose)

    def issuers(self) -> list[Issuer]:
        if self.issuers_error is not None:
            raise self.issuers_error
        return list(self.served)

    def register_service_id(
        self, proof: CardProof, issuer_id: str, card_number: str, *, address_notice: bool
    ) -> RegisteredServiceId:
        self.proofs.append(proof)
        if self.service_error is not None:
            raise self.service_error
        self.registered.append((issuer_id, card_number, address_notice))
        return RegisteredServiceId(issuer_id, card_number, address_notice)

    def delete_service_id(self, proof: CardProof, issuer_id: str) -> None:
        self.proofs.append(proof)
        if self.service_error is not None:
            raise self.service_error
        self.deleted.append(issuer_id)

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


class PaperOutPrinter(VirtualPrinter):
    """The virtual printer with a paper sensor a test controls: out = refused, nothing printed."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.paper_out = False

    def print_label(self, job: LabelJob) -> PrintedLabel:
        if self.paper_out:
            raise PaperOut("paper sensor: out")
        return super().print_label(job)


def scripted_kiosk(tmp_path: Path, matches: list[LookupMatch], **settings: Any) -> Kiosk:
    config = load_config({"data_dir": str(tmp_path), "card_reader": "virtual", **settings})
    reader = VirtualReader()
    platform = ScriptedPlatform(matches)
    printer = PaperOutPrinter(tmp_path / "labels")
    jobs = MemoryJobs()  # the LabelJobs fake; the kiosk's own is sync.jobs.JobStore
    flow = TapFlow(reader=reader, platform=platform, printer=printer, outbox=MemoryOutbox(),
                   clock=FixedClock(), jobs=jobs)  # fmt: skip
    kiosk = Kiosk(config, flow, reader, printer, platform, None, tmp_path / "labels",  # type: ignore[arg-type]
                  tmp_path / "kiosk.log", DemoCards(reader, "virtual"))  # fmt: skip
    kiosk.jobs = jobs  # type: ignore[assignment]
    return kiosk


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

"""The ports: what the core needs from the outside world, as ``typing.Protocol``.

Each port has a real adapter and a shipped fake (STYLE.md 2):

=============  ===========================================  ==================================
port           real adapter                                 fake / virtual
=============  ===========================================  ==================================
CardReader     drivers.card.pcsc.PcscReader (pyscard)       drivers.card.virtual (in-process)
Platform       sync.client.PlatformClient (httpx)           tests use the real server
LabelPrinter   drivers.printer.escpos_printer.EscposPrinter  drivers.printer.virtual
Outbox         sync.store.LocalStore                        appliance.fakes.MemoryOutbox
ClockSync      drivers.clock.TimesyncClock (timesyncd)      drivers.clock.AssumeSynced
=============  ===========================================  ==================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from appliance.values import CardProof, Challenge, LabelJob, LookupMatch, Pin, PrintedLabel


class DeviceState(Enum):
    OK = "ok"
    WARNING = "warning"
    FAULT = "fault"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeviceStatus:
    """One line of ``kioskctl doctor``: which part, its state, and why."""

    part: str
    state: DeviceState
    detail: str


class CardSession(Protocol):
    """An open connection to one JPKI card. Every method raises only ``CardError``."""

    def read_certificate(self) -> bytes:
        """The user-authentication certificate (DER), readable without a PIN."""
        ...

    def pin_tries_left(self) -> int:
        """Tries left for the user-authentication PIN, without spending one."""
        ...

    def verify_pin(self, pin: Pin) -> None:
        """Send the PIN to the card exactly once; raise ``WrongPin`` / ``PinBlocked``."""
        ...

    def sign(self, digest_info: bytes) -> bytes:
        """RSA signature over a DER DigestInfo with the user-authentication key."""
        ...

    def close(self) -> None: ...


class CardReader(Protocol):
    def connect(self, timeout: float = 5.0) -> CardSession:
        """Wait up to ``timeout`` seconds for a card, then open a JPKI session on it."""
        ...

    def status(self) -> DeviceStatus: ...


class Platform(Protocol):
    def challenge(self, purpose: str = "lookup") -> Challenge: ...

    def lookup(self, proof: CardProof) -> list[LookupMatch]:
        """The library card numbers linked to this card, for the issuers this terminal serves."""
        ...

    def status(self) -> DeviceStatus: ...


class LabelPrinter(Protocol):
    def print_label(self, job: LabelJob) -> PrintedLabel: ...

    def status(self) -> DeviceStatus: ...


class Outbox(Protocol):
    """Non-personal events for the platform (counts, faults). Never a card number or PIN."""

    def record(self, kind: str, **fields: str | int) -> None: ...


class Clock(Protocol):
    def today(self) -> dt.date: ...


class ClockSync(Protocol):
    """Whether the wall clock can be trusted for a label's date (image, issue 7).

    The Pi has no RTC: until NTP answers, ``today()`` is the image's build day or worse. Real
    adapter ``drivers.clock.TimesyncClock`` (systemd-timesyncd); ``drivers.clock.AssumeSynced``
    for development machines.
    """

    def synchronised(self) -> bool: ...

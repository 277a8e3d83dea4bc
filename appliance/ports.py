"""The ports: what the core needs from the outside world, as ``typing.Protocol``.

Each port has a real adapter and a shipped fake (STYLE.md 2):

=============  ===========================================  ==================================
port           real adapter                                 fake / virtual
=============  ===========================================  ==================================
CardReader     drivers.card.pcsc.PcscReader (pyscard)       drivers.card.virtual (in-process)
Platform       sync.client.PlatformClient (httpx)           tests use the real server
LabelPrinter   drivers.printer.escpos_printer.EscposPrinter  drivers.printer.virtual
Outbox         sync.store.LocalStore                        appliance.fakes.MemoryOutbox
Handoff        drivers.handoff.hid / .serial_wedge          drivers.handoff.memory
PlatformLink   sync.flusher.OutboxFlusher                   sync.flusher.FixedLink
LabelJobs      sync.jobs.JobStore (SQLite)                  appliance.spool.MemoryJobs
ServiceIds     sync.client.PlatformClient (httpx)           tests use the real server
ClockSync      drivers.clock.TimesyncClock (timesyncd)      drivers.clock.AssumeSynced
BarcodeScanner drivers.scanner.serial_scanner (pyserial)    drivers.scanner.memory
IssuerList     sync.client.PlatformClient (httpx)           tests use the real server
=============  ===========================================  ==================================
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from appliance.daytokens import DayToken
from appliance.errors import LabelJobUnreadable
from appliance.values import (
    CardNumber,
    CardProof,
    Challenge,
    Issuer,
    LabelJob,
    LookupMatch,
    Pin,
    PrintedLabel,
)


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


class DayTokens(Protocol):
    """Token labels (SIP2 gateway): what to print instead of the real card number.

    The adapter shares its encrypted store with the gateway process, which swaps the token back
    for the real number at the self-checkout, on the day and within the hours it was issued for.
    """

    def token_for(self, number: CardNumber) -> DayToken | None:
        """Today's token for ``number``; ``None`` where its issuer prints plain labels."""
        ...


class JobState(Enum):
    """Where a label job is. Only ``PENDING`` jobs are ever sent to the printer."""

    PENDING = "pending"  # waiting for the printer (paper out, cover open, offline)
    SENDING = "sending"  # claimed for one attempt; left here if the attempt may have printed
    PRINTED = "printed"  # done; card number wiped
    CANCELLED = "cancelled"  # given up by staff or at the end of the day; card number wiped


@dataclass(frozen=True)
class JobEntry:
    """One held or uncertain label job as staff see it: never the whole card number.

    ``state`` ``PENDING`` = held (prints by itself once the printer is back); ``SENDING`` =
    uncertain (staff look at the printer: reprint or cancel). ``problem`` is set when the job
    cannot be read on this device (``LabelJobUnreadable``): it never prints; cancel it.
    """

    job_id: str
    state: JobState
    issued_on: str
    issuer_id: str
    masked: str  # CardNumber.masked(); "" when the job cannot be read
    problem: LabelJobUnreadable | None = None


class LabelJobs(Protocol):
    """Label jobs kept until printed or cancelled, so that none is lost and none printed twice.

    Each change is durable before the call returns. A card number is kept only while its job is
    ``PENDING`` or ``SENDING``, and never past the end of the job's day.
    """

    def add(self, job: LabelJob) -> None:
        """Keep a new job as ``PENDING``; the same ``job_id`` twice is a ``ValueError``."""
        ...

    def pending(self) -> list[LabelJob]:
        """``PENDING`` jobs, oldest first."""
        ...

    def claim(self, job_id: str) -> bool:
        """``PENDING`` -> ``SENDING`` atomically; False if the job is not pending (any more)."""
        ...

    def release(self, job_id: str) -> None:
        """``SENDING`` -> ``PENDING``: the printer refused the job before printing anything."""
        ...

    def printed(self, job_id: str) -> None:
        """-> ``PRINTED``, card number wiped."""
        ...

    def cancel(self, job_id: str) -> None:
        """-> ``CANCELLED``, card number wiped (staff gave up, or the day ended)."""
        ...

    def uncertain(self) -> list[LabelJob]:
        """``SENDING`` jobs no attempt is running for: they may have printed; staff decide."""
        ...

    def state(self, job_id: str) -> JobState | None: ...

    def expire(self, today: dt.date) -> int:
        """Forget every job of an earlier day (wiping its number); how many were never printed."""
        ...

    def entries(self) -> list[JobEntry]:
        """Held and uncertain jobs, oldest first, for a staff list (masked numbers only)."""
        ...


class Outbox(Protocol):
    """Non-personal events for the platform (counts, faults). Never a card number or PIN."""

    def record(self, kind: str, **fields: str | int) -> None: ...


class Connectivity(Enum):
    """How the kiosk stands with the platform, as the status line shows it."""

    CONNECTING = "connecting"  # no answer yet since start-up
    ONLINE = "online"  # the last contact worked
    OFFLINE = "offline"  # unreachable: events wait in the outbox, lookups fail fast
    REJECTED = "rejected"  # the platform refuses this terminal: staff / technician needed

    @property
    def key(self) -> str:
        """The message key of the status line (``appliance.messages``)."""
        return f"connectivity.{self.value}"


@dataclass(frozen=True)
class LinkStatus:
    state: Connectivity
    pending: int  # outbox events not yet accepted by the platform


class PlatformLink(Protocol):
    """The background link to the platform (outbox delivery); the UI polls it, cheaply."""

    def link_status(self) -> LinkStatus: ...


class Clock(Protocol):
    def today(self) -> dt.date: ...


class Handoff(Protocol):
    """Method C: types a card number into the library system's card-number field.

    Raises only ``HandoffError``. What it types is the bare number, as a person would type it.
    """

    def send(self, text: str) -> None: ...

    def status(self) -> DeviceStatus: ...


# -- server / sync area (issue 5): the staff's service-ID registration ---------------------------


@dataclass(frozen=True)
class RegisteredServiceId:
    """What the platform stored, for the staff's confirmation screen (never the MyKey ID)."""

    issuer_id: str
    card_number: str = field(repr=False)
    address_notice: bool


class ServiceIds(Protocol):
    """Service-ID registration at the counter (staff flow).

    Each call needs a proof over a fresh challenge of its own purpose: ``challenge("register")``
    for :meth:`register_service_id`, ``challenge("unregister")`` for :meth:`delete_service_id`
    (the patron's PIN consents). Refusals raise ``ServiceIdRefused`` with the reason's message
    key; a retried call with the same proof is harmless (idempotency key from the nonce).
    """

    def challenge(self, purpose: str = "lookup") -> Challenge: ...

    def register_service_id(
        self, proof: CardProof, issuer_id: str, card_number: str, *, address_notice: bool
    ) -> RegisteredServiceId: ...

    def delete_service_id(self, proof: CardProof, issuer_id: str) -> None: ...


class ClockSync(Protocol):
    """Whether the wall clock can be trusted for a label's date (image, issue 7).

    The Pi has no RTC: until NTP answers, ``today()`` is the image's build day or worse. Real
    adapter ``drivers.clock.TimesyncClock`` (systemd-timesyncd); ``drivers.clock.AssumeSynced``
    for development machines.
    """

    def synchronised(self) -> bool: ...


# -- UI (issue 6): the counter's barcode reader, the issuers a staff member may register at ------


class BarcodeScanner(Protocol):
    """A barcode reader at the counter that reads library cards (the staff's registration).

    Raises only ``ScannerError``. What it returns is the scanned text as the reader sent it,
    without the line end; whether it is a valid card number is the issuer's rules' business.
    """

    def read(self, timeout: float) -> str | None:
        """The next scanned code, or ``None`` if nothing was scanned within ``timeout`` s."""
        ...

    def status(self) -> DeviceStatus: ...

    def close(self) -> None: ...


class IssuerList(Protocol):
    """The ID-issuers (libraries) this terminal serves, with their card-number rules."""

    def issuers(self) -> list[Issuer]: ...

"""The composition root: the one place that decides which adapter serves which port.

``build_kiosk`` turns a :class:`KioskConfig` into running parts. On the embedded default (no
``platform_url``) it also starts the local reference platform on loopback with its demo data, so
``make run`` needs no hardware, no network and no config.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from appliance.config import KioskConfig
from appliance.errors import PlatformUnreachable
from appliance.flow import TapFlow
from appliance.messages import CATALOGUE, Message
from appliance.ports import (
    BarcodeScanner,
    CardReader,
    DeviceState,
    DeviceStatus,
    Handoff,
    LabelPrinter,
)
from appliance.spool import ResumeLoop
from drivers.card.monitor import PresenceMonitor
from drivers.card.pcsc import PcscReader
from drivers.card.presence import wait_until
from drivers.card.virtual.card import CardKind, VirtualJpkiCard
from drivers.card.virtual.inprocess import CardDeck, VirtualReader
from drivers.card.virtual.vpcd import VpcdBridge
from drivers.clock import AssumeSynced, TimesyncClock
from drivers.handoff import open_handoff
from drivers.printer.setup import printer_from_config
from drivers.scanner import open_scanner
from drivers.sip2 import kiosk as sip2_kiosk
from drivers.sip2.status import read_status_file
from sync.client import PlatformClient
from sync.credentials import TerminalIdentity, open_terminal
from sync.devicesecret import secret_path
from sync.fingerprint import board_fingerprint
from sync.flusher import OutboxFlusher
from sync.jobs import JobStore
from sync.registration import PlatformRegistrar
from sync.store import LocalStore
from sync.tls import platform_verify
from ui.child import free_port, stop_child

if TYPE_CHECKING:  # kioskctl builds a kiosk too, and must not pay for importing Textual
    from ui.setup import TerminalRegistrar

DEMO_ISSUER_ID = "000001"  # server.demo's library; wiring must not import the server package
# server.demo's terminal: the sample entry of the ministry's form II (tests check both agree)
DEMO_TERMINAL_ID, DEMO_TERMINAL_PASSWORD = "00052459", "a912lkfja"

log = logging.getLogger(__name__)

VPCD_READER = "Virtual PCD 00 00"


class SystemClock:
    def today(self) -> dt.date:
        return dt.date.today()


def setup_logging(data_dir: Path) -> Path:
    """Log to ``kiosk.log`` in the data folder. The log never gets a PIN or card number."""
    path = data_dir / "kiosk.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


class EmbeddedPlatform:
    """The reference MyKey Platform as a child process on loopback, with its demo data."""

    def __init__(self, data_dir: Path) -> None:
        self._db = data_dir / "platform.sqlite"
        self._log = data_dir / "platform.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout: float = 30.0) -> str:
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        with open(self._log, "ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--db", str(self._db),
                 "--host", "127.0.0.1", "--port", str(port), "--demo"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PlatformUnreachable(f"reference platform exited; see {self._log}")
            try:
                if httpx.get(f"{self.base_url}/v1/health", timeout=1).status_code == 200:
                    return self.base_url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise PlatformUnreachable(f"reference platform did not start; see {self._log}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_child(proc)


class DemoCards:
    """Put a demo citizen's virtual card on the reader (the "tap" key of ``make run``)."""

    def __init__(self, reader: CardReader, mode: str) -> None:
        self._deck = CardDeck()
        self._reader = reader
        self._mode = mode
        self._bridge: VpcdBridge | None = None

    def tap(self, citizen: int, kind: CardKind = CardKind.MY_NUMBER) -> None:
        self.remove()
        card = self._deck.card(citizen, kind)
        if self._mode == "vpcd":
            # pcscd must see the reader empty before it takes the next card as a new one
            wait_until(VPCD_READER, present=False, timeout=5)
            self._bridge = VpcdBridge(card).insert()
        elif isinstance(self._reader, VirtualReader):
            self._reader.slot.insert(card)

    def remove(self) -> None:
        if self._bridge is not None:
            self._bridge.remove()
            self._bridge = None
        if isinstance(self._reader, VirtualReader):
            self._reader.slot.remove()

    @property
    def bridge(self) -> VpcdBridge | None:
        return self._bridge

    def card(self, citizen: int, kind: CardKind = CardKind.MY_NUMBER) -> VirtualJpkiCard:
        return self._deck.card(citizen, kind)


@dataclass
class Kiosk:
    config: KioskConfig
    flow: TapFlow
    reader: CardReader
    printer: LabelPrinter
    platform: PlatformClient
    store: LocalStore
    labels_dir: Path
    log_path: Path
    demo: DemoCards | None = None
    _embedded: EmbeddedPlatform | None = field(default=None, repr=False)
    link: OutboxFlusher | None = None  # the PlatformLink port: connectivity for the status line
    jobs: JobStore | None = None
    _resume: ResumeLoop | None = field(default=None, repr=False)
    # UI (issue 6): method C device, terminal registration, each library's label instructions
    handoff: Handoff | None = None
    registrar: TerminalRegistrar | None = None  # the setup wizard's form-10 call
    needs_setup: bool = False  # no enrolled identity and no password: the setup wizard first
    instructions: dict[str, Message] = field(default_factory=dict)
    scanner: BarcodeScanner | None = None  # the counter's barcode reader (registrations)

    def statuses(self) -> list[DeviceStatus]:
        """Every part's state: what ``kioskctl doctor`` prints and diagnostics shows.

        Blocking (the platform is asked): call it off the UI loop. A check that fails in an
        unexpected way becomes a ``fault`` line instead of taking the caller down.
        """
        results: list[DeviceStatus] = []
        for part in (self.reader, self.printer, self.platform):
            try:
                results.append(part.status())
            except Exception as exc:  # a status check must never take the screen down
                results.append(DeviceStatus(type(part).__name__, DeviceState.FAULT, str(exc)))
        if self.handoff is not None:  # method C: the HID gadget or serial wedge
            results.append(self.handoff.status())
        if self.scanner is not None:
            results.append(self.scanner.status())
        if self.config.token_issuer:  # token labels need the gateway running beside the kiosk
            results.append(read_status_file(sip2_kiosk.paths(self.config)[2]))
        return results

    presence: PresenceMonitor | None = None  # pcsc/vpcd readers: the UI starts it

    def close(self) -> None:
        if self.presence is not None:
            self.presence.stop()
        if self.scanner is not None:
            self.scanner.close()
        if self._resume is not None:
            self._resume.stop()
        if self.demo is not None:
            self.demo.remove()
        if self.link is not None:
            self.link.stop()
        self.platform.close()
        self.store.close()
        if self.jobs is not None:
            self.jobs.close()
        if self._embedded is not None:
            self._embedded.stop()


def _reader_name(config: KioskConfig) -> str:
    return config.reader_name or (VPCD_READER if config.card_reader == "vpcd" else "")


def _reader(config: KioskConfig) -> CardReader:
    if config.card_reader == "virtual":
        return VirtualReader(
            chunk=config.read_chunk_bytes, accept_phone=config.accept_phone_certificates
        )
    name = _reader_name(config)
    return PcscReader(
        name, chunk=config.read_chunk_bytes, accept_phone=config.accept_phone_certificates
    )


def terminal_password(config: KioskConfig) -> str:
    """The password to enrol with: the configured one; on the embedded demo (no
    ``platform_url``) the demo terminal's when none is configured. A real kiosk never gets a
    default: it uses what the technician configured or the wizard enrolled."""
    if not config.platform_url and not config.terminal_password:
        if config.terminal_id == DEMO_TERMINAL_ID:
            return DEMO_TERMINAL_PASSWORD
    return config.terminal_password


def build_kiosk(config: KioskConfig) -> Kiosk:
    """Every part, started. Raises ``ConfigError`` (e.g. an unusable ``platform_ca``) or
    ``ReEnrolmentNeeded`` before anything runs; a kiosk that is not enrolled and has no
    password comes back with ``needs_setup`` (its platform calls raise ``SetupNeeded``)."""
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    verify = platform_verify(config.platform_ca, data_dir)  # a bad CA file stops the start
    log_path = setup_logging(data_dir)
    store = LocalStore(data_dir / "kiosk.sqlite")
    fingerprint = board_fingerprint()
    try:  # before anything starts: a copied database stops here, ReEnrolmentNeeded
        identity = open_terminal(
            store,
            secret_path(config.device_secret, data_dir),
            fingerprint,
            terminal_id=config.terminal_id,
            password=terminal_password(config),
        )
    except BaseException:
        store.close()
        raise
    needs_setup = identity is None
    if identity is None:  # the wizard registers and enrols; until then calls say SetupNeeded
        identity = TerminalIdentity(config.terminal_id, "", fingerprint)
    embedded: EmbeddedPlatform | None = None
    base_url = config.platform_url
    if not base_url:
        embedded = EmbeddedPlatform(data_dir)
        base_url = embedded.start()
    labels_dir = data_dir / "labels"
    printer = printer_from_config(config, labels_dir)
    platform = PlatformClient(
        base_url, identity.terminal_id, identity.password, identity.fingerprint, verify=verify
    )
    # Started even before the wizard's enrolment: without a password the client sends nothing
    # (SetupNeeded, so no failed sign-ins get the terminal throttled) and the status line says
    # "rejected" instead of "connecting" forever.
    link = OutboxFlusher(store, platform).start()
    # pending label jobs, beside the outbox; numbers sealed under the device secret
    jobs = JobStore(data_dir / "kiosk.sqlite", secret_path(config.device_secret, data_dir))
    reader = _reader(config)
    demo = DemoCards(reader, config.card_reader) if config.card_reader != "pcsc" else None
    flow = TapFlow(
        reader=reader,
        platform=platform,
        printer=printer,
        outbox=link,
        clock=SystemClock(),
        pin_required=config.pin_required,
        tokens=sip2_kiosk.kiosk_tokens(config),
        jobs=jobs,
        # image (issue 7): the label's date needs NTP; off by default outside the image
        clock_sync=TimesyncClock() if config.require_clock_sync else AssumeSynced(),
    )
    resume = ResumeLoop(flow.spool, config.printer_retry_s).start()
    log.info("kiosk started: reader=%s platform=%s", config.card_reader, base_url)
    kiosk = Kiosk(config, flow, reader, printer, platform, store, labels_dir, log_path, demo,
                  embedded, link, jobs, resume)  # fmt: skip
    kiosk.handoff = open_handoff(config)
    kiosk.scanner = open_scanner(config)
    kiosk.registrar = PlatformRegistrar(
        base_url,
        identity.fingerprint,
        store,
        secret_path(config.device_secret, data_dir),
        verify=verify,
        kiosk_client=platform,
    )
    kiosk.needs_setup = needs_setup
    if config.card_reader != "virtual":
        kiosk.presence = PresenceMonitor(_reader_name(config))
    if embedded is not None:  # the demo library's own instructions, as a library would write them
        kiosk.instructions[DEMO_ISSUER_ID] = CATALOGUE["demo.instructions"]
    return kiosk

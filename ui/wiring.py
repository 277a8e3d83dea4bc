"""The composition root: the one place that decides which adapter serves which port.

``build_kiosk`` turns a :class:`KioskConfig` into running parts. On the embedded default (no
``platform_url``) it also starts the local reference platform on loopback with its demo data, so
``make run`` needs no hardware, no network and no config.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from appliance.config import KioskConfig
from appliance.errors import PlatformUnreachable
from appliance.flow import TapFlow
from appliance.ports import CardReader
from drivers.card.pcsc import PcscReader
from drivers.card.presence import wait_until
from drivers.card.virtual.card import CardKind, VirtualJpkiCard
from drivers.card.virtual.inprocess import CardDeck, VirtualReader
from drivers.card.virtual.vpcd import VpcdBridge
from drivers.clock import AssumeSynced, TimesyncClock
from drivers.printer.render import LabelLayout
from drivers.printer.virtual import VirtualPrinter
from sync.client import PlatformClient
from sync.fingerprint import board_fingerprint
from sync.store import LocalStore

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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedPlatform:
    """The reference MyKey Platform as a child process on loopback, with its demo data."""

    def __init__(self, data_dir: Path) -> None:
        self._db = data_dir / "platform.sqlite"
        self._log = data_dir / "platform.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self, timeout: float = 30.0) -> str:
        port = _free_port()
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
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
    printer: VirtualPrinter
    platform: PlatformClient
    store: LocalStore
    labels_dir: Path
    log_path: Path
    demo: DemoCards | None = None
    _embedded: EmbeddedPlatform | None = field(default=None, repr=False)

    def close(self) -> None:
        if self.demo is not None:
            self.demo.remove()
        self.platform.close()
        self.store.close()
        if self._embedded is not None:
            self._embedded.stop()


def _reader(config: KioskConfig) -> CardReader:
    if config.card_reader == "virtual":
        return VirtualReader(
            chunk=config.read_chunk_bytes, accept_phone=config.accept_phone_certificates
        )
    name = config.reader_name or (VPCD_READER if config.card_reader == "vpcd" else "")
    return PcscReader(
        name, chunk=config.read_chunk_bytes, accept_phone=config.accept_phone_certificates
    )


def build_kiosk(config: KioskConfig) -> Kiosk:
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = setup_logging(data_dir)
    embedded: EmbeddedPlatform | None = None
    base_url = config.platform_url
    if not base_url:
        embedded = EmbeddedPlatform(data_dir)
        base_url = embedded.start()
    labels_dir = data_dir / "labels"
    printer = VirtualPrinter(labels_dir, LabelLayout(width_dots=config.paper_width_dots))
    platform = PlatformClient(
        base_url, config.terminal_id, config.terminal_password, board_fingerprint()
    )
    store = LocalStore(data_dir / "kiosk.sqlite")
    reader = _reader(config)
    demo = DemoCards(reader, config.card_reader) if config.card_reader != "pcsc" else None
    flow = TapFlow(
        reader=reader,
        platform=platform,
        printer=printer,
        outbox=store,
        clock=SystemClock(),
        pin_required=config.pin_required,
        # image (issue 7): the label's date needs NTP; off by default outside the image
        clock_sync=TimesyncClock() if config.require_clock_sync else AssumeSynced(),
    )
    log.info("kiosk started: reader=%s platform=%s", config.card_reader, base_url)
    return Kiosk(config, flow, reader, printer, platform, store, labels_dir, log_path, demo,
                 embedded)  # fmt: skip

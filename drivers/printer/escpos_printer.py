"""The real ``LabelPrinter``: our label bytes over a python-escpos connection.

Connections (python-escpos classes): ``usb`` (``Usb``, pyusb; the image installs the udev rule
``image/overlay/etc/udev/rules.d/60-kiosk-printer.rules`` so the kiosk user may open it),
``serial`` (``Serial``, pyserial), ``network`` (``Network``, TCP 9100) and ``file`` (``File``, e.g.
``/dev/usb/lp0`` through the kernel's usblp driver).

One label = open, ask the real-time status (:mod:`drivers.printer.status`), send, close. The
status comes *before* the label so that a printer with no paper gets nothing: most ESC/POS
printers keep data received while out of paper and print it after a reload, so a label sent
then and sent again by the spool would come out twice. Where the connection cannot read
(``file``), or the printer does not answer in ``status_timeout_s``, the state is unknown and
the label is sent: the printer is the only one who knows.

Errors are translated here (STYLE.md 3): cannot connect -> ``PrinterOffline``; status says paper
out / cover open / offline -> ``PaperOut`` / ``CoverOpen`` / ``PrinterOffline`` (nothing sent);
the link fails while sending -> ``PrintUncertain`` (part of the label may have printed, so the
spool leaves the job for staff instead of resending it). usblp refuses a write with ENOSPC when
the printer reports paper out; that is ``PaperOut``.
"""

from __future__ import annotations

import errno
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from escpos.exceptions import Error as EscposError
from escpos.printer import File, Network, Serial, Usb

from appliance.errors import PaperOut, PrinterError, PrinterOffline, PrintUncertain
from appliance.ports import DeviceState, DeviceStatus
from appliance.values import LabelJob, PrintedLabel
from drivers.printer import status as rt
from drivers.printer.escpos_output import label_bytes
from drivers.printer.render import DEFAULT_LAYOUT, LabelLayout, render_label

KINDS = ("usb", "serial", "network", "file")


@dataclass(frozen=True)
class Connection:
    """Where the printer is. Only the fields of ``kind`` matter."""

    kind: str
    usb_vendor: int = 0  # USB vendor ID, e.g. 0x04B8 (Epson)
    usb_product: int = 0  # USB product ID
    serial_device: str = "/dev/ttyUSB0"
    serial_baud: int = 115200  # bits per second
    host: str = ""
    port: int = 9100
    file_path: str = "/dev/usb/lp0"
    timeout_s: float = 10.0  # seconds to connect and to send one label
    status_timeout_s: float = 0.5  # seconds to wait for the real-time status answer
    # usb: the pyusb backend (``usb.core.find(backend=...)``); None = pyusb's own (libusb-1.0).
    # Not configuration: the unit tests hand in a backend double here.
    usb_backend: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"printer connection must be one of {KINDS}, got {self.kind!r}")

    def describe(self) -> str:
        return {
            "usb": f"USB {self.usb_vendor:04x}:{self.usb_product:04x}",
            "serial": f"serial {self.serial_device} at {self.serial_baud} baud",
            "network": f"network {self.host}:{self.port}",
            "file": f"file {self.file_path}",
        }[self.kind]

    def open(self) -> Any:
        """An opened python-escpos printer; ``PrinterOffline`` if it cannot be reached."""
        device: Any
        if self.kind == "usb":
            backend = {"backend": self.usb_backend} if self.usb_backend is not None else {}
            device = Usb(self.usb_vendor, self.usb_product, usb_args=backend,
                         timeout=int(self.timeout_s * 1000))  # fmt: skip
        elif self.kind == "serial":
            device = Serial(self.serial_device, baudrate=self.serial_baud, timeout=self.timeout_s)
        elif self.kind == "network":
            device = _Network(self.host, self.port, timeout=self.timeout_s)
        else:
            device = File(self.file_path)
        try:
            device.open()
        except (EscposError, OSError, RuntimeError) as exc:  # RuntimeError: pyusb missing
            raise PrinterOffline(f"{self.describe()}: cannot connect: {exc}") from exc
        return device


class EscposPrinter:
    """A ``LabelPrinter`` on a real ESC/POS printer. One lock: one label at a time."""

    def __init__(
        self,
        connection: Connection,
        layout: LabelLayout = DEFAULT_LAYOUT,
        *,
        feed_units_per_dot: int = 1,
    ) -> None:
        self.connection = connection
        self.layout = layout
        self.feed_units_per_dot = feed_units_per_dot
        self._lock = threading.Lock()

    def label_bytes(self, job: LabelJob) -> bytes:
        """Exactly what :meth:`print_label` sends for ``job`` (``kioskctl print-test --out``)."""
        return label_bytes(
            render_label(job, self.layout),
            max_width_dots=self.layout.width_dots,
            feed_units_per_dot=self.feed_units_per_dot,
        )

    def print_label(self, job: LabelJob) -> PrintedLabel:
        data = self.label_bytes(job)  # a LabelError here: nothing was opened or sent
        with self._lock:
            device = self.connection.open()
            try:
                fault = self._condition(device).fault()
                if fault is not None:
                    raise fault
                self._send(device, data)
            finally:
                _close(device)
        return PrintedLabel(job.job_id)

    def status(self) -> DeviceStatus:
        where = self.connection.describe()
        with self._lock:
            try:
                device = self.connection.open()
            except PrinterError as exc:
                return DeviceStatus("printer", DeviceState.FAULT, str(exc))
            try:
                return self._condition(device).device_status(where)
            finally:
                _close(device)

    def condition(self) -> rt.PrinterCondition:
        """The printer's real-time status now (unknown where the connection cannot read)."""
        with self._lock:
            device = self.connection.open()
            try:
                return self._condition(device)
            finally:
                _close(device)

    def _condition(self, device: Any) -> rt.PrinterCondition:
        if self.connection.kind == "file":
            return rt.unknown("a file connection cannot read the printer")
        try:
            device._raw(rt.QUERIES)
            return rt.parse(self._read(device, 3))
        except (EscposError, OSError, NotImplementedError) as exc:
            return rt.unknown(f"status not readable: {type(exc).__name__}")

    def _read(self, device: Any, count: int) -> bytes:
        """Up to ``count`` answer bytes within ``status_timeout_s``."""
        timeout = self.connection.status_timeout_s
        got = b""
        if self.connection.kind == "serial":
            port = device.device
            port.timeout = timeout
            got = bytes(port.read(count))
            port.timeout = self.connection.timeout_s
            return got
        if self.connection.kind == "network":
            sock = device.device
            sock.settimeout(timeout)
            try:
                while len(got) < count:
                    chunk = sock.recv(count - len(got))
                    if not chunk:
                        break
                    got += chunk
            except TimeoutError:
                pass
            finally:
                sock.settimeout(self.connection.timeout_s)
            return got
        deadline = time.monotonic() + timeout  # usb: python-escpos reads up to 16 bytes a call
        while len(got) < count and time.monotonic() < deadline:
            got += bytes(device._read())
        return got[:count]

    def _send(self, device: Any, data: bytes) -> None:
        where = self.connection.describe()
        try:
            device._raw(data)
            if self.connection.kind == "file":
                device.flush()
        except OSError as exc:
            if exc.errno == errno.ENOSPC:  # usblp: the printer reports paper out
                raise PaperOut(f"{where}: paper out (ENOSPC)") from exc
            raise PrintUncertain(f"{where}: link failed while sending: {exc}") from exc
        except EscposError as exc:
            raise PrintUncertain(f"{where}: python-escpos failed while sending: {exc}") from exc


class _Network(Network):  # type: ignore[misc]
    """python-escpos 3.1's ``Network`` leaves its socket open when ``connect`` fails (it drops
    the reference without closing it); this one closes it, then lets python-escpos raise."""

    def open(self, raise_not_found: bool = True) -> None:
        try:
            super().open(raise_not_found)
        except EscposError:
            sock = getattr(self, "_last_socket", None)
            if sock is not None:
                sock.close()
            raise

    @property
    def device(self) -> Any:
        return super().device

    @device.setter
    def device(self, new_device: Any) -> None:
        if new_device is not None:
            self._last_socket = new_device
        self._device = new_device


def _close(device: Any) -> None:
    try:
        device.close()
    except (EscposError, OSError):
        pass

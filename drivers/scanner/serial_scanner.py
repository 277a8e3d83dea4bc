"""A serial barcode reader (pyserial): one scan = one line of ASCII, ended by CR, LF or CR LF.

The port opens at the first read and stays open (a reader that is re-opened per scan loses the
scans made in between); any pyserial error closes it, becomes :class:`ScannerError` here, at the
edge, and the next read opens it again, so a reader plugged back in simply works. Bytes that are
not ASCII (a reader at the wrong speed sends noise) come through as U+FFFD, which the issuer's
rules then refuse with a message, rather than vanishing.
"""

from __future__ import annotations

import logging
import threading

import serial

from appliance.errors import ScannerError
from appliance.ports import DeviceState, DeviceStatus

log = logging.getLogger(__name__)

MAX_LINE = 128  # far beyond any library card number: a reader that never ends a line is broken


class SerialScanner:
    def __init__(self, port: str, baudrate: int = 9600) -> None:
        self._port = port
        self._baudrate = baudrate
        self._serial: serial.SerialBase | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SerialScanner({self._port!r}, {self._baudrate})"

    def read(self, timeout: float) -> str | None:
        with self._lock:
            try:
                return self._read(timeout)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._close()
                raise ScannerError(f"{self._port}: {exc}") from exc

    def _read(self, timeout: float) -> str | None:
        if self._serial is None:
            self._serial = serial.serial_for_url(self._port, self._baudrate, timeout=timeout)
        self._serial.timeout = timeout
        while True:
            line = self._line()
            if line is not None:
                if line:
                    log.info("scanner: a code of %d characters read", len(line))
                    return line
                continue  # the LF of a CR LF, or an empty scan
            chunk = self._serial.read(self._serial.in_waiting or 1)
            if not chunk:
                return None
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE and self._line_end() < 0:
                self._buffer = b""
                raise ScannerError(f"{self._port}: no line end within {MAX_LINE} bytes")

    def _line_end(self) -> int:
        ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
        return min(ends) if ends else -1

    def _line(self) -> str | None:
        end = self._line_end()
        if end < 0:
            return None
        line, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
        return line.decode("ascii", errors="replace").strip()

    def status(self) -> DeviceStatus:
        with self._lock:
            if self._serial is not None:
                return DeviceStatus("barcode reader", DeviceState.OK, f"{self._port} open")
            try:
                with serial.serial_for_url(self._port, self._baudrate, timeout=0):
                    pass
            except (serial.SerialException, OSError, ValueError) as exc:
                return DeviceStatus("barcode reader", DeviceState.FAULT, str(exc))
        return DeviceStatus("barcode reader", DeviceState.OK, f"{self._port} opens")

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        port, self._serial = self._serial, None
        self._buffer = b""
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

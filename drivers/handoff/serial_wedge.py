"""Type text through a serial keyboard wedge (pyserial): the wedge turns bytes into keystrokes.

``port`` is a device (``/dev/ttyUSB0``) or any pyserial URL. The text goes out as ASCII followed
by CR (the wedge's "Enter"); pyserial's errors become :class:`HandoffError` here, at the edge.
"""

from __future__ import annotations

import logging

import serial

from appliance.errors import HandoffError
from appliance.ports import DeviceState, DeviceStatus

log = logging.getLogger(__name__)


class SerialWedge:
    def __init__(self, port: str, baudrate: int = 9600, *, enter: bool = True) -> None:
        self._port = port
        self._baudrate = baudrate
        self._enter = enter

    def send(self, text: str) -> None:
        if not (text.isascii() and text.isprintable()):
            raise HandoffError("only printable ASCII can be typed through the wedge")
        data = text.encode("ascii") + (b"\r" if self._enter else b"")
        try:
            with serial.serial_for_url(self._port, self._baudrate, timeout=2, write_timeout=2) as s:
                s.write(data)
                s.flush()
        except (serial.SerialException, OSError, ValueError) as exc:
            raise HandoffError(f"{self._port}: {exc}") from exc
        log.info("method C: %d keys typed through %s", len(text), self._port)

    def status(self) -> DeviceStatus:
        try:
            with serial.serial_for_url(self._port, self._baudrate, timeout=0):
                pass
        except (serial.SerialException, OSError, ValueError) as exc:
            return DeviceStatus("hand-over (serial)", DeviceState.FAULT, str(exc))
        return DeviceStatus("hand-over (serial)", DeviceState.OK, f"{self._port} opens")

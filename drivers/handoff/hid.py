"""Type text through a USB HID keyboard gadget: 8-byte boot-keyboard reports to ``/dev/hidg0``.

Each character is a key-down report (modifier byte, reserved byte, six key slots) followed by an
all-zero key-up report, so the same digit twice in a row is two presses, not one held key. Only
what card numbers are made of is mapped (digits, letters, ``-``, ``.``, ``/``, ``+``, ``$``,
``:`` with US usages, which JIS keyboards share for digits, letters and ``-``); anything else is
refused before a single key is sent, so the library system never receives half a number.
"""

from __future__ import annotations

import logging

from appliance.errors import HandoffError
from appliance.ports import DeviceState, DeviceStatus

log = logging.getLogger(__name__)

LEFT_SHIFT = 0x02
ENTER = 0x28
RELEASE = bytes(8)
_USAGE: dict[str, tuple[int, int]] = {
    **{str(d): (0, 0x1E + d - 1) for d in range(1, 10)},
    "0": (0, 0x27),
    **{chr(ord("a") + i): (0, 0x04 + i) for i in range(26)},
    **{chr(ord("A") + i): (LEFT_SHIFT, 0x04 + i) for i in range(26)},
    "-": (0, 0x2D),
    ".": (0, 0x37),
    "/": (0, 0x38),
    "+": (LEFT_SHIFT, 0x2E),
    "$": (LEFT_SHIFT, 0x21),
    ":": (LEFT_SHIFT, 0x33),
}


def reports(text: str, *, enter: bool = True) -> bytes:
    """Key-down/key-up report pairs for ``text`` (then Enter). Never quotes ``text`` in errors."""
    bad = sorted({i for i, ch in enumerate(text) if ch not in _USAGE})
    if bad:
        raise HandoffError(f"cannot type characters at positions {bad}")
    out = bytearray()
    keys = [_USAGE[ch] for ch in text] + ([(0, ENTER)] if enter else [])
    for modifier, usage in keys:
        out += bytes((modifier, 0, usage, 0, 0, 0, 0, 0)) + RELEASE
    return bytes(out)


class HidKeyboard:
    """The gadget as a keyboard. The file is opened per hand-over: the gadget comes and goes
    with the USB cable, and a stale handle would swallow the number silently.
    """

    def __init__(self, path: str = "/dev/hidg0", *, enter: bool = True) -> None:
        self._path = path
        self._enter = enter

    def send(self, text: str) -> None:
        data = reports(text, enter=self._enter)
        try:
            with open(self._path, "wb", buffering=0) as gadget:
                # the gadget takes one report per write; a partial write is a lost key
                for start in range(0, len(data), 8):
                    if gadget.write(data[start : start + 8]) != 8:
                        raise HandoffError(f"{self._path}: short write")
        except OSError as exc:
            raise HandoffError(f"{self._path}: {exc.strerror or exc}") from exc
        log.info("method C: %d keys typed through %s", len(text), self._path)

    def status(self) -> DeviceStatus:
        import os

        if os.access(self._path, os.W_OK):
            return DeviceStatus("hand-over (HID)", DeviceState.OK, f"{self._path} writable")
        return DeviceStatus("hand-over (HID)", DeviceState.FAULT, f"{self._path} not writable")

"""The printer's own account of itself: ESC/POS real-time status (``DLE EOT n``).

Three one-byte questions, answered at once even while the printer is offline:

==============  =====================================================================
``DLE EOT 1``   printer status: bit 3 = offline
``DLE EOT 2``   offline cause: bit 2 = cover open, bit 5 = printing stopped by paper end,
                bit 6 = error
``DLE EOT 4``   roll paper sensor: bits 2+3 = near end, bits 5+6 = paper out
==============  =====================================================================

Every answer has bits 1 and 4 set and bits 0 and 7 clear; a byte that does not is not a status
answer (a stray byte, or a printer that does not speak real-time status), and the state is then
*unknown* rather than guessed. A ``File`` connection (``/dev/usb/lp0``) cannot read at all: it
says so, it does not pretend (LABELS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.errors import CoverOpen, PaperOut, PrinterError, PrinterOffline
from appliance.ports import DeviceState, DeviceStatus

QUERIES = b"\x10\x04\x01" + b"\x10\x04\x02" + b"\x10\x04\x04"
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12


@dataclass(frozen=True)
class PrinterCondition:
    """What the printer reported; ``None`` = unknown (the connection could not ask)."""

    offline: bool | None = None
    cover_open: bool | None = None
    paper_out: bool | None = None
    near_end: bool | None = None
    detail: str = ""

    @property
    def known(self) -> bool:
        return self.offline is not None

    def fault(self) -> PrinterError | None:
        """The error to hold a job with, or None when the printer can print (or cannot tell)."""
        if self.paper_out:
            return PaperOut("printer reports paper out")
        if self.cover_open:
            return CoverOpen("printer reports cover open")
        if self.offline:
            return PrinterOffline("printer reports offline")
        return None

    def device_status(self, where: str) -> DeviceStatus:
        """One ``kioskctl doctor`` line: paper, cover, online, each as known or unknown."""
        if not self.known:
            return DeviceStatus("printer", DeviceState.UNKNOWN, f"{where}: state unknown"
                                f"{' (' + self.detail + ')' if self.detail else ''}")  # fmt: skip
        parts = [
            "paper out" if self.paper_out else "paper near end" if self.near_end else "paper ok",
            "cover open" if self.cover_open else "cover closed",
            "offline" if self.offline else "online",
        ]
        if self.fault() is not None:
            state = DeviceState.FAULT
        elif self.near_end:
            state = DeviceState.WARNING
        else:
            state = DeviceState.OK
        return DeviceStatus("printer", state, f"{where}: " + ", ".join(parts))


def unknown(detail: str) -> PrinterCondition:
    return PrinterCondition(detail=detail)


def parse(answer: bytes) -> PrinterCondition:
    """The condition from the three answers to :data:`QUERIES`, in order."""
    if len(answer) != 3:
        return unknown(f"{len(answer)} of 3 status bytes answered")
    if any(b & _FIXED_MASK != _FIXED_BITS for b in answer):
        return unknown("answer is not ESC/POS real-time status")
    printer, cause, paper = answer
    return PrinterCondition(
        offline=bool(printer & 0x08),
        cover_open=bool(cause & 0x04),
        paper_out=bool(paper & 0x60) or bool(cause & 0x20),
        near_end=bool(paper & 0x0C),
    )

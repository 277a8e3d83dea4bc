"""ISO 7816-4 command/response APDUs for the JPKI application, and the channel that guards them.

:class:`ApduChannel` is the only way bytes reach a card. It refuses every SELECT-by-name except
the JPKI AP, so no code path of the kiosk can ever open the My Number applications (which hold
the My Number itself, name, address and photo).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from appliance.errors import CardError, MalformedAnswer

JPKI_AID = bytes.fromhex("D392F000260100000001")

SW_OK = 0x9000
SW_NOT_FOUND = 0x6A82
SW_SECURITY = 0x6982
SW_BLOCKED = (0x63C0, 0x6983, 0x6984)

EF_TOKEN = 0x0006
EF_AUTH_CERT = 0x000A
EF_AUTH_CA_CERT = 0x000B
EF_AUTH_KEY = 0x0017
EF_AUTH_PIN = 0x0018


class Transport(Protocol):
    """Moves one raw command APDU to the card and back. Raises only ``CardError``."""

    def transmit(self, apdu: bytes) -> bytes: ...


class ForbiddenSelect(CardError):
    """Something tried to select an application other than JPKI: refused, never sent."""


@dataclass(frozen=True)
class Command:
    """One command APDU. ``data`` stays out of the repr: for VERIFY it is the PIN."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = field(default=b"", repr=False)
    le: int | None = None

    def to_bytes(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            if len(self.data) > 255:
                raise ValueError("extended APDUs are not used with JPKI")
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            if not 0 < self.le <= 256:
                raise ValueError("Le must be 1..256")
            out += bytes([self.le & 0xFF])
        return out


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise MalformedAnswer(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK


def select_jpki() -> Command:
    return Command(0x00, 0xA4, 0x04, 0x0C, JPKI_AID)


def select_ef(fid: int) -> Command:
    return Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def read_binary(offset: int, length: int) -> Command:
    if not 0 <= offset <= 0x7FFF:
        raise ValueError("offset out of range for short READ BINARY")
    return Command(0x00, 0xB0, offset >> 8, offset & 0xFF, le=length)


def pin_status() -> Command:
    """VERIFY without data: answers 63Cx (tries left) and spends nothing."""
    return Command(0x00, 0x20, 0x00, 0x80)


def verify(pin_digits: bytes) -> Command:
    return Command(0x00, 0x20, 0x00, 0x80, pin_digits)


def sign(digest_info: bytes) -> Command:
    return Command(0x80, 0x2A, 0x00, 0x80, digest_info, le=256)


def is_select_by_name(apdu: bytes) -> bool:
    return len(apdu) >= 4 and apdu[1] == 0xA4 and apdu[2] == 0x04


class ApduChannel:
    """The guarded pipe to a card: only the JPKI AID may ever be selected by name."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self.sent = 0  # APDUs sent, for benchmarks and tests

    def send(self, command: Command) -> Response:
        raw = command.to_bytes()
        if is_select_by_name(raw) and raw[5 : 5 + raw[4]] != JPKI_AID:
            raise ForbiddenSelect("only the JPKI application may be selected")
        self.sent += 1
        return Response.parse(self._transport.transmit(raw))

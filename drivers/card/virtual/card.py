"""The virtual My Number Card: a faithful JPKI AP (files, PIN counter, RSA signing).

Only the JPKI AP exists on it; a SELECT of any other AID answers ``6A82``, as a card without that
application would. The PIN counter lives in :class:`PinCounter`, which outlives power cycles, so
three wrong PINs across three taps block the card just like a real one.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization

from drivers.card.apdu import (
    EF_AUTH_CA_CERT,
    EF_AUTH_CERT,
    EF_AUTH_KEY,
    EF_AUTH_PIN,
    EF_TOKEN,
    JPKI_AID,
)
from drivers.card.virtual.pki import CitizenCredentials, test_ca


def _contactless_atr(historical: bytes) -> bytes:
    """The ATR PC/SC synthesises for an ISO 14443-B card: 3B 8n 80 01, ATQB bytes, TCK."""
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes([tck])


# Application data (4 bytes) + protocol info (3 bytes) + MBLI, as a budget reader reports them.
ATR = _contactless_atr(bytes.fromhex("0000000000718100"))


class CardKind(enum.Enum):
    MY_NUMBER = "JPKIAPICCTOKEN2"
    PHONE = "JPKIAPGPSETOKEN"
    FOREIGN = "foreign"  # no JPKI AP at all (a transit or bank card)
    GARBAGE = "garbage"  # answers noise (a broken card or a hostile one)


@dataclass
class PinCounter:
    """Tries left for the user-authentication PIN; shared across taps of the same card."""

    tries_left: int = 3


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


@dataclass
class VirtualJpkiCard:
    credentials: CitizenCredentials
    kind: CardKind = CardKind.MY_NUMBER
    counter: PinCounter = field(default_factory=PinCounter)
    log: list[bytes] = field(default_factory=list, repr=False)  # every command APDU received
    _app: bool = field(default=False, repr=False)
    _ef: int | None = field(default=None, repr=False)
    _verified: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        token = self.kind.value if self.kind in (CardKind.MY_NUMBER, CardKind.PHONE) else ""
        self._files = {
            EF_TOKEN: token.encode("ascii").ljust(32, b" "),
            EF_AUTH_CERT: self.credentials.certificate_der,
            EF_AUTH_CA_CERT: test_ca().certificate.public_bytes(serialization.Encoding.DER),
        }
        self._rng = random.Random(self.credentials.number)

    def power_on(self) -> bytes:
        """A new card session: nothing selected, PIN state lost, counter kept."""
        self._app, self._ef, self._verified = False, None, False
        return ATR

    def process(self, command: bytes) -> bytes:
        self.log.append(bytes(command))
        if self.kind is CardKind.GARBAGE:
            return bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(0, 4)))
        if len(command) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = command[:4]
        body = command[4:]
        data = b""
        le: int | None = None
        if len(body) == 1:
            le = body[0] or 256
        elif len(body) > 1:
            lc = body[0]
            data = body[1 : 1 + lc]
            if len(data) != lc:
                return _sw(0x6700)
            rest = body[1 + lc :]
            if len(rest) == 1:
                le = rest[0] or 256
            elif rest:
                return _sw(0x6700)
        if cla == 0x00 and ins == 0xA4:
            return self._select(p1, data)
        if not self._app:
            return _sw(0x6986)
        if cla == 0x00 and ins == 0xB0:
            return self._read((p1 << 8) | p2, le or 256)
        if cla == 0x00 and ins == 0x20 and p1 == 0x00 and p2 == 0x80:
            return self._verify(data)
        if cla == 0x80 and ins == 0x2A and p1 == 0x00 and p2 == 0x80:
            return self._sign(data)
        return _sw(0x6D00)

    # -- commands ------------------------------------------------------------------------------

    def _select(self, p1: int, data: bytes) -> bytes:
        if p1 == 0x04:
            if data == JPKI_AID and self.kind is not CardKind.FOREIGN:
                self._app, self._ef = True, None
                return _sw(0x9000)
            return _sw(0x6A82)
        if p1 == 0x02 and self._app and len(data) == 2:
            fid = int.from_bytes(data, "big")
            if fid in self._files or fid in (EF_AUTH_KEY, EF_AUTH_PIN):
                self._ef = fid
                return _sw(0x9000)
            return _sw(0x6A82)
        return _sw(0x6A82)

    def _read(self, offset: int, le: int) -> bytes:
        content = self._files.get(self._ef) if self._ef is not None else None
        if content is None:
            return _sw(0x6986)
        if offset > len(content):
            return _sw(0x6B00)
        return _sw(0x9000, content[offset : offset + le])

    def _verify(self, pin: bytes) -> bytes:
        if self._ef != EF_AUTH_PIN:
            return _sw(0x6986)
        if self.counter.tries_left == 0:
            return _sw(0x6983)
        if not pin:
            return _sw(0x9000) if self._verified else _sw(0x63C0 | self.counter.tries_left)
        if pin == self.credentials.pin.encode("ascii"):
            self.counter.tries_left = 3
            self._verified = True
            return _sw(0x9000)
        self.counter.tries_left -= 1
        self._verified = False
        return _sw(0x63C0 | self.counter.tries_left)

    def _sign(self, digest_info: bytes) -> bytes:
        if self._ef != EF_AUTH_KEY or not self._verified:
            return _sw(0x6982)
        numbers = self.credentials.key.private_numbers()
        n = numbers.public_numbers.n
        k = (n.bit_length() + 7) // 8
        if not digest_info or len(digest_info) > k - 11:
            return _sw(0x6700)
        padded = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
        signature = pow(int.from_bytes(padded, "big"), numbers.d, n)
        return _sw(0x9000, signature.to_bytes(k, "big"))

"""The virtual My Number Card: a faithful JPKI AP (files, PIN counters, RSA signing).

Only the JPKI AP exists on it; a SELECT of any other AID answers ``6A82``, as a card without that
application would. The PIN counters live in :class:`PinCounter`, which outlives power cycles, so
three wrong PINs across three taps block the card just like a real one.

Faithful means "what other JPKI software expects", checked by OpenSC's ``jpki`` driver in
``tests/integration/test_opensc.py``: besides the user-authentication files the kiosk uses, the
card carries the digital-signature half (certificate ``0001`` readable only after the signing
password, its CA ``0002``, key ``001A``, password ``001B`` with 5 tries), because OpenSC asks for
both PINs' tries when it binds.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from drivers.card.apdu import (
    EF_AUTH_CA_CERT,
    EF_AUTH_CERT,
    EF_AUTH_KEY,
    EF_AUTH_PIN,
    EF_TOKEN,
    JPKI_AID,
)
from drivers.card.virtual.pki import CitizenCredentials, signing, test_ca

# The digital-signature files: on every real card, never used by the kiosk.
EF_SIGN_CERT = 0x0001
EF_SIGN_CA_CERT = 0x0002
EF_SIGN_KEY = 0x001A
EF_SIGN_PIN = 0x001B
AUTH_PIN_TRIES = 3
SIGN_PIN_TRIES = 5


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
    """Tries left for each PIN; shared across taps of the same card (a real card's memory)."""

    tries_left: int = AUTH_PIN_TRIES
    sign_tries_left: int = SIGN_PIN_TRIES


def _sw(sw: int, data: bytes = b"") -> bytes:
    return data + sw.to_bytes(2, "big")


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass
class VirtualJpkiCard:
    """One card. ``le256_fails`` makes it sit behind a budget reader that chokes on Le=00."""

    credentials: CitizenCredentials
    kind: CardKind = CardKind.MY_NUMBER
    counter: PinCounter = field(default_factory=PinCounter)
    le256_fails: bool = False
    log: list[bytes] = field(default_factory=list, repr=False)  # every command APDU received
    _app: bool = field(default=False, repr=False)
    _ef: int | None = field(default=None, repr=False)
    _verified: set[int] = field(default_factory=set, repr=False)  # PIN EFs verified this session

    def __post_init__(self) -> None:
        token = self.kind.value if self.kind in (CardKind.MY_NUMBER, CardKind.PHONE) else ""
        self._files: dict[int, Callable[[], bytes]] = {
            EF_TOKEN: lambda: token.encode("ascii").ljust(32, b" "),
            EF_AUTH_CERT: lambda: self.credentials.certificate_der,
            EF_AUTH_CA_CERT: lambda: _der(test_ca().certificate),
            EF_SIGN_CERT: lambda: _der(signing(self.credentials.number).certificate),
            EF_SIGN_CA_CERT: lambda: _der(signing(self.credentials.number).ca_certificate),
        }
        self._rng = random.Random(self.credentials.number)

    def power_on(self) -> bytes:
        """A new card session: nothing selected, PIN state lost, counters kept."""
        self._app, self._ef = False, None
        self._verified.clear()
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
            if self.le256_fails and le == 256:
                return _sw(0x6700)  # what the reader makes of a 256-byte answer it cannot carry
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
            if fid in self._files or fid in (EF_AUTH_KEY, EF_AUTH_PIN, EF_SIGN_KEY, EF_SIGN_PIN):
                self._ef = fid
                return _sw(0x9000)
            return _sw(0x6A82)
        return _sw(0x6A82)

    def _read(self, offset: int, le: int) -> bytes:
        content = self._files.get(self._ef) if self._ef is not None else None
        if content is None:
            return _sw(0x6986)
        if self._ef == EF_SIGN_CERT and EF_SIGN_PIN not in self._verified:
            return _sw(0x6982)  # the signing certificate holds name and address
        data = content()
        if offset > len(data):
            return _sw(0x6B00)
        return _sw(0x9000, data[offset : offset + le])

    def _verify(self, pin: bytes) -> bytes:
        if self._ef == EF_AUTH_PIN:
            expected, attr, full = self.credentials.pin, "tries_left", AUTH_PIN_TRIES
        elif self._ef == EF_SIGN_PIN:
            expected = signing(self.credentials.number).password
            attr, full = "sign_tries_left", SIGN_PIN_TRIES
        else:
            return _sw(0x6986)
        left: int = getattr(self.counter, attr)
        if left == 0:
            return _sw(0x6983)
        if not pin:
            return _sw(0x9000) if self._ef in self._verified else _sw(0x63C0 | left)
        if pin == expected.encode("ascii"):
            setattr(self.counter, attr, full)
            self._verified.add(self._ef)
            return _sw(0x9000)
        setattr(self.counter, attr, left - 1)
        self._verified.discard(self._ef)
        return _sw(0x63C0 | (left - 1))

    def _sign(self, digest_info: bytes) -> bytes:
        key: rsa.RSAPrivateKey
        if self._ef == EF_AUTH_KEY and EF_AUTH_PIN in self._verified:
            key = self.credentials.key
        elif self._ef == EF_SIGN_KEY and EF_SIGN_PIN in self._verified:
            key = signing(self.credentials.number).key
        else:
            return _sw(0x6982)
        numbers = key.private_numbers()
        n = numbers.public_numbers.n
        k = (n.bit_length() + 7) // 8
        if not digest_info or len(digest_info) > k - 11:
            return _sw(0x6700)
        padded = b"\x00\x01" + b"\xff" * (k - 3 - len(digest_info)) + b"\x00" + digest_info
        m = int.from_bytes(padded, "big")
        # CRT, as the card's chip does it: four times faster than one pow() modulo n
        s1, s2 = pow(m, numbers.dmp1, numbers.p), pow(m, numbers.dmq1, numbers.q)
        signature = s2 + numbers.q * ((numbers.iqmp * (s1 - s2)) % numbers.p)
        return _sw(0x9000, signature.to_bytes(k, "big"))

"""A JPKI session on one card: token check, certificate, PIN, signature.

Implements :class:`appliance.ports.CardSession` on top of any :class:`~drivers.card.apdu.Transport`
(pyscard, the in-process virtual card). Every answer is checked: a status word or a length the
session does not expect becomes a ``CardError`` that keeps the status word, never another
exception, so a malformed or hostile card cannot crash the kiosk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cryptography import x509

from appliance.errors import (
    CardError,
    MalformedAnswer,
    NotJpkiCard,
    PhoneCertificate,
    PinBlocked,
    ReaderUnavailable,
    UnexpectedStatus,
    WrongPin,
)
from appliance.values import Pin
from drivers.card import apdu
from drivers.card.apdu import ApduChannel, Response, Transport

log = logging.getLogger(__name__)

TOKEN_CARD = "JPKIAPICCTOKEN2"  # noqa: S105 - a card type, not a secret
TOKEN_PHONE = "JPKIAPGPSETOKEN"  # noqa: S105 - a card type, not a secret
MAX_CERT_BYTES = 8192
FALLBACK_CHUNK = 0xDF


class JpkiSession:
    """One patron's card, from SELECT to signature. Not thread-safe: one device lock per reader."""

    def __init__(
        self,
        transport: Transport,
        *,
        chunk: int = 256,
        accept_phone: bool = False,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if not 1 <= chunk <= 256:
            raise ValueError("chunk must be 1..256")
        self._channel = ApduChannel(transport)
        self._chunk = self._configured_chunk = chunk
        self._fallback_worked = False
        self._accept_phone = accept_phone
        self._on_close = on_close
        self.token = ""
        self.verify_count = 0  # VERIFY commands carrying a PIN: the tests hold us to one

    @property
    def apdus_sent(self) -> int:
        return self._channel.sent

    @property
    def chunk(self) -> int:
        """The READ BINARY size this reader can carry: lower than configured only once a
        fallback read has *worked* (a card pulled away mid-read proves nothing about it)."""
        return self._chunk if self._fallback_worked else self._configured_chunk

    def open(self) -> JpkiSession:
        """SELECT the JPKI AP and check the token: only a My Number Card goes further."""
        r = self._channel.send(apdu.select_jpki())
        if r.sw == apdu.SW_NOT_FOUND:
            raise NotJpkiCard("JPKI application not found", sw=r.sw)
        self._expect_ok(r, "select JPKI AP")
        self._select(apdu.EF_TOKEN)
        raw = self._read(0, 32)
        token = raw.rstrip(b" \x00").decode("ascii", errors="replace")
        self.token = token
        if token == TOKEN_PHONE and not self._accept_phone:
            raise PhoneCertificate("phone JPKI token refused by configuration")
        if token not in (TOKEN_CARD, TOKEN_PHONE):
            raise NotJpkiCard(f"unexpected JPKI token {token[:32]!r}")
        return self

    def read_certificate(self) -> bytes:
        return self._read_der_file(apdu.EF_AUTH_CERT)

    def read_ca_certificate(self) -> bytes:
        return self._read_der_file(apdu.EF_AUTH_CA_CERT)

    def pin_tries_left(self) -> int:
        self._select(apdu.EF_AUTH_PIN)
        r = self._channel.send(apdu.pin_status())
        if r.data:
            raise MalformedAnswer("PIN status carried data", sw=r.sw)
        if r.sw in apdu.SW_BLOCKED:
            return 0
        if r.sw & 0xFFF0 == 0x63C0:
            return r.sw & 0x0F
        if r.ok:  # already verified in this card session
            return 3
        raise UnexpectedStatus("PIN status", sw=r.sw)

    def verify_pin(self, pin: Pin) -> None:
        self._select(apdu.EF_AUTH_PIN)
        self.verify_count += 1
        r = self._channel.send(apdu.verify(pin.digits.encode("ascii")))
        if r.ok and not r.data:
            return
        if r.sw in apdu.SW_BLOCKED:
            raise PinBlocked("PIN blocked", sw=r.sw)
        if r.sw & 0xFFF0 == 0x63C0:
            raise WrongPin(r.sw & 0x0F, sw=r.sw)
        raise UnexpectedStatus("VERIFY", sw=r.sw)

    def sign(self, digest_info: bytes) -> bytes:
        self._select(apdu.EF_AUTH_KEY)
        r = self._channel.send(apdu.sign(digest_info))
        if r.sw == apdu.SW_SECURITY:
            raise CardError("signature refused: PIN not verified", sw=r.sw)
        self._expect_ok(r, "sign")
        if len(r.data) != 256:
            raise MalformedAnswer(f"signature of {len(r.data)} bytes, expected 256", sw=r.sw)
        return r.data

    def close(self) -> None:
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    # -- helpers -------------------------------------------------------------------------------

    def _select(self, fid: int) -> None:
        self._expect_ok(self._channel.send(apdu.select_ef(fid)), f"select EF {fid:04X}")

    def _read(self, offset: int, length: int) -> bytes:
        r = self._channel.send(apdu.read_binary(offset, length))
        self._expect_ok(r, "read binary")
        if len(r.data) > length:
            raise MalformedAnswer(f"read {len(r.data)} bytes, asked {length}", sw=r.sw)
        return r.data

    def _read_der_file(self, fid: int) -> bytes:
        """Length from the DER header (``30 82 LL LL``), then chunks; never a hard-coded size."""
        self._select(fid)
        head = self._read(0, 4)
        if len(head) != 4 or head[0] != 0x30 or head[1] != 0x82:
            raise MalformedAnswer("certificate does not start with a DER SEQUENCE header")
        total = int.from_bytes(head[2:4], "big") + 4
        if total > MAX_CERT_BYTES:
            raise MalformedAnswer(f"certificate claims {total} bytes")
        data = bytearray(head)
        while len(data) < total:
            want = min(self._chunk, total - len(data))
            try:
                part = self._read(len(data), want)
            except CardError as exc:
                # "removed" too: readers that cannot carry 256 bytes often say "transaction
                # failed", as for a card that left. If it did leave, the retry says so again.
                if want != 256 or isinstance(exc, ReaderUnavailable):
                    raise
                log.warning(
                    "reader choked on a 256-byte answer (%s); reading in %d-byte chunks",
                    exc,
                    FALLBACK_CHUNK,
                )
                self._chunk = FALLBACK_CHUNK
                continue
            if not part:
                raise MalformedAnswer("card returned no data before the end of the certificate")
            self._fallback_worked = self._chunk != self._configured_chunk
            data += part
        der = bytes(data)
        try:
            x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise MalformedAnswer("certificate is not valid DER") from exc
        return der

    @staticmethod
    def _expect_ok(r: Response, what: str) -> None:
        if not r.ok:
            raise UnexpectedStatus(what, sw=r.sw)

"""The real reader: pyscard against pcscd.

Every pyscard exception is translated here (STYLE.md 3): no ``smartcard`` exception escapes
``drivers/``. The PC/SC error code is kept on the ``CardError`` for the log.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from appliance.errors import CardError, CardRemoved, MalformedAnswer, NoCard, ReaderUnavailable
from appliance.ports import DeviceState, DeviceStatus
from drivers.card.jpki import JpkiSession

log = logging.getLogger(__name__)

try:  # pyscard is a hard dependency, but a broken install must give a clear message
    from smartcard.Exceptions import (
        CardConnectionException,
        NoCardException,
        SmartcardException,
    )
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers as _list_readers
except ImportError as _exc:  # pragma: no cover - reported by doctor
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None

_POLL_S = 0.1


# PC/SC codes that mean the reader (or pcscd itself) is gone, not just the card.
_READER_GONE = {
    0x80100009,  # SCARD_E_UNKNOWN_READER
    0x80100017,  # SCARD_E_READER_UNAVAILABLE
    0x8010001D,  # SCARD_E_NO_SERVICE
    0x8010001E,  # SCARD_E_SERVICE_STOPPED
    0x80100003,  # SCARD_E_INVALID_HANDLE (pcscd restarted under us)
    0x80100002,  # SCARD_E_CANCELLED
}


def _pcsc_code(exc: BaseException) -> int | None:
    code = getattr(exc, "hresult", None)
    return code if isinstance(code, int) and code != -1 else None


def _connection_lost(exc: BaseException) -> CardError:
    """What a failed transmit means, by its PC/SC code.

    pyscard raises ``CardConnectionException`` for three different things: the card left
    (``SCARD_W_REMOVED_CARD``, or ``SCARD_E_NOT_TRANSACTED`` when it leaves mid-command), the
    reader or pcscd left, and a *successful* transmit whose answer has fewer than two bytes
    (code 0), which is a malformed answer, not a removal. A budget reader that cannot carry a
    256-byte answer also says ``NOT_TRANSACTED``: the session's chunk fallback retries once.
    """
    code = _pcsc_code(exc)
    if code == 0:
        return MalformedAnswer("card answered fewer than 2 bytes", pcsc_code=code)
    if code is not None and code & 0xFFFFFFFF in _READER_GONE:
        return ReaderUnavailable(f"reader gone: {exc}", pcsc_code=code)
    return CardRemoved(f"card connection lost: {exc}", pcsc_code=code)


def list_readers() -> list[str]:
    """Reader names pcscd knows; raises ``ReaderUnavailable`` when pcscd is not reachable."""
    if _IMPORT_ERROR is not None:
        raise ReaderUnavailable(f"pyscard not importable: {_IMPORT_ERROR}")
    try:
        return [str(r) for r in _list_readers()]
    except (BaseSCardException, SmartcardException) as exc:
        raise ReaderUnavailable("pcscd not reachable", pcsc_code=_pcsc_code(exc)) from exc


class _PcscTransport:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def transmit(self, apdu: bytes) -> bytes:
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except NoCardException as exc:
            raise CardRemoved("card removed", pcsc_code=_pcsc_code(exc)) from exc
        except CardConnectionException as exc:
            raise _connection_lost(exc) from exc
        except (BaseSCardException, SmartcardException) as exc:
            raise ReaderUnavailable(str(exc), pcsc_code=_pcsc_code(exc)) from exc
        return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        _release(self._connection)


def _release(connection: Any) -> None:
    """Disconnect and free the PC/SC context now, not in ``__del__``.

    pyscard releases a connection's context when the object is collected; by then pcscd may be
    gone (restarted, or stopped at shutdown) and the release raises inside the garbage collector,
    where nobody can catch it. Every connection, connected or not, is released here instead.
    """
    try:
        connection.release()
    except (BaseSCardException, SmartcardException) as exc:
        log.debug("release failed: %s", exc)
        # pcscd is gone and took the context with it; without this, pyscard's __del__ would
        # try again inside the garbage collector and raise where nobody can catch it
        inner = getattr(connection, "component", connection)
        if getattr(inner, "hcontext", None) is not None:
            inner.hcontext = None


class PcscReader:
    """:class:`appliance.ports.CardReader` on the first PC/SC reader whose name matches.

    One lock per physical reader (STYLE.md 9): a second ``connect`` waits for the first session
    to close instead of interleaving APDUs.
    """

    def __init__(self, name: str = "", *, chunk: int = 256, accept_phone: bool = False) -> None:
        self._name = name
        self._chunk = chunk
        self._accept_phone = accept_phone
        self._lock = threading.Lock()
        self.last_session: JpkiSession | None = None

    def _reader(self) -> Any:
        try:
            found = _list_readers()
        except (BaseSCardException, SmartcardException) as exc:
            raise ReaderUnavailable("pcscd not reachable", pcsc_code=_pcsc_code(exc)) from exc
        for reader in found:
            if self._name in str(reader):
                return reader
        raise ReaderUnavailable(f"no PC/SC reader matching {self._name!r}")

    def connect(self, timeout: float = 5.0) -> JpkiSession:
        if _IMPORT_ERROR is not None:
            raise ReaderUnavailable(f"pyscard not importable: {_IMPORT_ERROR}")
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise ReaderUnavailable("reader busy")
        try:
            connection = self._wait_for_card(deadline)
            transport = _PcscTransport(connection)
            session = JpkiSession(
                transport,
                chunk=self._chunk,
                accept_phone=self._accept_phone,
                on_close=lambda: self._release(transport, session),
            )
            self.last_session = session
        except BaseException:
            self._lock.release()
            raise
        try:
            return session.open()
        except BaseException:
            session.close()
            raise

    def _release(self, transport: _PcscTransport, session: JpkiSession) -> None:
        # a fallback to smaller chunks is the reader's trait: keep it for the next patron, who
        # then does not pay for a failed 256-byte read
        self._chunk = min(self._chunk, session.chunk)
        transport.close()
        self._lock.release()

    def _wait_for_card(self, deadline: float) -> Any:
        while True:
            reader = self._reader()
            try:
                connection = reader.createConnection()
            except (BaseSCardException, SmartcardException) as exc:
                raise ReaderUnavailable(str(exc), pcsc_code=_pcsc_code(exc)) from exc
            try:
                connection.connect()
                return connection
            except NoCardException as exc:
                _release(connection)
                if time.monotonic() >= deadline:
                    raise NoCard("no card on the reader", pcsc_code=_pcsc_code(exc)) from exc
            except CardConnectionException as exc:
                _release(connection)
                if time.monotonic() >= deadline:
                    raise NoCard(f"card not ready: {exc}", pcsc_code=_pcsc_code(exc)) from exc
            except (BaseSCardException, SmartcardException) as exc:
                _release(connection)
                raise ReaderUnavailable(str(exc), pcsc_code=_pcsc_code(exc)) from exc
            except BaseException:
                _release(connection)
                raise
            time.sleep(_POLL_S)

    def status(self) -> DeviceStatus:
        try:
            names = list_readers()
        except CardError as exc:
            return DeviceStatus("card reader", DeviceState.FAULT, str(exc))
        matching = [n for n in names if self._name in n]
        if not matching:
            return DeviceStatus("card reader", DeviceState.FAULT, f"no reader among {names}")
        return DeviceStatus("card reader", DeviceState.OK, f"PC/SC reader {matching[0]}")

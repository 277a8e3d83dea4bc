"""Is a card on a PC/SC reader? Asked of pcscd, without connecting to the card.

A person cannot lift a card and tap the next one in zero milliseconds, but a test or the demo
keys can; pcscd only sees a *new* card after it has seen the reader empty. Waiting for the empty
state between taps keeps the virtual card's timing physical.
"""

from __future__ import annotations

import time

from appliance.errors import ReaderUnavailable

try:
    from smartcard import scard
except ImportError as _exc:  # pragma: no cover - reported by doctor
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None


def card_present(reader: str) -> bool:
    """True when pcscd reports a card in ``reader``; ``ReaderUnavailable`` when it cannot say."""
    if _IMPORT_ERROR is not None:
        raise ReaderUnavailable(f"pyscard not importable: {_IMPORT_ERROR}")
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise ReaderUnavailable("pcscd not reachable", pcsc_code=hresult)
    try:
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
        )
        if hresult != scard.SCARD_S_SUCCESS or not states:
            raise ReaderUnavailable(f"no state for reader {reader!r}", pcsc_code=hresult)
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


def wait_until(reader: str, *, present: bool, timeout: float = 5.0) -> bool:
    """Poll until the reader is (or is not) holding a card; False when ``timeout`` ran out."""
    deadline = time.monotonic() + timeout
    while card_present(reader) != present:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True

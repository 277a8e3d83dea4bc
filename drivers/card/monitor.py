"""Card insertion and removal on one PC/SC reader, reported as they happen.

A daemon thread blocks in ``SCardGetStatusChange`` (pcscd wakes it on every change, no polling
of the card itself) and calls ``on_change(present)`` from that thread; the UI turns the call
into a message, so its loop never blocks on the reader. pcscd going away is not an exception
anywhere: the thread reports "no card", waits, and reattaches when pcscd is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

try:
    from smartcard import scard
except ImportError as _exc:  # pragma: no cover - reported by doctor
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None

_WAIT_MS = 500  # how long one SCardGetStatusChange blocks: bounds how long stop() takes
_RETRY_S = 1.0  # pause before reattaching to pcscd after it failed


class PresenceMonitor:
    """Watch the first PC/SC reader whose name contains ``reader``."""

    def __init__(self, reader: str) -> None:
        self._name = reader
        self._on_change: Callable[[bool], None] = lambda present: None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._context: int | None = None
        self.present: bool | None = None  # None until pcscd has answered once

    def start(self, on_change: Callable[[bool], None]) -> PresenceMonitor:
        """Begin watching; ``on_change`` runs on the monitor's thread, so it must not block."""
        self._on_change = on_change
        if _IMPORT_ERROR is None and self._thread is None:
            self._stop.clear()
            self.present = None
            self._thread = threading.Thread(target=self._run, name="card-presence", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        context = self._context
        if context is not None:
            scard.SCardCancel(context)  # wake the blocking call now
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._thread = None

    def _report(self, present: bool) -> None:
        if present != self.present:
            self.present = present
            try:
                self._on_change(present)
            except Exception:  # a broken listener must not kill the watch
                log.exception("card presence listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hresult != scard.SCARD_S_SUCCESS:
                self._report(False)
                self._stop.wait(_RETRY_S)
                continue
            self._context = context
            try:
                self._watch(context)
            finally:
                self._context = None
                scard.SCardReleaseContext(context)
            if not self._stop.is_set():
                self._report(False)
                self._stop.wait(_RETRY_S)

    def _watch(self, context: int) -> None:
        """Until pcscd or the reader fails; then the caller reattaches."""
        hresult, names = scard.SCardListReaders(context, [])
        matching = [n for n in (names or []) if self._name in n] if hresult == 0 else []
        if not matching:
            return
        states = [(matching[0], scard.SCARD_STATE_UNAWARE)]
        while not self._stop.is_set():
            hresult, changed = scard.SCardGetStatusChange(context, _WAIT_MS, states)
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            if hresult != scard.SCARD_S_SUCCESS or not changed:
                return
            name, event, _atr = changed[0]
            if event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                return
            self._report(bool(event & scard.SCARD_STATE_PRESENT))
            states = [(name, event & ~scard.SCARD_STATE_CHANGED)]

"""Plug a :class:`VirtualJpkiCard` into the real PC/SC stack through ``vsmartcard-vpcd``.

vpcd (a pcscd reader driver) listens on TCP 35963 for the first virtual reader. Connecting *is*
inserting the card; closing the socket is pulling it away. Each message is a 2-byte big-endian
length and a payload: one byte is a control code (0 off, 1 on, 2 reset, 4 = send the ATR),
anything longer is a command APDU answered with the response APDU. Nagle and delayed ACKs are
switched off, or every APDU stalls about 40 ms.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time

from drivers.card.virtual.card import ATR, VirtualJpkiCard

log = logging.getLogger(__name__)

VPCD_PORT = 35963
_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0, 1, 2, 4
# vpcd forgets a vanished card only at pcscd's next presence poll (~0.4 s): a card connected
# before that is never seen. No hand taps twice that fast, so the bridge waits this long.
SETTLE_S = 0.6
_last_closed: dict[int, float] = {}


class VpcdBridge:
    """One card in the first virtual reader, served from a background thread."""

    def __init__(
        self, card: VirtualJpkiCard, *, host: str = "127.0.0.1", port: int = VPCD_PORT
    ) -> None:
        self.card = card
        self._address = (host, port)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.remove_after: int | None = None  # pull the card away after N more APDUs
        self.apdus = 0

    def insert(self) -> VpcdBridge:
        since = time.monotonic() - _last_closed.get(self._address[1], -SETTLE_S)
        if since < SETTLE_S:
            time.sleep(SETTLE_S - since)
        sock = socket.create_connection(self._address, timeout=5)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name="vpcd-bridge", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
            _last_closed[self._address[1]] = time.monotonic()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def unplug(self) -> None:
        """The reader is yanked out with the card on it: reset the connection, no goodbye.

        An abortive close (RST) leaves no TIME-WAIT on vpcd's port, so pcscd can be stopped
        and started again at once (vpcd binds without ``SO_REUSEADDR``).
        """
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            _last_closed[self._address[1]] = time.monotonic()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    def serve_forever(self) -> None:
        """Foreground mode for ``kioskctl virtual-card``: serve until vpcd or the user stops."""
        self.insert()
        if self._thread is not None:
            self._thread.join()

    def _recv_exact(self, sock: socket.socket, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            if hasattr(socket, "TCP_QUICKACK"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _serve(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            while True:
                head = self._recv_exact(sock, 2)
                if head is None:
                    break
                payload = self._recv_exact(sock, int.from_bytes(head, "big"))
                if payload is None:
                    break
                answer = self._answer(payload)
                if answer is None:
                    continue
                if answer == b"" and len(payload) > 1:  # removal requested mid-command
                    break
                sock.sendall(len(answer).to_bytes(2, "big") + answer)
        except OSError:
            pass
        finally:
            if self._sock is sock:
                self._sock = None
                sock.close()
            _last_closed[self._address[1]] = time.monotonic()

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code in (_POWER_ON, _RESET):
                self.card.power_on()
            if code == _GET_ATR:
                return ATR
            return None
        if self.remove_after is not None:
            if self.remove_after <= 0:
                self.remove_after = None
                return b""
            self.remove_after -= 1
        self.apdus += 1
        return self.card.process(payload)

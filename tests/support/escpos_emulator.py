"""A thermal printer on loopback: TCP 9100-style or a pty serial line, answering DLE EOT n.

It behaves like the ESC/POS printers the kiosk meets in the places that matter for losing or
duplicating labels:

- real-time status (``DLE EOT 1/2/4``) is answered at once, whatever the paper state, unless
  ``answers_status`` is off (a printer or link that cannot talk back);
- data received while the paper is out or the cover is open is **kept and printed after the
  reload**, as real printers do; so a label sent during paper-out and sent again would show up
  twice in :attr:`labels`, and a test can prove it does not;
- it understands exactly the commands our labels use (the same grammar as
  :mod:`drivers.printer.raster`), so a status query is never confused with raster data, and a
  label is everything up to and including a cut.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import tty
from dataclasses import dataclass, field

_DLE_EOT = b"\x10\x04"


@dataclass
class EmulatedPrinter:
    paper: str = "ok"  # ok | near_end | out
    cover_open: bool = False
    answers_status: bool = True
    labels: list[bytes] = field(default_factory=list)  # printed, each ending with its cut
    held: list[bytes] = field(default_factory=list)  # received while unable to print
    queries: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _job: bytearray = field(default_factory=bytearray)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def printed(self, count: int, timeout: float = 10.0, settle: float = 0.2) -> list[bytes]:
        """The printed labels once there are ``count`` (the link is asynchronous), after a short
        ``settle`` so that a duplicate still in flight would be counted too."""
        deadline = time.monotonic() + timeout
        while len(self.labels) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(settle)
        with self._lock:
            return list(self.labels)

    def reload(self) -> None:
        """New paper, cover closed: whatever was held prints now."""
        with self._lock:
            self.paper, self.cover_open = "ok", False
            self.labels.extend(self.held)
            self.held.clear()

    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the host; returns the status answers to send back."""
        answers = bytearray()
        with self._lock:
            self._buffer.extend(data)
            while self._buffer:
                size = _command_size(self._buffer)
                if size is None:
                    break  # incomplete command: wait for more bytes
                command = bytes(self._buffer[:size])
                del self._buffer[:size]
                if command.startswith(_DLE_EOT):
                    self.queries += 1
                    if self.answers_status:
                        answers.append(self._answer(command[2]))
                    continue
                self._job.extend(command)
                if command.startswith(b"\x1dV"):
                    label, self._job = bytes(self._job), bytearray()
                    (self.labels if self._can_print() else self.held).append(label)
        return bytes(answers)

    def _can_print(self) -> bool:
        return self.paper != "out" and not self.cover_open

    def _answer(self, n: int) -> int:
        fixed = 0x12
        if n == 1:
            return fixed | (0x08 if not self._can_print() else 0)
        if n == 2:
            return fixed | (0x04 if self.cover_open else 0) | (0x20 if self.paper == "out" else 0)
        if n == 4:
            near = 0x0C if self.paper in ("near_end", "out") else 0
            return fixed | near | (0x60 if self.paper == "out" else 0)
        return fixed


def _command_size(buf: bytearray) -> int | None:
    """Length of the complete command at the start of ``buf``; None if it is not complete yet.

    ``ValueError`` for a byte our labels never send (the test then fails loudly).
    """
    first = buf[0]
    if first == 0x0A:
        return 1
    if len(buf) < 2:
        return None
    second = buf[1]
    if first == 0x10 and second == 0x04:
        return 3 if len(buf) >= 3 else None
    if first == 0x1B:
        size = {ord("@"): 2, ord("a"): 3, ord("J"): 3, ord("d"): 3}.get(second)
        if size is None:
            raise ValueError(f"printer emulator: unknown ESC 0x{second:02X}")
        return size if len(buf) >= size else None
    if first == 0x1D and second == ord("V"):
        if len(buf) < 3:
            return None
        size = 4 if buf[2] in (65, 66) else 3
        return size if len(buf) >= size else None
    if first == 0x1D and second == ord("v"):
        if len(buf) < 8:
            return None
        size = 8 + (buf[4] | buf[5] << 8) * (buf[6] | buf[7] << 8)
        return size if len(buf) >= size else None
    raise ValueError(f"printer emulator: unexpected byte 0x{first:02X}")


class TcpPrinter(EmulatedPrinter):
    """The emulated printer behind a TCP port on 127.0.0.1 (port 0: the OS picks a free one)."""

    def start(self) -> TcpPrinter:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            with conn:
                while chunk := _recv(conn):
                    answer = self.receive(chunk)
                    if answer:
                        conn.sendall(answer)

    def stop(self) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        except OSError:
            pass
        self._server.close()
        self._thread.join(timeout=5)


def _recv(conn: socket.socket) -> bytes:
    try:
        return conn.recv(65536)
    except OSError:
        return b""


class PtyPrinter(EmulatedPrinter):
    """The emulated printer at the far end of a pseudo-terminal: ``device`` is the serial port."""

    def start(self) -> PtyPrinter:
        self._master, slave = os.openpty()
        tty.setraw(slave)  # a serial line carries bytes, not a terminal's cooked lines
        self.device = os.ttyname(slave)
        self._slave = slave
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                continue  # no process has the port open right now
            answer = self.receive(chunk)
            if answer:
                os.write(self._master, answer)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._master)
        os.close(self._slave)

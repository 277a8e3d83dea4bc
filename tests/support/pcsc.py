"""The real PC/SC stack for integration tests: pcscd + vsmartcard-vpcd + pyscard.

``make test`` installs the Debian packages; this fixture starts ``pcscd --foreground``, keeps its
PID and stops it by PID. A pcscd that is already running (a developer's) is used and left alone.
Missing parts *fail* the tests: CI must have every part (DEVELOPERS.md), so nothing is skipped.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ui.child import stop_child

if TYPE_CHECKING:
    from drivers.card.virtual.card import VirtualJpkiCard
    from drivers.card.virtual.vpcd import VpcdBridge

VPCD_PORT = 35963
VPCD_PORTS = (35963, 35964)  # vpcd's two readers: pcscd drops both if either cannot listen
FIRST_READER = "Virtual PCD 00 00"
_COMM = Path("/run/pcscd/pcscd.comm")
# The machine has one pcscd and one vpcd port, so two test runs (two work trees, or a developer's
# run beside CI) must take turns: the first to need the stack holds this lock until it is done.
_LOCK = Path("/tmp/mykey-kiosk-pcsc.lock")
_LISTEN, _TIME_WAIT = "0A", "06"


def _sockets(port: int, state: str) -> bool:
    """A socket in ``state`` on local ``port``? Read /proc, never connect: a connect is a tap."""
    hexport = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(hexport) and fields[3] == state:
                return True
    return False


def _listening(port: int) -> bool:
    return _sockets(port, _LISTEN)


def _pcscd_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


class PcscStack:
    """The running stack. ``stop``/``start`` exist for the "reader gone" test, and only act on a
    pcscd this fixture started itself (never on a developer's)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def owned(self) -> bool:
        return self.proc is not None

    def start(self) -> None:
        if _pcscd_pids():
            self._wait_listening()
            return
        if _COMM.exists():
            _COMM.unlink()  # stale socket from a hard-killed pcscd: no pcscd process remains
        # vpcd binds without SO_REUSEADDR: a TIME-WAIT left on 35963/35964 by the last pcscd
        # (it closed a card's connection first) makes the bind fail and pcscd drop *both*
        # readers. Linux holds TIME-WAIT for 60 s; wait it out instead of failing at random.
        deadline = time.monotonic() + 65
        while any(_sockets(p, _TIME_WAIT) for p in VPCD_PORTS):
            if time.monotonic() > deadline:
                pytest.fail("vpcd's ports stayed in TIME-WAIT for 65 s")
            time.sleep(0.2)
        self.proc = subprocess.Popen(
            ["pcscd", "--foreground"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "LANG": "C"},
        )
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 15
        while not all(_listening(p) for p in VPCD_PORTS):
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                self.stop()
                pytest.fail("vpcd did not start listening on 35963 and 35964 within 15 s")
            time.sleep(0.05)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_child(proc)


@pytest.fixture(scope="session")
def pcscd() -> Iterator[PcscStack]:
    if (
        shutil.which("pcscd") is None
        or not Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists()
    ):
        pytest.fail(
            "pcscd and vsmartcard-vpcd are required: run `make test` (installs them as root)"
        )
    lock = _LOCK.open("a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    stack = PcscStack()
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


class VpcdSlot:
    """The first virtual reader, as a hand that puts one virtual card on it at a time.

    Waits for pcscd to see the reader empty before a card goes on, and to see the card before
    returning: what a person's tap looks like to pcscd, so the tests do not race its poll.
    """

    def __init__(self) -> None:
        self.bridge: VpcdBridge | None = None

    def insert(self, card: VirtualJpkiCard) -> VpcdBridge:
        from drivers.card.presence import wait_until
        from drivers.card.virtual.vpcd import VpcdBridge

        self.remove()
        assert wait_until(FIRST_READER, present=False), "the reader did not become empty"
        self.bridge = VpcdBridge(card).insert()
        assert wait_until(FIRST_READER, present=True), "pcscd did not see the card"
        return self.bridge

    def remove(self) -> None:
        bridge, self.bridge = self.bridge, None
        if bridge is not None:
            bridge.remove()


@pytest.fixture
def vpcd_slot(pcscd: PcscStack) -> Iterator[VpcdSlot]:
    slot = VpcdSlot()
    yield slot
    slot.remove()

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

import pytest

VPCD_PORT = 35963
FIRST_READER = "Virtual PCD 00 00"
_COMM = Path("/run/pcscd/pcscd.comm")
# The machine has one pcscd and one vpcd port, so two test runs (two work trees, or a developer's
# run beside CI) must take turns: the first to need the stack holds this lock until it is done.
_LOCK = Path("/tmp/mykey-kiosk-pcsc.lock")


def _listening(port: int) -> bool:
    """Is something listening on ``port``? Read /proc, never connect: a connect is an insertion."""
    hexport = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(hexport) and fields[3] == "0A":
                return True
    return False


def _pcscd_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


@pytest.fixture(scope="session")
def pcscd() -> Iterator[None]:
    if (
        shutil.which("pcscd") is None
        or not Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists()
    ):
        pytest.fail(
            "pcscd and vsmartcard-vpcd are required: run `make test` (installs them as root)"
        )
    lock = _LOCK.open("a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        yield from _running_stack()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _running_stack() -> Iterator[None]:
    proc: subprocess.Popen[bytes] | None = None
    if not _pcscd_pids():
        if _COMM.exists():
            _COMM.unlink()  # stale socket from a hard-killed pcscd: no pcscd process remains
        proc = subprocess.Popen(
            ["pcscd", "--foreground"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "LANG": "C"},
        )
    deadline = time.monotonic() + 15
    while not _listening(VPCD_PORT):
        if time.monotonic() > deadline:
            if proc:
                proc.kill()
            pytest.fail("vpcd did not start listening on 35963 within 15 s")
        time.sleep(0.05)
    yield
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

"""What the box itself can tell the diagnostics: clock synchronised, disk free, software version;
and the two device tests a technician starts by hand (read a card, print a test label).

The clock matters twice over: TLS to the platform fails on a wrong clock, and a same-day label
printed with yesterday's date is refused at the self-checkout. The kernel knows whether NTP (or
chrony, or systemd-timesyncd) disciplines the clock: ``adjtimex(2)`` read-only, which works in a
container and needs no daemon to ask.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import platform as _platform
import secrets
import shutil

from appliance.errors import KioskError
from appliance.messages import Lang, render
from appliance.ports import CardReader, DeviceState, DeviceStatus, LabelPrinter
from appliance.values import CardNumber, Issuer, LabelJob

STA_UNSYNC = 0x0040  # <linux/timex.h>: clock not synchronised
TIME_ERROR = 5  # adjtimex return value: clock not synchronised
MIN_FREE_BYTES = 200 * 2**20


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    # struct timex from <sys/timex.h>; the trailing padding is 11 ints in glibc
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int), ("_pad", ctypes.c_int * 11),
    ]  # fmt: skip


def clock_check() -> DeviceStatus:
    """OK when the kernel says an NTP client disciplines the clock; a warning otherwise."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        timex = _Timex()  # modes = 0: read only, needs no privilege
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError) as exc:
        return DeviceStatus("clock", DeviceState.UNKNOWN, f"cannot ask the kernel: {exc}")
    if state < 0:
        return DeviceStatus("clock", DeviceState.UNKNOWN, f"adjtimex failed: {ctypes.get_errno()}")
    error_ms = timex.esterror / 1000
    if state == TIME_ERROR or timex.status & STA_UNSYNC:
        return DeviceStatus("clock", DeviceState.WARNING, "not synchronised (check NTP)")
    return DeviceStatus("clock", DeviceState.OK, f"synchronised, estimated error {error_ms} ms")


def disk_check(path: str = "/") -> DeviceStatus:
    total, _used, free = shutil.disk_usage(path)
    state = DeviceState.OK if free > MIN_FREE_BYTES else DeviceState.WARNING
    return DeviceStatus("disk", state, f"{free // 2**20} MiB free of {total // 2**20} MiB")


def version_check() -> DeviceStatus:
    from importlib.metadata import PackageNotFoundError, version  # ~70 ms: not at start-up

    try:
        ours = version("mykey-kiosk")
    except PackageNotFoundError:
        ours = "unknown"
    detail = f"kiosk {ours}, Python {_platform.python_version()}"
    return DeviceStatus("version", DeviceState.OK, detail)


def host_checks(data_dir: str = "/") -> list[DeviceStatus]:
    return [clock_check(), disk_check(data_dir), version_check()]


# -- device tests a technician starts from the diagnostics screen ------------------------------

TEST_ISSUER_NAME = "テスト印刷 / TEST PRINT"


def card_test(reader: CardReader, timeout: float = 10.0) -> DeviceStatus:
    """Read the card on the reader without a PIN: certificate size and tries left, nothing else.

    Spends no PIN try and asks the platform nothing; the certificate itself is not shown.
    """
    try:
        session = reader.connect(timeout)
        try:
            certificate = session.read_certificate()
            tries = session.pin_tries_left()
        finally:
            session.close()
    except KioskError as exc:
        return DeviceStatus("card test", DeviceState.FAULT, render(exc.key, Lang.EN))
    detail = f"JPKI certificate read ({len(certificate)} bytes), {tries} PIN tries left"
    return DeviceStatus("card test", DeviceState.OK, detail)


def print_test_label(printer: LabelPrinter, today: dt.date) -> DeviceStatus:
    """Print a label that names itself a test and carries an all-zero number of no library."""
    issuer = Issuer("000000", TEST_ISSUER_NAME)
    job = LabelJob(f"test-{secrets.token_hex(4)}", CardNumber(issuer, "0000000000"),
                   today.isoformat(), provisional=True)  # fmt: skip
    try:
        printed = printer.print_label(job)
    except KioskError as exc:
        return DeviceStatus("test label", DeviceState.FAULT, render(exc.key, Lang.EN))
    where = f": {', '.join(printed.artifacts)}" if printed.artifacts else ""
    return DeviceStatus("test label", DeviceState.OK, f"printed {job.job_id}{where}")

"""The counter's serial barcode reader, over a real pty (the kernel's tty layer, as a USB-serial
reader's /dev/ttyACM0 would be), and its fake."""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ScannerError
from appliance.ports import DeviceState
from drivers.scanner import open_scanner
from drivers.scanner.memory import MemoryScanner
from drivers.scanner.serial_scanner import MAX_LINE, SerialScanner


@pytest.fixture
def pty_reader() -> Iterator[tuple[int, SerialScanner]]:
    controller, device = os.openpty()
    tty.setraw(device)
    scanner = SerialScanner(os.ttyname(device), 9600)
    yield controller, scanner
    scanner.close()
    os.close(controller)
    os.close(device)


def test_each_scanned_line_is_one_code_whatever_the_line_end(
    pty_reader: tuple[int, SerialScanner],
) -> None:
    controller, scanner = pty_reader
    assert scanner.read(0.05) is None  # nothing scanned yet: no code, no error
    os.write(controller, b"A1800000018A\r\n20240017\n\r300")
    assert scanner.read(2) == "A1800000018A"
    assert scanner.read(2) == "20240017"  # the LF of the CR LF is not an empty scan
    assert scanner.read(0.05) is None  # "300" has no line end yet: not a code
    os.write(controller, b"01234\r")
    assert scanner.read(2) == "30001234"
    assert scanner.status().state is DeviceState.OK


def test_noise_from_a_reader_at_the_wrong_speed_arrives_visibly(
    pty_reader: tuple[int, SerialScanner],
) -> None:
    controller, scanner = pty_reader
    assert scanner.read(0.05) is None  # opening the port drops what came before (pyserial)
    os.write(controller, b"18\xfe\x80\r")
    assert scanner.read(2) == "18\ufffd\ufffd"  # the issuer's rules refuse it, with a message
    os.write(controller, b"9" * (MAX_LINE + 1))
    with pytest.raises(ScannerError):
        scanner.read(2)


def test_an_unplugged_reader_is_a_scanner_error(tmp_path: Path) -> None:
    scanner = SerialScanner(str(tmp_path / "ttyACM9"))
    with pytest.raises(ScannerError):
        scanner.read(0.05)
    assert scanner.status().state is DeviceState.FAULT


def test_the_config_selects_the_reader_and_the_fake_replays_scans(tmp_path: Path) -> None:
    build = lambda **kw: open_scanner(load_config({"data_dir": str(tmp_path), **kw}))  # noqa: E731
    assert build() is None
    assert isinstance(build(scanner="serial", scanner_device="/dev/ttyACM0"), SerialScanner)
    fake = MemoryScanner()
    fake.push("1800000018")
    fake.fail()
    assert fake.read(0.01) == "1800000018"
    with pytest.raises(ScannerError):
        fake.read(0.01)
    assert fake.read(0.01) is None

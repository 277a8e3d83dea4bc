"""Method C adapters: HID boot-keyboard reports decoded back, and a serial wedge over a real pty."""

from __future__ import annotations

import os
import threading
import tty
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import HandoffError
from drivers.handoff import open_handoff
from drivers.handoff.hid import HidKeyboard
from drivers.handoff.serial_wedge import SerialWedge

# HID usage tables (USB HID Usage Tables 1.12, chapter 10), written out independently of the
# adapter's own map: the test decodes what a USB host would understand.
_DIGITS = {0x1E + i: str(i + 1) for i in range(9)} | {0x27: "0"}
_LETTERS = {0x04 + i: chr(ord("a") + i) for i in range(26)}


def decode_reports(data: bytes) -> str:
    """Text a host would see from boot-keyboard reports: key-down then all-zero key-up."""
    assert len(data) % 8 == 0, "boot-keyboard reports are 8 bytes"
    typed, held = [], False
    for start in range(0, len(data), 8):
        modifier, reserved, *keys = data[start : start + 8]
        assert reserved == 0
        pressed = [k for k in keys if k]
        if not pressed:
            held = False
            continue
        assert not held, "a key went down before the previous one was released"
        assert len(pressed) == 1
        held = True
        (usage,) = pressed
        if usage == 0x28:
            typed.append("\n")
        elif usage in _LETTERS:
            typed.append(_LETTERS[usage].upper() if modifier & 0x22 else _LETTERS[usage])
        else:
            typed.append(_DIGITS[usage])
    assert not held, "the last key was never released"
    return "".join(typed)


def test_hid_reports_written_to_a_file_decode_to_the_number(tmp_path: Path) -> None:
    gadget = tmp_path / "hidg0"
    gadget.touch()
    HidKeyboard(str(gadget)).send("1800000018")
    data = gadget.read_bytes()
    assert decode_reports(data) == "1800000018\n"
    assert len(data) == 11 * 16  # a press and a release per key: "00" is typed twice


def test_hid_reports_through_a_fifo_as_a_gadget_reads_them(tmp_path: Path) -> None:
    fifo = tmp_path / "hidg0"
    os.mkfifo(fifo)
    received = bytearray()

    def host() -> None:
        with open(fifo, "rb") as fh:
            while chunk := fh.read(8):
                received.extend(chunk)

    reader = threading.Thread(target=host)
    reader.start()
    HidKeyboard(str(fifo), enter=False).send("A20240017b")
    reader.join(timeout=10)
    assert decode_reports(bytes(received)) == "A20240017b"


def test_hid_refuses_what_it_cannot_type_before_typing_anything(tmp_path: Path) -> None:
    gadget = tmp_path / "hidg0"
    gadget.touch()
    with pytest.raises(HandoffError) as err:
        HidKeyboard(str(gadget)).send("12３4")
    assert "３" not in str(err.value)
    assert gadget.read_bytes() == b""


def test_a_missing_gadget_is_a_handoff_error(tmp_path: Path) -> None:
    with pytest.raises(HandoffError):
        HidKeyboard(str(tmp_path / "absent" / "hidg0")).send("123")


def test_the_serial_wedge_types_the_number_and_cr_over_a_pty() -> None:
    controller, device = os.openpty()
    tty.setraw(device)
    try:
        SerialWedge(os.ttyname(device), 9600).send("1800000018")
        received = b""
        while not received.endswith(b"\r"):
            received += os.read(controller, 64)
    finally:
        os.close(controller)
        os.close(device)
    assert received == b"1800000018\r"


def test_an_unplugged_wedge_is_a_handoff_error(tmp_path: Path) -> None:
    with pytest.raises(HandoffError):
        SerialWedge(str(tmp_path / "ttyUSB9")).send("123")


def test_the_config_selects_the_device(tmp_path: Path) -> None:
    def build(**values: object) -> object:
        return open_handoff(load_config({"data_dir": str(tmp_path), **values}))

    assert build() is None
    assert isinstance(build(handoff="hid"), HidKeyboard)
    assert isinstance(build(handoff="serial", handoff_device="/dev/ttyUSB0"), SerialWedge)

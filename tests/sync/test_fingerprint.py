"""The board fingerprint: 64 hex characters, stable, and different on another board."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.fingerprint import board_fingerprint

CPUINFO = (
    "processor\t: 0\nBogoMIPS\t: 108.00\n\nHardware\t: BCM2835\nSerial\t\t: 10000000abcdef01\n"
)


@pytest.fixture
def board(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "cpuinfo": tmp_path / "cpuinfo",
        "dt_serial": tmp_path / "serial-number",
        "machine_id": tmp_path / "machine-id",
    }
    paths["cpuinfo"].write_text(CPUINFO)
    paths["dt_serial"].write_bytes(b"10000000abcdef01\0")
    paths["machine_id"].write_text("0123456789abcdef0123456789abcdef\n")
    return paths


def test_it_is_a_sha256_in_hex(board: dict[str, Path]) -> None:
    fp = board_fingerprint(**board)
    assert len(fp) == 64 and int(fp, 16) >= 0 and fp == fp.lower()


def test_the_same_board_always_gives_the_same_value(board: dict[str, Path]) -> None:
    assert board_fingerprint(**board) == board_fingerprint(**board)


@pytest.mark.parametrize("part", ["cpuinfo", "dt_serial", "machine_id"])
def test_changing_any_identifier_changes_it(board: dict[str, Path], part: str) -> None:
    before = board_fingerprint(**board)
    board[part].write_text(board[part].read_text().replace("1", "2"))
    assert board_fingerprint(**board) != before


def test_formatting_noise_does_not_change_it(board: dict[str, Path]) -> None:
    before = board_fingerprint(**board)
    board["dt_serial"].write_text("10000000abcdef01")  # without the device tree's NUL
    board["machine_id"].write_text("0123456789abcdef0123456789abcdef")  # without newline
    assert board_fingerprint(**board) == before


def test_a_board_without_some_sources_still_has_a_stable_value(tmp_path: Path) -> None:
    missing = {"cpuinfo": tmp_path / "a", "dt_serial": tmp_path / "b", "machine_id": tmp_path / "c"}
    assert board_fingerprint(**missing) == board_fingerprint(**missing)
    assert len(board_fingerprint(**missing)) == 64


def test_the_default_sources_work_on_this_machine() -> None:
    assert len(board_fingerprint()) == 64

"""``kioskctl`` as a technician runs it: a real process, the embedded default, no hardware."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.support.barcodes import decode_both


def _kioskctl(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KIOSK_DATA_DIR": str(data_dir), **env},
        check=False,
    )


def _demo_lines() -> list[list[str]]:
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "demo-citizens"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return [line.split("\t") for line in out.stdout.splitlines()]


def test_demo_citizens_prints_number_pin_issuer_and_barcode_data() -> None:
    lines = _demo_lines()
    assert [row[0] for row in lines] == ["1", "2", "3", "4"]
    assert all(len(row) == 4 for row in lines)
    assert lines[0][1:3] == ["1234", "000001"]
    assert lines[0][3].startswith("A") and lines[0][3].endswith("A")
    assert lines[3][2:] == ["-", "-"]  # citizen 4 is linked to no library


def test_tap_on_the_embedded_default_prints_label_paths_that_decode(tmp_path: Path) -> None:
    expected = _demo_lines()[1][3]
    result = _kioskctl("tap", "--citizen", "2", "--pin", "2580", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    paths = result.stdout.split()
    assert sorted(Path(p).suffix for p in paths) == [".bin", ".png"]
    png = next(p for p in paths if p.endswith(".png"))
    assert decode_both(Image.open(png)) == ([expected], [expected])


def test_tap_with_a_wrong_pin_explains_in_both_languages(tmp_path: Path) -> None:
    result = _kioskctl("tap", "--citizen", "1", "--pin", "0000", data_dir=tmp_path)
    assert result.returncode == 1
    assert "暗証番号がちがいます" in result.stderr
    assert "2 more wrong tries" in result.stderr
    assert "0000" not in result.stderr


def test_doctor_reports_each_part(tmp_path: Path) -> None:
    result = _kioskctl("doctor", data_dir=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    parts = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert parts == ["card reader", "printer", "platform"]
    assert all(line.split("\t")[1] == "ok" for line in result.stdout.splitlines())


def test_a_broken_setting_is_reported_with_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('card_readr = "pcsc"\nterminal_id = "123"\n', encoding="utf-8")
    result = _kioskctl("doctor", data_dir=tmp_path, KIOSK_CONFIG=str(config))
    assert result.returncode == 2
    assert "did you mean 'card_reader'" in result.stderr
    assert "terminal_id: must be 8 digits" in result.stderr
    assert "設定ファイル" in result.stderr

"""``kioskctl print-test``: the known test label, a given number under an issuer's rules, --out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from appliance.config import load_config
from drivers.printer.raster import raster_to_image
from drivers.printer.setup import layout_from_config
from tests.support.barcodes import decode_both
from tests.support.escpos_emulator import TcpPrinter
from ui.cli import main


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kioskctl(monkeypatch, capsys):
    """``kioskctl print-test ...`` in this process (the CLI tests cover the real process)."""

    def run(*args: str, data_dir: Path, **env: str) -> Done:
        for key, value in {"KIOSK_DATA_DIR": str(data_dir), **env}.items():
            monkeypatch.setenv(key, value)
        code = main(["print-test", *args])
        out = capsys.readouterr()
        return Done(code, out.out, out.err)

    return run


def scanned(data: bytes, width: int = 384) -> tuple[list[str], list[str]]:
    return decode_both(raster_to_image(data, width))


def test_out_writes_the_bytes_and_image_of_a_number_under_the_issuers_rules(kioskctl, tmp_path):
    out = tmp_path / "out"
    done = kioskctl("--number", "1800000018", "--issuer", "000001", "--out", str(out),
                    data_dir=tmp_path / "data")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "A1800000018A" in done.stdout
    data = (out / "label.bin").read_bytes()
    assert scanned(data) == (["A1800000018A"], ["A1800000018A"])
    with Image.open(out / "label.png") as png:
        assert png.convert("1").tobytes() == raster_to_image(data, 384).tobytes()
    assert "1800000018" not in data.decode("latin-1")  # raster only, no text


def test_out_follows_the_configured_paper_and_density(kioskctl, tmp_path):
    out = tmp_path / "out"
    env = {"KIOSK_PAPER_MM": "80", "KIOSK_PRINTER_DPI": "300"}
    done = kioskctl("--out", str(out), data_dir=tmp_path / "data", **env)
    assert done.returncode == 0, done.stderr
    width = layout_from_config(load_config({"data_dir": "/x", "paper_mm": 80, "printer_dpi": 300}))
    assert scanned((out / "label.bin").read_bytes(), width.width_dots) == (
        ["A1234567897A"], ["A1234567897A"])  # fmt: skip


def test_a_number_failing_the_issuers_check_digit_is_never_written(kioskctl, tmp_path):
    out = tmp_path / "out"
    done = kioskctl("--number", "1234567890", "--out", str(out), data_dir=tmp_path / "data")
    assert done.returncode == 2
    assert "check digit" in done.stderr and "誤り" in done.stderr
    assert not out.exists()


def test_an_issuer_this_terminal_does_not_serve_is_refused(
    kioskctl, tmp_path, platform_server, terminal
):
    env = {"KIOSK_PLATFORM_URL": platform_server.base_url,
           "KIOSK_TERMINAL_ID": terminal.terminal_id,
           "KIOSK_TERMINAL_PASSWORD": terminal.password}  # fmt: skip
    done = kioskctl("--issuer", "999999", "--number", "1", data_dir=tmp_path / "data", **env)
    assert done.returncode == 2 and "999999" in done.stderr


@pytest.fixture
def tcp() -> Iterator[TcpPrinter]:
    printer = TcpPrinter().start()
    yield printer
    printer.stop()


def test_without_out_the_test_label_goes_to_the_configured_printer(kioskctl, tmp_path, tcp):
    env = {"KIOSK_PRINTER": "network", "KIOSK_PRINTER_HOST": "127.0.0.1",
           "KIOSK_PRINTER_PORT": str(tcp.port)}  # fmt: skip
    done = kioskctl(data_dir=tmp_path / "data", **env)
    assert done.returncode == 0, done.stderr
    assert len(tcp.printed(1)) == 1
    assert scanned(tcp.labels[0]) == (["A1234567897A"], ["A1234567897A"])
    out = tmp_path / "out"
    assert kioskctl("--out", str(out), data_dir=tmp_path / "data", **env).returncode == 0
    assert (out / "label.bin").read_bytes() == tcp.labels[0]  # --out = what the printer gets


def test_a_printer_out_of_paper_is_reported_in_both_languages(kioskctl, tmp_path, tcp):
    tcp.paper = "out"
    env = {"KIOSK_PRINTER": "network", "KIOSK_PRINTER_HOST": "127.0.0.1",
           "KIOSK_PRINTER_PORT": str(tcp.port)}  # fmt: skip
    done = kioskctl(data_dir=tmp_path / "data", **env)
    assert done.returncode == 1
    assert "用紙切れ" in done.stderr and "out of paper" in done.stderr
    tcp.reload()
    assert tcp.printed(0) == []

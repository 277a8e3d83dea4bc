"""The printer settings (issue 4): defaults, every connection, and every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ConfigError
from drivers.printer.escpos_printer import EscposPrinter
from drivers.printer.setup import layout_from_config, printer_from_config
from drivers.printer.virtual import VirtualPrinter


def test_the_default_is_the_virtual_printer_on_58_mm_at_203_dpi(tmp_path: Path):
    config = load_config({"data_dir": str(tmp_path)})
    layout = layout_from_config(config)
    assert (layout.width_dots, layout.dpi) == (384, 203)
    assert isinstance(printer_from_config(config, tmp_path), VirtualPrinter)


@pytest.mark.parametrize(
    ("paper", "dpi", "dots"),
    [(58, 180, 344), (58, 203, 384), (58, 300, 568), (80, 180, 512), (80, 203, 576),
     (80, 300, 848)],
)  # fmt: skip
def test_paper_and_density_give_the_printable_width(paper, dpi, dots):
    config = load_config({"data_dir": "/x", "paper_mm": paper, "printer_dpi": dpi})
    assert layout_from_config(config).width_dots == dots


def test_an_explicit_width_wins():
    config = load_config({"data_dir": "/x", "paper_mm": 80, "paper_width_dots": 512})
    assert layout_from_config(config).width_dots == 512


@pytest.mark.parametrize(
    ("settings", "described"),
    [
        ({"printer": "usb", "printer_usb_vendor": "04b8", "printer_usb_product": "0e15"},
         "USB 04b8:0e15"),
        ({"printer": "serial", "printer_serial_device": "/dev/ttyS0",
          "printer_serial_baud": "9600"},
         "serial /dev/ttyS0 at 9600 baud"),
        ({"printer": "network", "printer_host": "10.0.0.9"}, "network 10.0.0.9:9100"),
        ({"printer": "file"}, "file /dev/usb/lp0"),
    ],
)  # fmt: skip
def test_every_connection_is_built_from_the_config(tmp_path, settings, described):
    printer = printer_from_config(load_config({"data_dir": "/x", **settings}), tmp_path)
    assert isinstance(printer, EscposPrinter)
    assert printer.connection.describe() == described


def test_every_printer_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        load_config({"data_dir": "/x", "printer": "usb", "printer_usb_vendor": "xyz",
                     "paper_mm": 57, "printer_dpi": 200, "paper_width_dots": 380,
                     "printer_serial_baud": 1200, "printer_port": 0,
                     "printer_status_timeout_s": 0})  # fmt: skip
    text = "\n".join(caught.value.problems)
    for key in ("printer_usb_vendor", "printer_usb_product", "paper_mm", "printer_dpi",
                "paper_width_dots", "printer_serial_baud", "printer_port",
                "printer_status_timeout_s"):  # fmt: skip
        assert key in text


def test_a_network_printer_needs_a_host():
    with pytest.raises(ConfigError, match="printer_host"):
        load_config({"data_dir": "/x", "printer": "network"})


def test_an_unknown_printer_kind_is_refused():
    with pytest.raises(ConfigError, match="printer: one of"):
        load_config({"data_dir": "/x", "printer": "cups"})

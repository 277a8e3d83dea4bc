"""The printer the config names: its label layout and its ``LabelPrinter`` adapter.

Kept beside the adapters so that the composition root (:mod:`ui.wiring`) needs one call, and
``kioskctl print-test`` builds exactly the printer the kiosk would use.
"""

from __future__ import annotations

from pathlib import Path

from appliance.config import KioskConfig
from appliance.printer_models import feed_units_per_dot
from drivers.printer.escpos_printer import Connection, EscposPrinter
from drivers.printer.render import LabelLayout, paper_dots
from drivers.printer.virtual import VirtualPrinter


def layout_from_config(config: KioskConfig) -> LabelLayout:
    width = config.paper_width_dots or paper_dots(config.paper_mm, config.printer_dpi)
    return LabelLayout(width_dots=width, dpi=config.printer_dpi, notice=config.label_notice)


def connection_from_config(config: KioskConfig) -> Connection:
    return Connection(
        kind=config.printer,
        usb_vendor=int(config.printer_usb_vendor or "0", 16),
        usb_product=int(config.printer_usb_product or "0", 16),
        serial_device=config.printer_serial_device,
        serial_baud=config.printer_serial_baud,
        host=config.printer_host,
        port=config.printer_port,
        file_path=config.printer_file,
        timeout_s=config.printer_timeout_s,
        status_timeout_s=config.printer_status_timeout_s,
    )


def printer_from_config(config: KioskConfig, labels_dir: Path) -> VirtualPrinter | EscposPrinter:
    """The virtual printer (files in ``labels_dir``) or the real one on its connection."""
    layout = layout_from_config(config)
    units = feed_units_per_dot(config.printer_model, config.printer_feed_units_per_dot)
    if config.printer == "virtual":
        return VirtualPrinter(labels_dir, layout, feed_units_per_dot=units)
    return EscposPrinter(connection_from_config(config), layout, feed_units_per_dot=units)

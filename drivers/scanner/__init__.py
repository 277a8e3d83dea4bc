"""The counter's barcode reader (staff registration of library cards), behind ``BarcodeScanner``.

Library barcode readers at a counter are mostly USB-serial devices (CDC-ACM, ``/dev/ttyACM0``)
or RS-232 ones: each scan arrives as one line of ASCII. :mod:`.serial_scanner` is the real
adapter (pyserial), :mod:`.memory` the shipped fake. A reader set up as a USB keyboard needs no
driver at all: it types into the focused number field like a person would.
"""

from __future__ import annotations

from appliance.config import KioskConfig
from appliance.ports import BarcodeScanner


def open_scanner(config: KioskConfig) -> BarcodeScanner | None:
    """The configured serial barcode reader, or ``None`` when this kiosk has none."""
    if config.scanner == "serial":
        from drivers.scanner.serial_scanner import SerialScanner

        return SerialScanner(config.scanner_device, config.scanner_baud)
    return None

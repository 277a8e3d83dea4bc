"""Printer models whose ESC/POS geometry we know: head density and the ``ESC J`` feed unit.

``ESC J n`` feeds n *vertical motion units*, and the unit is the printer's (``GS P`` sets it),
not a dot. On the generic 203 dpi printers the kiosk targets, one unit is one dot row. The
Epson TM-T88 family has a 180 dpi head (python-escpos's capability profiles: 512 dots on 80 mm)
and a default vertical motion unit of 1/360 inch (Epson's ESC/POS reference, ``GS P`` defaults
x = 180, y = 360), so one dot row is 2 units there: sent 1 unit a dot, every white gap of the
label would come out half as tall, and a blank row through a barcode could close up.

Only models whose figures are documented are listed; any other printer is "generic" (1 unit a
dot) unless the technician sets ``printer_feed_units_per_dot``. We do not send ``GS P`` to force
the unit: printers that do not know it may take its arguments as data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrinterModel:
    dpi: int  # dots per inch of the head
    feed_units_per_dot: int  # ESC J units per dot row, at the printer's default GS P


_TM_T88 = PrinterModel(dpi=180, feed_units_per_dot=2)
MODELS: dict[str, PrinterModel] = {
    name: _TM_T88 for name in ("TM-T88II", "TM-T88III", "TM-T88IV", "TM-T88V")
}
GENERIC_FEED_UNITS_PER_DOT = 1


def feed_units_per_dot(model: str, configured: int = 0) -> int:
    """ESC J units per dot row: ``configured`` when set (1..4), else the model's, else 1."""
    if configured:
        return configured
    known = MODELS.get(model)
    return known.feed_units_per_dot if known else GENERIC_FEED_UNITS_PER_DOT

"""Method B: the card number as a barcode drawn in the terminal, for the library's scanner.

Each character cell carries two modules with the half-block ``▌``: the left half in the glyph's
colour, the right half in the cell's background. That halves the width of the symbol (a 12-char
NW-7 symbol with quiet zones fits in ~85 columns) while every module stays exactly half a cell.
Colours are pure black on pure white whatever the theme: a scanner needs contrast, not style.
The geometry is the printer's (:func:`drivers.printer.codabar.pattern`: wide = 3 x narrow,
10-module quiet zones), so a screen barcode is read exactly like a label.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.widgets import Static

from appliance.errors import LabelError
from appliance.values import CardNumber, Symbology

_BLACK, _WHITE = "#000000", "#FFFFFF"


def barcode_text(data: str, rows: int = 6) -> Text:
    """``rows`` identical lines of half-block cells drawing the Codabar symbol ``data``."""
    # imported here: the codabar module brings Pillow, which the first frame does not need
    from drivers.printer.codabar import QUIET_MODULES, pattern

    modules = "0" * QUIET_MODULES + pattern(data) + "0" * QUIET_MODULES
    if len(modules) % 2:
        modules += "0"
    line = Text()
    for i in range(0, len(modules), 2):
        left = _BLACK if modules[i] == "1" else _WHITE
        right = _BLACK if modules[i + 1] == "1" else _WHITE
        line.append("▌", Style(color=left, bgcolor=right))
    return Text("\n").join([line] * rows)


class BarcodeView(Static):
    """A card number's barcode; only what the issuer's symbology allows (NW-7 for now)."""

    DEFAULT_CSS = "BarcodeView { width: auto; height: auto; }"

    def __init__(self, number: CardNumber, rows: int = 6, *, id: str | None = None) -> None:
        if number.issuer.symbology is not Symbology.CODABAR:
            raise LabelError(f"symbology {number.issuer.symbology.value} is not supported yet")
        super().__init__(barcode_text(number.barcode_data(), rows), id=id)

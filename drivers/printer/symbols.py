"""Every symbology a label can carry, as narrow modules drawn at whole-dot widths.

Who encodes what, and why:

- **NW-7/Codabar**: our own :mod:`drivers.printer.codabar`. python-barcode has a Codabar class,
  but it draws wide elements at 2 modules (ratio 2, the bottom of the 2.0-3.0 range, which dot
  gain on a thermal head pushes below spec) and has no per-character check we could reuse.
- **Code39** and **Code128**: python-barcode (already installed as python-escpos's dependency).
  Its ``build()`` returns the symbol as a string of narrow modules, which is exactly the control
  we need: Code39 wide elements are 3 modules (ratio 3), Code128 picks code sets A/B/C and adds its
  modulo-103 check. We use only that module string and draw it ourselves; python-barcode's image
  writer (like python-escpos's ``barcode()``) sizes modules in millimetres, which lands bars on
  fractional dots, and it cannot be told to keep quiet zones of 10 modules.

Code39 is drawn without its optional modulo-43 check character (the library systems we know do
not expect it; the card number carries its own check digit). python-barcode silently upper-cases
Code39 data; :mod:`appliance.checkdigits` refuses lower case before a number gets this far, and
:func:`modules` refuses it again here so that no label ever shows different data than asked.
"""

from __future__ import annotations

from barcode.codex import Code39, Code128
from barcode.errors import BarcodeError
from PIL import Image, ImageDraw

from appliance.errors import LabelError
from appliance.values import Symbology
from drivers.printer import codabar

QUIET_MODULES = 10
MIN_NARROW_DOTS = 2
_CODE39 = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
_WHITE = 255  # mode "1" white


def modules(symbology: Symbology, data: str) -> str:
    """The symbol as narrow modules, ``"1"`` = bar; quiet zones not included.

    ``LabelError`` when ``data`` cannot be encoded (never quoting ``data``: it is a card number).
    """
    if symbology is Symbology.CODABAR:
        return codabar.pattern(data)
    if not data:
        raise LabelError("empty barcode data")
    if symbology is Symbology.CODE39:
        if any(ch not in _CODE39 for ch in data):
            raise LabelError("characters outside the Code39 set")
        return _build(Code39, data, add_checksum=False)
    if symbology is Symbology.CODE128:
        if not (data.isascii() and data.isprintable()):
            raise LabelError("Code128 labels carry printable ASCII only")
        return _build(Code128, data)
    raise LabelError(f"symbology {symbology.value} is not supported")


def _build(kind: type[Code39] | type[Code128], data: str, **options: bool) -> str:
    try:
        built = kind(data, **options).build()
    except BarcodeError as exc:
        raise LabelError(f"{kind.name}: cannot encode ({type(exc).__name__})") from exc
    return "".join(built)


def symbol_width(symbology: Symbology, data: str, narrow: int) -> int:
    """Width in dots of the drawn symbol, both 10-module quiet zones included."""
    _check_narrow(narrow)
    return (len(modules(symbology, data)) + 2 * QUIET_MODULES) * narrow


def draw(symbology: Symbology, data: str, narrow: int = 3, height: int = 80) -> Image.Image:
    """A mode ``"1"`` image of the symbol with its quiet zones, every bar ``narrow`` x k dots."""
    _check_narrow(narrow)
    if height < 1:
        raise ValueError("barcode height must be at least 1 dot")
    pattern = modules(symbology, data)
    image = Image.new("1", ((len(pattern) + 2 * QUIET_MODULES) * narrow, height), _WHITE)
    pen = ImageDraw.Draw(image)
    x = QUIET_MODULES * narrow
    start = None
    for i, module in enumerate(pattern + "0"):
        if module == "1" and start is None:
            start = i
        elif module == "0" and start is not None:  # one rectangle per bar, not per module
            pen.rectangle((x + start * narrow, 0, x + i * narrow - 1, height - 1), fill=0)
            start = None
    return image


def _check_narrow(narrow: int) -> None:
    if narrow < MIN_NARROW_DOTS:
        raise ValueError(f"narrow bar must be at least {MIN_NARROW_DOTS} dots, got {narrow}")

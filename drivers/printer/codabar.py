"""NW-7 / Codabar: the module pattern and a whole-dot drawing of it.

Why our own encoder rather than python-escpos's ``barcode()``: the printer-native command is
missing from cheap printer profiles, and python-escpos's software fallback scales bars to
fractional widths (uneven bars on a 203 dpi head) without quiet zones. A self-checkout scanner
reads a label only if every bar is a whole number of dots, wide:narrow is steady, and the quiet
zones are there (LABELS.md), so we control all three here and print the result as a raster image.

Geometry: narrow element = ``narrow`` dots (>= 2), wide = 3 x narrow (ratio 3, the top of the
2.0-3.0 spec range, which survives dot gain best), inter-character gap = one narrow space, quiet
zone = 10 narrow modules on each side.

The data passed in is the full symbol including its start/stop characters (``A1800000001A``),
exactly what :meth:`appliance.values.CardNumber.barcode_data` returns and what the decoders
report. Bad data raises :class:`~appliance.errors.LabelError` (a label cannot be made), listing
every problem at once and never echoing the data itself (it is a card number).
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from appliance.errors import LabelError

WIDE_RATIO = 3
QUIET_MODULES = 10
MIN_NARROW_DOTS = 2
START_STOP = "ABCD"
DATA_CHARS = "0123456789-$:/.+"
_WHITE = 255  # mode "1" white; Image.new(..., 1) would store a non-canonical 1

# Seven elements per character, bar/space/bar/space/bar/space/bar; "1" marks a wide element.
_WIDE_ELEMENTS = {
    "0": "0000011",
    "1": "0000110",
    "2": "0001001",
    "3": "1100000",
    "4": "0010010",
    "5": "1000010",
    "6": "0100001",
    "7": "0100100",
    "8": "0110000",
    "9": "1001000",
    "-": "0001100",
    "$": "0011000",
    ":": "1000101",
    "/": "1010001",
    ".": "1010100",
    "+": "0010101",
    "A": "0011010",
    "B": "0101001",
    "C": "0001011",
    "D": "0001110",
}


def problems(data: str) -> list[str]:
    """Every reason ``data`` is not a Codabar symbol (empty list = valid). Never quotes ``data``."""
    if len(data) < 3:
        return ["a Codabar symbol needs a start character, data and a stop character"]
    found: list[str] = []
    for where, ch in (("start", data[0]), ("stop", data[-1])):
        if ch not in START_STOP:
            found.append(f"{where} character must be one of A-D")
    bad = [i for i, ch in enumerate(data[1:-1], start=1) if ch not in DATA_CHARS]
    if bad:
        found.append(f"characters outside 0-9 - $ : / . + at positions {bad}")
    return found


def pattern(data: str) -> str:
    """The symbol as narrow modules: ``"1"`` = bar, ``"0"`` = space; quiet zones not included.

    Raises ``LabelError`` when ``data`` is not a valid Codabar symbol (see :func:`problems`).
    """
    found = problems(data)
    if found:
        raise LabelError("; ".join(found))
    chars = []
    for ch in data:
        modules = []
        for i, wide in enumerate(_WIDE_ELEMENTS[ch]):
            mark = "1" if i % 2 == 0 else "0"
            modules.append(mark * (WIDE_RATIO if wide == "1" else 1))
        chars.append("".join(modules))
    return "0".join(chars)  # one narrow space between characters


def symbol_width(data: str, narrow: int) -> int:
    """Width in dots of the drawn symbol, both quiet zones included."""
    _check_narrow(narrow)
    return (len(pattern(data)) + 2 * QUIET_MODULES) * narrow


def draw(data: str, narrow: int = 3, height: int = 80) -> Image.Image:
    """A mode ``"1"`` image of the symbol, quiet zones included, every bar ``narrow`` x k dots."""
    _check_narrow(narrow)
    if height < 1:
        raise ValueError("barcode height must be at least 1 dot")
    modules = pattern(data)
    image = Image.new("1", ((len(modules) + 2 * QUIET_MODULES) * narrow, height), _WHITE)
    pen = ImageDraw.Draw(image)
    x = QUIET_MODULES * narrow
    for module in modules:
        if module == "1":
            pen.rectangle((x, 0, x + narrow - 1, height - 1), fill=0)
        x += narrow
    return image


def _check_narrow(narrow: int) -> None:
    if narrow < MIN_NARROW_DOTS:
        raise ValueError(f"narrow bar must be at least {MIN_NARROW_DOTS} dots, got {narrow}")

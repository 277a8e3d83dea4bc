"""A label job as a 1-bit image at the printer's dot density.

Top to bottom: library name, barcode, masked card number, date, 「本日限り有効 / Valid today only」.
Nothing else about the person is ever on it (ARCHITECTURE.md, Label). All text is rasterised here
with a CJK font: python-escpos's text path cannot print kanji, and since no text is sent to the
printer as text, nothing in a configured name can act as an ESC/POS command. Control and format
characters are still removed before drawing so that they do not show as tofu boxes.

The barcode is drawn by :mod:`drivers.printer.codabar` at whole-dot widths; the narrow bar is the
widest of 3 or 2 dots that fits the paper with its quiet zones (at least 10 modules *and* 2.54 mm:
at 203 dpi ten 2-dot modules are only 2.50 mm). A symbol that does not fit even at
2 dots raises ``LabelError``: a label that does not scan is worse than none.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from appliance.errors import LabelError
from appliance.values import LabelJob, Symbology
from drivers.printer import codabar

VALID_TODAY = "本日限り有効 / Valid today only"
PROVISIONAL = "仮 / provisional"

_NARROW_CHOICES = (3, 2)  # dots; 3 (0.375 mm at 203 dpi) preferred, 2 is the floor (LABELS.md)
_MARGIN = 8  # dots left, right, top and bottom of the text
_GAP = 10  # dots between blocks
_MIN_FONT = 16  # px; below this thermal kanji stop being legible
_Font = ImageFont.FreeTypeFont
_WHITE = 255  # mode "1" white; Image.new(..., 1) would store a non-canonical 1


@dataclass(frozen=True)
class LabelLayout:
    """Paper and font. ``width_dots``: printable width in dots (384 = 58 mm, 576 = 80 mm)."""

    width_dots: int = 384
    dpi: int = 203  # dots per inch of the head
    font_path: str = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
    barcode_height_mm: float = 12.0  # bar height; taller bars forgive a tilted scan

    def __post_init__(self) -> None:
        if self.width_dots < 128 or self.width_dots % 8:
            raise ValueError("width_dots must be a multiple of 8 and at least 128")

    @property
    def barcode_height_dots(self) -> int:
        return round(self.barcode_height_mm * self.dpi / 25.4)

    @property
    def min_quiet_dots(self) -> int:
        """Quiet zone floor in dots: 0.1 inch (2.54 mm, LABELS.md), whatever the bar width."""
        return math.ceil(self.dpi / 10)


DEFAULT_LAYOUT = LabelLayout()


def render_label(job: LabelJob, layout: LabelLayout = DEFAULT_LAYOUT) -> Image.Image:
    """The label for ``job`` as a mode ``"1"`` image exactly ``layout.width_dots`` wide."""
    number = job.number
    if number.issuer.symbology is not Symbology.CODABAR:
        raise LabelError(f"symbology {number.issuer.symbology.value} is not supported yet")
    try:
        issued = dt.date.fromisoformat(job.issued_on)
    except ValueError as exc:
        raise LabelError("label date is not an ISO date") from exc
    barcode = _barcode(number.barcode_data(), layout)
    blocks: list[Image.Image] = []
    name = _clean(number.issuer.name)
    if name:
        blocks.append(_text(name, layout, size=32))
    if job.provisional:  # bookmobile: a token, resolved to the card number back online
        blocks.append(_text(f"{PROVISIONAL} {job.stop}".strip(), layout, size=28))
    blocks.append(barcode)
    blocks.append(_text(number.masked(), layout, size=28))
    blocks.append(_text(issued.isoformat(), layout, size=28))
    blocks.append(_text(VALID_TODAY, layout, size=24))
    return _stack(blocks, layout.width_dots)


def _barcode(data: str, layout: LabelLayout) -> Image.Image:
    """The symbol at the widest narrow bar whose quiet zones (10 modules and 2.54 mm) still fit.

    The drawing carries 10-module zones; centring it on the label adds the rest.
    """
    for narrow in _NARROW_CHOICES:
        quiet = max(codabar.QUIET_MODULES * narrow, layout.min_quiet_dots)
        bars = codabar.symbol_width(data, narrow) - 2 * codabar.QUIET_MODULES * narrow
        if bars + 2 * quiet <= layout.width_dots:
            return codabar.draw(data, narrow, layout.barcode_height_dots)
    raise LabelError(
        f"barcode of {len(data)} characters does not fit {layout.width_dots} dots "
        f"at a {_NARROW_CHOICES[-1]}-dot narrow bar"
    )


def _clean(text: str) -> str:
    """Text safe to draw: whitespace controls become spaces, other control/format chars go."""
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch.isspace():
            kept.append(" ")
        elif not category.startswith("C"):  # Cc control, Cf format, Cs/Co/Cn
            kept.append(ch)
    return " ".join("".join(kept).split())


@functools.lru_cache(maxsize=32)
def _font(path: str, size: int) -> _Font:
    try:
        return ImageFont.truetype(path, size)
    except OSError as exc:
        raise LabelError(f"label font not found or unreadable: {path}") from exc


def _text(text: str, layout: LabelLayout, size: int) -> Image.Image:
    """One centred text block: shrink to fit the width, then wrap by character at the floor."""
    text = _clean(text)
    room = layout.width_dots - 2 * _MARGIN
    font = _font(layout.font_path, size)
    while font.getlength(text) > room and size > _MIN_FONT:
        size -= 2
        font = _font(layout.font_path, size)
    lines = _wrap(text, font, room)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    block = Image.new("1", (layout.width_dots, line_height * len(lines)), _WHITE)
    pen = ImageDraw.Draw(block)
    for i, line in enumerate(lines):
        x = (layout.width_dots - round(font.getlength(line))) // 2
        pen.text((x, i * line_height), line, font=font, fill=0)
    return block


def _wrap(text: str, font: _Font, room: int) -> list[str]:
    lines = [""]
    for ch in text:
        if lines[-1] and font.getlength(lines[-1] + ch) > room:
            lines.append("")
        lines[-1] += ch
    return lines


def _stack(blocks: list[Image.Image], width: int) -> Image.Image:
    height = 2 * _MARGIN + sum(b.height for b in blocks) + _GAP * (len(blocks) - 1)
    label = Image.new("1", (width, height), _WHITE)
    y = _MARGIN
    for block in blocks:
        label.paste(block, ((width - block.width) // 2, y))
        y += block.height + _GAP
    return label

"""A label job as a 1-bit image at the printer's dot density.

Top to bottom: library name, barcode, the number as the issuer shows it (masked by default), date,
「本日限り有効 / Valid today only」 and a short notice. Nothing else about the person is ever on it
(ARCHITECTURE.md, Label). All text is rasterised here
with a CJK font: python-escpos's text path cannot print kanji, and since no text is sent to the
printer as text, nothing in a configured name can act as an ESC/POS command. Control and format
characters are still removed before drawing so that they do not show as tofu boxes.

The barcode is drawn by :mod:`drivers.printer.symbols` at whole-dot widths; the narrow bar is the
widest whole number of dots up to about 0.38 mm (3 dots at 180 and 203 dpi, 4 at 300 dpi), down to
2 dots, that fits the paper with its quiet zones (at least 10 modules *and* 2.54 mm: at 203 dpi ten
2-dot modules are only 2.50 mm). A symbol that does not fit across even at 2 dots is printed
*sideways* (turned 90°, start at the top, bars across the paper), where only its length limits
it: up to 80 mm along the paper, quiet zones included, about what a hand scanner's window takes
(a 10-character Code39 on 58 mm paper at 180 or 203 dpi). Longer than that raises
``LabelError``: a label that does not scan is worse than none. Font sizes are given at 203 dpi
and scaled to the head, so a label has the same size in millimetres at 180, 203 and 300 dpi.

On a 300 dpi head the label is drawn in row pairs: each pair of dot rows becomes one row printed
twice, black where either was (300 x 150 dpi; the text gets a little bolder, never thinner).
That is what keeps a 300 dpi label near the 203 dpi one on the wire (issue 4: an 80 mm label
in 10 KB): :mod:`drivers.printer.escpos_output` sends such rows once, in double-height mode.
The barcode loses nothing: its rows are identical anyway (at most one row taller), and its
bars keep the full 300 dpi across, which is the direction a scanner reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFont

from appliance.errors import LabelError
from appliance.values import CardNumber, LabelJob
from drivers.printer import symbols

VALID_TODAY = "本日限り有効 / Valid today only"
NOTICE = "自動貸出機でお使いください / For the self-checkout"
DPIS = (180, 203, 300)
PRINTABLE_MM = {58: 48.0, 80: 72.0}  # printable width of the usual thermal paper rolls
PROVISIONAL = "仮 / provisional"
MAX_SIDEWAYS_MM = 80  # longest sideways symbol, quiet zones included

_MAX_NARROW_MM = 0.38  # widest narrow bar we aim for; 2 dots is the floor (LABELS.md)
_MARGIN = 8  # dots left, right, top and bottom of the text
_GAP = 10  # dots between blocks
_MIN_FONT = 16  # px; below this thermal kanji stop being legible
_Font = ImageFont.FreeTypeFont
_WHITE = 255  # mode "1" white; Image.new(..., 1) would store a non-canonical 1


def paper_dots(paper_mm: int, dpi: int) -> int:
    """Printable width in dots of a ``paper_mm`` roll at ``dpi``, in whole bytes.

    384 and 576 at 203 dpi, 344 and 512 at 180 dpi, 568 and 848 at 300 dpi. A printer whose
    printable width differs sets ``paper_width_dots`` in the config instead.
    """
    if paper_mm not in PRINTABLE_MM:
        raise ValueError(f"paper must be one of {sorted(PRINTABLE_MM)} mm, got {paper_mm}")
    return round(PRINTABLE_MM[paper_mm] * dpi / 25.4 / 8) * 8


@dataclass(frozen=True)
class LabelLayout:
    """Paper, head and font. ``width_dots``: printable width in dots (384 = 58 mm at 203 dpi)."""

    width_dots: int = 384
    dpi: int = 203  # dots per inch of the head: 180, 203 or 300
    font_path: str = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
    barcode_height_mm: float = 12.0  # bar height; taller bars forgive a tilted scan
    notice: str = NOTICE  # the short notice at the bottom; "" = none (config: label_notice)

    def __post_init__(self) -> None:
        if self.width_dots < 128 or self.width_dots % 8:
            raise ValueError("width_dots must be a multiple of 8 and at least 128")
        if self.dpi not in DPIS:
            raise ValueError(f"dpi must be one of {DPIS}, got {self.dpi}")

    @classmethod
    def for_paper(cls, paper_mm: int = 58, dpi: int = 203, **kw: object) -> LabelLayout:
        """The layout of a ``paper_mm`` roll on a ``dpi`` head."""
        return cls(width_dots=paper_dots(paper_mm, dpi), dpi=dpi, **kw)  # type: ignore[arg-type]

    def px(self, size_at_203: int) -> int:
        """A font size given at 203 dpi, scaled to this head."""
        return round(size_at_203 * self.dpi / 203)

    @property
    def narrow_choices(self) -> tuple[int, ...]:
        """Narrow-bar widths to try, widest first: up to about 0.38 mm, never below 2 dots."""
        widest = max(symbols.MIN_NARROW_DOTS, round(_MAX_NARROW_MM * self.dpi / 25.4))
        return tuple(range(widest, symbols.MIN_NARROW_DOTS - 1, -1))

    @property
    def paired_rows(self) -> bool:
        """Whether labels are drawn in row pairs (300 x 150 dpi: see the module docstring)."""
        return self.dpi >= 300

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
    try:
        issued = dt.date.fromisoformat(job.issued_on)
    except ValueError as exc:
        raise LabelError("label date is not an ISO date") from exc
    barcode = _barcode(number, layout)
    blocks: list[Image.Image] = []
    name = _clean(number.issuer.name)
    if name:
        blocks.append(_shared_text(name, layout, size=layout.px(32)))
    if job.provisional:  # bookmobile: a token, resolved to the card number back online
        blocks.append(_text(f"{PROVISIONAL} {job.stop}".strip(), layout, size=layout.px(28)))
    blocks.append(barcode)
    shown = number.label_text()
    if shown:  # the patron's number: drawn each time, never kept in a cache
        blocks.append(_text(shown, layout, size=layout.px(28)))
    if job.valid_hours:  # a day-token label says its hours (the SIP2 gateway enforces them)
        blocks.append(_text(job.valid_hours, layout, size=layout.px(28)))
    else:
        blocks.append(_shared_text(issued.isoformat(), layout, size=layout.px(28)))
    blocks.append(_shared_text(VALID_TODAY, layout, size=layout.px(24)))
    notice = _clean(layout.notice)
    if notice:
        blocks.append(_shared_text(notice, layout, size=layout.px(20)))
    label = _stack(blocks, layout.width_dots, layout)
    return _paired(label) if layout.paired_rows else label


def _paired(image: Image.Image) -> Image.Image:
    """Rows 0-1, 2-3, ... each made one row drawn twice, black where either row was black."""
    width, half = image.width, (image.height + 1) // 2
    rows = []
    for first in (0, 1):  # output row y samples input row 2y + first (its centre is 2y+first+.5)
        matrix = (1, 0, 0, 0, 2, first - 1)
        rows.append(image.transform((width, half), Image.Transform.AFFINE, matrix,
                                    Image.Resampling.NEAREST, fillcolor=_WHITE))  # fmt: skip
    merged = ImageChops.logical_and(*rows)  # white AND white: ink where either row had ink
    return merged.resize((width, 2 * half), Image.Resampling.NEAREST)


def _barcode(number: CardNumber, layout: LabelLayout) -> Image.Image:
    """The symbol at the widest narrow bar whose quiet zones (10 modules and 2.54 mm) still fit
    across; else sideways at the widest narrow bar that fits :data:`MAX_SIDEWAYS_MM`.

    The drawing carries 10-module zones; centring it on the label (across) or padding it
    (sideways) adds the rest.
    """
    symbology, data = number.issuer.symbology, number.barcode_data()
    bars = len(symbols.modules(symbology, data))
    for narrow in layout.narrow_choices:
        quiet = max(symbols.QUIET_MODULES * narrow, layout.min_quiet_dots)
        if bars * narrow + 2 * quiet <= layout.width_dots:
            return symbols.draw(symbology, data, narrow, layout.barcode_height_dots)
    longest = MAX_SIDEWAYS_MM * layout.dpi / 25.4
    for narrow in layout.narrow_choices:
        quiet = max(symbols.QUIET_MODULES * narrow, layout.min_quiet_dots)
        if bars * narrow + 2 * quiet <= longest:
            drawn = symbols.draw(symbology, data, narrow, layout.barcode_height_dots)
            pad = quiet - symbols.QUIET_MODULES * narrow
            padded = Image.new("1", (drawn.width + 2 * pad, drawn.height), _WHITE)
            padded.paste(drawn, (pad, 0))
            return padded.transpose(Image.Transpose.ROTATE_270)  # start at the top
    raise LabelError(
        f"{symbology.value} barcode of {len(data)} characters does not fit "
        f"{layout.width_dots} dots across nor {MAX_SIDEWAYS_MM} mm sideways "
        f"at a {symbols.MIN_NARROW_DOTS}-dot narrow bar"
    )


def is_sideways(number: CardNumber, layout: LabelLayout) -> bool:
    """Whether ``number``'s barcode is printed sideways on ``layout`` (for tests and tools)."""
    symbol = _barcode(number, layout)
    return symbol.height > symbol.width


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


@functools.lru_cache(maxsize=64)
def _shared_text(text: str, layout: LabelLayout, size: int) -> Image.Image:
    """:func:`_text` for what every label of the day shares (library name, date, notices).

    Rasterising kanji is most of a label's render time, and these blocks are the same for every
    patron. Only pasted from, never drawn on. The card number never goes through here.
    """
    return _text(text, layout, size)


def _text(text: str, layout: LabelLayout, size: int) -> Image.Image:
    """One centred text block: shrink to fit the width, then wrap by character at the floor.

    A bilingual ``日本語 / English`` text that does not fit one line goes as one line per language.
    """
    text = _clean(text)
    room = layout.width_dots - 2 * _MARGIN
    floor = layout.px(_MIN_FONT)
    parts = [text]
    font = _fitted(text, layout.font_path, size, floor, room)
    if font.getlength(text) > room and " / " in text:
        parts = text.split(" / ")
        font = _fitted(max(parts, key=len), layout.font_path, size, floor, room)
    lines = [line for part in parts for line in _wrap(part, font, room)]
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    block = Image.new("1", (layout.width_dots, line_height * len(lines)), _WHITE)
    pen = ImageDraw.Draw(block)
    for i, line in enumerate(lines):
        x = (layout.width_dots - round(font.getlength(line))) // 2
        pen.text((x, i * line_height), line, font=font, fill=0)
    return block


def _fitted(text: str, path: str, size: int, floor: int, room: int) -> _Font:
    """The font at ``size``, shrunk in 2 px steps until ``text`` fits ``room`` or ``floor``."""
    font = _font(path, size)
    while font.getlength(text) > room and size > floor:
        size -= 2
        font = _font(path, size)
    return font


def _wrap(text: str, font: _Font, room: int) -> list[str]:
    """Greedy by character (kanji have no spaces), but a Latin word moves whole to the next line."""
    lines = [""]
    for ch in text:
        if lines[-1] and font.getlength(lines[-1] + ch) > room:
            head, space, tail = lines[-1].rpartition(" ")
            if space and head and ch != " ":
                lines[-1] = head
                lines.append(tail)
            else:
                lines.append("")
        if ch != " " or lines[-1]:
            lines[-1] += ch
    return [line.strip() for line in lines]


def _stack(blocks: list[Image.Image], width: int, layout: LabelLayout) -> Image.Image:
    margin, gap = layout.px(_MARGIN), layout.px(_GAP)
    height = 2 * margin + sum(b.height for b in blocks) + gap * (len(blocks) - 1)
    label = Image.new("1", (width, height), _WHITE)
    y = margin
    for block in blocks:
        label.paste(block, ((width - block.width) // 2, y))
        y += block.height + gap
    return label

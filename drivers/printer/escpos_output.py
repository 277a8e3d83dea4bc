"""A label image as the exact ESC/POS bytes a printer receives, made by python-escpos.

python-escpos's ``Dummy`` printer collects bytes instead of sending them, so the real adapter, the
virtual printer and the tests all share one byte stream. No text command is ever emitted.

A label is mostly white paper, and a 115,200-baud serial link moves about 11 KB a second, so the
stream spends bytes only on dots (issue 4: an 80 mm label in at most 10 KB):

- ``ESC @`` resets whatever the last job left set; ``ESC a 1`` centres what follows.
- White rows become paper feed, ``ESC J n`` (n dots), not raster rows of zeros.
- Each band of printed rows is one ``GS v 0`` raster block (python-escpos ``bitImageRaster``, the
  most widely supported image command), cropped by the same number of white bytes on the left and
  the right: centred by the printer, it lands exactly where it was drawn.
- A block whose rows come in identical pairs (the barcode's bars; the text of a 300 dpi label,
  which :mod:`drivers.printer.render` draws in row pairs) is sent at half its height in
  double-height mode (``GS v 0`` m = 2), and one whose columns also come in pairs (bars whose
  every edge falls on an even dot: the 4-dot narrow bar at 300 dpi) at half its width too
  (m = 3): a quarter of the bytes. Each scale is taken only when stretching the smaller block
  back gives exactly the band's pixels, so the encoding is lossless by construction.
- ``cut()``: feed, full cut.

``ESC J n`` feeds n *vertical motion units*. On the 203 dpi printers this kiosk targets the unit
is one dot row; a printer whose unit is finer (an Epson TM-T88 counts 1/360 inch on a 180 dpi
head) sets ``feed_units_per_dot`` (config ``printer_model`` or ``printer_feed_units_per_dot``,
:mod:`appliance.printer_models`). A long feed is split into ``ESC J`` steps of whole dots, so
no step ends half-way through a dot row.

The profile's paper width is set to the caller's ``max_width_dots`` (or the image's width) so that
python-escpos checks the width for us instead of printing a warning to stdout; its exceptions are
translated into ``PrinterError`` here (STYLE.md 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy
from PIL import Image

from appliance.errors import PrinterError

_ESC = b"\x1b"
CENTRE = _ESC + b"a\x01"
_MAX_FEED = 255  # ESC J takes one byte
_MIN_DOUBLED = 8  # identical rows worth a double-height block of their own


def label_bytes(
    image: Image.Image, *, max_width_dots: int | None = None, feed_units_per_dot: int = 1
) -> bytes:
    """ESC/POS bytes printing ``image`` then cutting; ``PrinterError`` if it cannot be printed.

    ``max_width_dots`` is the printer's printable width; an image wider than it is refused.
    """
    width = image.width if max_width_dots is None else max_width_dots
    if image.width > width:
        raise PrinterError(f"label image too large for the printer ({image.width} > {width} dots)")
    if image.width < width:  # centre it on the paper, as the printer centres each block
        wide = Image.new("1", (width, image.height), 255)
        wide.paste(image.convert("1"), ((width - image.width) // 2, 0))
        image = wide
    printer = Dummy()
    printer.profile.profile_data = _with_width(printer.profile.profile_data, width)
    try:
        printer.hw("INIT")
        printer._raw(CENTRE)
        image = image.convert("1")
        for kind, top, bottom, margin in _bands(image):
            if kind == "feed":
                _feed(printer, bottom - top, feed_units_per_dot)
            else:
                _raster(printer, image.crop((margin * 8, top, width - margin * 8, bottom)))
        printer.cut()
    except EscposError as exc:
        raise PrinterError(f"python-escpos refused the label: {exc}") from exc
    output: bytes = printer.output
    return output


def raster_bytes(image: Image.Image, *, max_width_dots: int | None = None) -> bytes:
    """The image as plain full-width raster rows, white ones too (the benchmark's baseline)."""
    printer = Dummy()
    printer.profile.profile_data = _with_width(
        printer.profile.profile_data, image.width if max_width_dots is None else max_width_dots
    )
    try:
        printer.hw("INIT")
        printer.image(image, impl="bitImageRaster")
        printer.cut()
    except EscposError as exc:
        raise PrinterError(f"python-escpos refused the label: {exc}") from exc
    output: bytes = printer.output
    return output


def _bands(image: Image.Image) -> Iterator[tuple[str, int, int, int]]:
    """``(kind, top, bottom, margin)``: ``feed`` (white rows), ``double`` (identical rows) or
    ``rows``; ``margin`` = white bytes on *each* side of the band, to crop (it prints centred)."""
    width_bytes = (image.width + 7) // 8
    packed = image.tobytes()
    rows = [packed[y * width_bytes : (y + 1) * width_bytes] for y in range(image.height)]
    white = b"\xff" * width_bytes  # mode "1" packs white as 1 bits
    y = 0
    while y < len(rows):
        end = y + 1
        while end < len(rows) and rows[end] == rows[y]:
            end += 1
        if rows[y] == white:
            yield "feed", y, end, 0
        elif end - y >= _MIN_DOUBLED:
            half = (end - y) // 2 * 2
            yield "double", y, y + half, _margin(rows[y : y + 1])
            if half < end - y:
                yield "rows", y + half, end, _margin(rows[y : y + 1])
        else:  # gather rows up to the next white row or long identical run
            end = y + 1
            while end < len(rows) and rows[end] != white and not _run_starts(rows, end):
                end += 1
            yield "rows", y, end, _margin(rows[y:end])
        y = end


def _margin(rows: list[bytes]) -> int:
    """White bytes that every row has on both its left and its right."""
    size = len(rows[0])
    return min(min(size - len(r.lstrip(b"\xff")), size - len(r.rstrip(b"\xff"))) for r in rows)


def _run_starts(rows: list[bytes], y: int) -> bool:
    return rows[y : y + _MIN_DOUBLED] == [rows[y]] * _MIN_DOUBLED


def _feed(printer: Dummy, dots: int, units_per_dot: int) -> None:
    units, largest = dots * units_per_dot, _MAX_FEED - _MAX_FEED % units_per_dot
    while units > 0:
        step = min(units, largest)
        printer._raw(_ESC + b"J" + bytes([step]))
        units -= step


def _raster(printer: Dummy, band: Image.Image) -> None:
    """One ``GS v 0`` block at the smallest scale that stretches back to exactly ``band``."""
    for scale_x, scale_y in ((2, 2), (1, 2), (2, 1)):
        small = _shrunk(band, scale_x, scale_y)
        if small is not None:
            printer.image(small, impl="bitImageRaster", high_density_horizontal=scale_x == 1,
                          high_density_vertical=scale_y == 1)  # fmt: skip
            return
    printer.image(band, impl="bitImageRaster")


def _shrunk(band: Image.Image, scale_x: int, scale_y: int) -> Image.Image | None:
    """``band`` at 1/scale, or None if the printer's stretch would not give it back exactly."""
    width, height = band.width // scale_x, band.height // scale_y
    if width * scale_x != band.width or height * scale_y != band.height or width % 8:
        return None  # a raster block is whole bytes wide; a stretched one must be the band's
    small = band.resize((width, height), Image.Resampling.NEAREST)
    stretched = small.resize(band.size, Image.Resampling.NEAREST)
    return small if stretched.tobytes() == band.tobytes() else None


def _with_width(profile_data: dict[str, Any], width_dots: int) -> dict[str, Any]:
    """A copy of the profile data with the media width set (the shared original stays as is)."""
    media = profile_data["media"]
    return {**profile_data, "media": {**media, "width": {**media["width"], "pixels": width_dots}}}

"""A label image as the exact ESC/POS bytes a printer receives, made by python-escpos.

python-escpos's ``Dummy`` printer collects bytes instead of sending them, so the real adapter, the
virtual printer and the tests all share one byte stream: ``ESC @`` (reset whatever the last job
left set), one or more ``GS v 0`` raster blocks (``bitImageRaster``: the most widely supported
image command), then ``cut()`` (feed, full cut). No text command is ever emitted.

The profile's paper width is set to the image's width (or the caller's ``max_width_dots``) so that
python-escpos checks the width for us instead of printing a warning to stdout; its exceptions are
translated into ``PrinterError`` here (STYLE.md 3).
"""

from __future__ import annotations

from typing import Any

from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy
from PIL import Image

from appliance.errors import PrinterError


def label_bytes(image: Image.Image, *, max_width_dots: int | None = None) -> bytes:
    """ESC/POS bytes printing ``image`` then cutting; ``PrinterError`` if it cannot be printed.

    ``max_width_dots`` is the printer's printable width; an image wider than it is refused.
    """
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


def _with_width(profile_data: dict[str, Any], width_dots: int) -> dict[str, Any]:
    """A copy of the profile data with the media width set (the shared original stays as is)."""
    media = profile_data["media"]
    return {**profile_data, "media": {**media, "width": {**media["width"], "pixels": width_dots}}}

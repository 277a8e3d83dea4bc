"""Two independent barcode decoders, for tests that must prove a label scans.

A label counts as good only when zbar *and* zxing-cpp both read exactly the expected data
(LABELS.md): one decoder alone can be lenient in ways a library's scanner is not.

Checked with pyzbar 0.1.9 (libzbar0) and zxing-cpp 3.1: both report Codabar with its start/stop
characters, upper case (``A1800000001A``), so no normalisation is needed; the helpers only turn
zbar's bytes into text. Code39 comes back without its ``*`` frame from both, Code128 as its data.
Each decoder is asked for the one expected symbology only, so a label cannot pass by being
misread as another. The decoders are imported lazily: this module is a pytest plugin loaded
for every test, and a missing libzbar must fail only the tests that decode.

The print defects below imitate what a worn or cheap thermal head does to a label; a label must
still scan with both decoders after each of them.
"""

from __future__ import annotations

from itertools import groupby

from PIL import Image, ImageChops, ImageFilter


def decode_zbar(image: Image.Image, symbology: str = "codabar") -> list[str]:
    """``symbology`` symbols zbar finds in ``image`` (Codabar: start/stop characters included)."""
    from pyzbar.pyzbar import ZBarSymbol, decode

    kind = {"codabar": ZBarSymbol.CODABAR, "code39": ZBarSymbol.CODE39,
            "code128": ZBarSymbol.CODE128}[symbology]  # fmt: skip
    found = decode(image.convert("L"), symbols=[kind])
    return [symbol.data.decode("ascii") for symbol in found]


def decode_zxing(image: Image.Image, symbology: str = "codabar") -> list[str]:
    """``symbology`` symbols zxing-cpp finds in ``image`` (Codabar: start/stop included)."""
    import zxingcpp

    kind = {"codabar": zxingcpp.BarcodeFormat.Codabar, "code39": zxingcpp.BarcodeFormat.Code39,
            "code128": zxingcpp.BarcodeFormat.Code128}[symbology]  # fmt: skip
    found = zxingcpp.read_barcodes(image.convert("L"), formats=kind)
    return [barcode.text for barcode in found]


def decode_both(image: Image.Image, symbology: str = "codabar") -> tuple[list[str], list[str]]:
    """``(zbar, zxing)`` results for ``image``; compare both to the expected data."""
    return decode_zbar(image, symbology), decode_zxing(image, symbology)


def blurred(image: Image.Image, radius: float = 1.0) -> Image.Image:
    """Slight blur, then back to 1 bit at mid-grey: ink spread plus a scanner's threshold."""
    grey = image.convert("L").filter(ImageFilter.GaussianBlur(radius))
    return grey.point(lambda v: 255 if v >= 128 else 0).convert("1")


def lost_row(image: Image.Image, y: int) -> Image.Image:
    """One dot row not printed (white across the whole width)."""
    damaged = image.copy()
    damaged.paste(255, (0, y, image.width, y + 1))
    return damaged


def grown_bars(image: Image.Image, dots: int = 1) -> Image.Image:
    """Every black run ``dots`` wider to the right: dot gain on a hot head."""
    grey = image.convert("L")
    shifted = ImageChops.offset(grey, dots, 0)
    return ImageChops.darker(grey, shifted).convert("1")


def row_runs(image: Image.Image, y: int) -> list[tuple[bool, int]]:
    """Row ``y`` as runs of ``(is_black, length_in_dots)``, left to right."""
    row = [image.getpixel((x, y)) == 0 for x in range(image.width)]
    return [(black, len(list(run))) for black, run in groupby(row)]

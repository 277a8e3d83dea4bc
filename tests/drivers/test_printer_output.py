"""ESC/POS bytes from python-escpos, and the strict parser that turns them back into an image."""

from __future__ import annotations

import struct

import pytest
from escpos.exceptions import ImageWidthError
from PIL import Image, ImageDraw

from appliance.errors import PrinterError
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image


def checkerboard(width: int, height: int) -> Image.Image:
    image = Image.new("1", (width, height), 255)
    pen = ImageDraw.Draw(image)
    for y in range(0, height, 8):
        for x in range((y // 8) % 2 * 8, width, 16):
            pen.rectangle((x, y, x + 7, y + 7), fill=0)
    return image


def test_bytes_parse_back_to_the_same_pixels():
    image = checkerboard(384, 120)
    assert raster_to_image(label_bytes(image)).tobytes() == image.tobytes()


def test_an_image_taller_than_one_block_is_sent_in_blocks_that_stack_back():
    image = checkerboard(384, 1000)
    data = label_bytes(image)
    assert data.count(b"\x1dv0") == 2  # python-escpos splits at 960 rows
    assert raster_to_image(data).tobytes() == image.tobytes()


def test_an_image_wider_than_the_printer_is_a_printer_error_not_an_escpos_one():
    with pytest.raises(PrinterError, match="too large") as caught:
        label_bytes(checkerboard(576, 16), max_width_dots=384)
    assert isinstance(caught.value.__cause__, ImageWidthError)


def test_label_bytes_print_nothing_to_stdout(capsys):
    label_bytes(checkerboard(384, 16))
    assert capsys.readouterr().out == ""


def block(width_bytes: int, rows: bytes, mode: int = 0) -> bytes:
    return b"\x1dv0" + bytes([mode]) + struct.pack("<HH", width_bytes, len(rows)) + rows


def test_reset_justify_feeds_and_both_cut_forms_are_understood():
    data = b"\x1b@\x1ba\x01" + block(1, b"\x80") + b"\n\x1bd\x03\x1bJ\x10\x1dV\x00\x1dVA\x10"
    image = raster_to_image(data)
    assert image.size == (8, 1)
    assert [image.getpixel((x, 0)) for x in range(2)] == [0, 255]


def test_double_width_and_height_modes_are_scaled_like_the_printer():
    image = raster_to_image(block(1, b"\x80", mode=3))
    assert image.size == (16, 2)
    assert image.getpixel((1, 1)) == 0 and image.getpixel((2, 1)) == 255


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(block(2, b"\xff\xff\xff")[:-1], id="raster-data-cut-short"),
        pytest.param(b"\x1dv0\x00\x02\x00", id="raster-header-cut-short"),
        pytest.param(block(0, b""), id="empty-raster-block"),
        pytest.param(block(1, b"\x80", mode=7), id="unknown-raster-mode"),
        pytest.param(block(1, b"\x80") + b"\x1b", id="lone-escape"),
        pytest.param(block(1, b"\x80") + b"\x1bd", id="feed-without-count"),
        pytest.param(block(1, b"\x80") + b"\x1dV", id="cut-without-mode"),
        pytest.param(block(1, b"\x80") + b"\x1dVA", id="cut-without-feed"),
        pytest.param(block(1, b"\x80") + b"1800000001", id="text"),
        pytest.param(block(1, b"\x80") + b"\x1bt\x01", id="unknown-esc-command"),
        pytest.param(b"\x1b@\x1dV\x00", id="no-image"),
    ],
)
def test_malformed_or_unexpected_bytes_are_refused(data):
    with pytest.raises(ValueError):
        raster_to_image(data)

"""ESC/POS bytes from python-escpos, and the strict parser that turns them back into an image."""

from __future__ import annotations

import random
import struct

import pytest
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


def noise(width: int, height: int, seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("1", (width, height), rng.randbytes(width // 8 * height))


def test_bytes_parse_back_to_the_same_pixels():
    image = checkerboard(384, 120)
    assert raster_to_image(label_bytes(image), 384).tobytes() == image.tobytes()


def test_random_dots_with_white_gaps_and_repeated_rows_parse_back_exactly():
    image = Image.new("1", (576, 400), 255)
    image.paste(noise(576, 50), (0, 0))
    image.paste(noise(200, 30, seed=2), (100, 120))  # off centre: the crop must stay symmetric
    image.paste(noise(576, 1, seed=3).resize((576, 77)), (0, 200))  # 77 identical rows (odd)
    image.paste(noise(64, 3, seed=4), (0, 390))  # at the left edge: no crop possible
    data = label_bytes(image)
    assert raster_to_image(data, 576).tobytes() == image.tobytes()


def test_white_rows_go_as_paper_feed_and_repeated_rows_at_half_height():
    image = Image.new("1", (576, 600), 255)
    image.paste(noise(576, 1).resize((576, 100)), (0, 500))  # 500 white rows, then 100 identical
    data = label_bytes(image)
    assert b"\x1b@\x1ba\x01\x1bJ\xff\x1bJ\xf5\x1dv0" in data  # 255 + 245 dots of feed
    assert b"\x1dv0\x02" + struct.pack("<HH", 72, 50) in data  # double height, 50 rows
    assert len(data) < 72 * 50 + 100
    assert raster_to_image(data, 576).tobytes() == image.tobytes()


def test_a_centred_narrow_band_is_cropped_equally_on_both_sides():
    image = Image.new("1", (576, 10), 255)
    image.paste(noise(96, 10), (240, 0))  # 240 white dots each side = 30 bytes
    data = label_bytes(image)
    assert b"\x1dv0\x00" + struct.pack("<HH", 12, 10) in data
    assert raster_to_image(data, 576).tobytes() == image.tobytes()


def test_feed_units_finer_than_a_dot_are_scaled():
    image = Image.new("1", (384, 30), 255)
    image.paste(0, (0, 20, 384, 30))
    data = label_bytes(image, feed_units_per_dot=2)
    assert b"\x1bJ\x28" in data  # 20 dots = 40 units of 1/406 inch
    parsed = raster_to_image(data, 384, feed_units_per_dot=2)
    assert parsed.tobytes() == image.tobytes()


def test_an_image_taller_than_one_block_is_sent_in_blocks_that_stack_back():
    image = noise(384, 1000)
    data = label_bytes(image)
    assert data.count(b"\x1dv0") == 2  # python-escpos splits at 960 rows
    assert raster_to_image(data).tobytes() == image.tobytes()


def test_an_image_wider_than_the_printer_is_a_printer_error():
    with pytest.raises(PrinterError, match="too large"):
        label_bytes(checkerboard(576, 16), max_width_dots=384)


def test_a_narrower_image_is_centred_on_the_paper():
    image = checkerboard(384, 16)
    parsed = raster_to_image(label_bytes(image, max_width_dots=576), 576)
    assert parsed.crop((96, 0, 480, 16)).tobytes() == image.tobytes()


def test_label_bytes_print_nothing_to_stdout(capsys):
    label_bytes(checkerboard(384, 16))
    assert capsys.readouterr().out == ""


def block(width_bytes: int, rows: bytes, mode: int = 0) -> bytes:
    return b"\x1dv0" + bytes([mode]) + struct.pack("<HH", width_bytes, len(rows)) + rows


def test_reset_justify_feeds_and_both_cut_forms_are_understood():
    data = b"\x1b@\x1ba\x01" + block(1, b"\x80") + b"\n\x1bd\x03\x1bJ\x10\x1dV\x00\x1dVA\x10"
    image = raster_to_image(data, 24)
    assert image.size == (24, 17)  # one raster row, then 16 dots of ESC J feed
    assert [image.getpixel((x, 0)) for x in (7, 8, 9)] == [255, 0, 255]  # centred: x = 8


def test_justification_left_and_right_and_reset_by_init():
    row = block(1, b"\x80")
    image = raster_to_image(b"\x1ba\x02" + row + b"\x1b@" + row, 16)
    assert image.getpixel((8, 0)) == 0 and image.getpixel((0, 1)) == 0


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
        pytest.param(b"\x1bJ\x10\x1dV\x00", id="only-feed"),
        pytest.param(b"\x1ba\x05" + block(1, b"\x80"), id="unknown-justification"),
    ],
)
def test_malformed_or_unexpected_bytes_are_refused(data):
    with pytest.raises(ValueError):
        raster_to_image(data)


def bars(width: int, height: int, narrow: int, offset: int) -> Image.Image:
    """Vertical bars ``narrow`` dots wide and apart, starting ``offset`` dots in."""
    image = Image.new("1", (width, height), 255)
    pen = ImageDraw.Draw(image)
    for x in range(offset, width - narrow, 2 * narrow):
        pen.rectangle((x, 0, x + narrow - 1, height - 1), fill=0)
    return image


def test_bars_on_even_dots_go_at_a_quarter_of_the_bytes_and_come_back_exact():
    image = bars(576, 40, narrow=4, offset=16)
    data = label_bytes(image)
    assert b"\x1dv0\x03" + struct.pack("<HH", 36, 20) in data  # half width, half height
    assert raster_to_image(data, 576).tobytes() == image.tobytes()


def test_bars_with_an_odd_edge_are_not_narrowed_only_halved_in_height():
    image = bars(576, 40, narrow=3, offset=16)
    data = label_bytes(image)
    assert b"\x1dv0\x03" not in data and b"\x1dv0\x02" in data
    assert raster_to_image(data, 576).tobytes() == image.tobytes()


def test_rows_that_come_in_pairs_go_at_half_height_and_come_back_exact():
    image = noise(384, 20).resize((384, 40), Image.Resampling.NEAREST)  # every row twice
    data = label_bytes(image)
    assert b"\x1dv0\x02" + struct.pack("<HH", 48, 20) in data
    assert raster_to_image(data, 384).tobytes() == image.tobytes()


def test_plain_noise_is_sent_as_it_is():
    image = noise(384, 20)
    data = label_bytes(image)
    assert b"\x1dv0\x00" + struct.pack("<HH", 48, 20) in data
    assert raster_to_image(data, 384).tobytes() == image.tobytes()


@pytest.mark.parametrize("dpi", [180, 203, 300])
@pytest.mark.parametrize("paper", [58, 80])
def test_every_label_parses_back_to_exactly_what_was_rendered(paper, dpi):
    from appliance.values import CardNumber, Issuer, LabelJob
    from drivers.printer.render import LabelLayout, render_label

    layout = LabelLayout.for_paper(paper, dpi)
    job = LabelJob("j", CardNumber(Issuer("1", "川崎市立図書館"), "1800000001"), "2026-11-25")
    image = render_label(job, layout)
    data = label_bytes(image, max_width_dots=layout.width_dots)
    assert raster_to_image(data, layout.width_dots).tobytes() == image.tobytes()

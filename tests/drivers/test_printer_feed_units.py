"""Feed units: ``ESC J n`` counts the printer's vertical motion units, which are not always dots.

An Epson TM-T88 (180 dpi head) counts 1/360 inch, 2 units a dot row; a generic 203 dpi printer
counts dots. The bytes must say whole dots in the printer's units, and parse back to the label.
"""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import pytest
from PIL import Image

from appliance.config import load_config
from appliance.errors import ConfigError
from appliance.printer_models import MODELS, feed_units_per_dot
from appliance.values import CardNumber, Issuer, LabelJob
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import render_label
from drivers.printer.setup import layout_from_config, printer_from_config
from tests.support.barcodes import decode_both

JOB = LabelJob("job1", CardNumber(Issuer("000001", "川崎市立図書館"), "1800000001"),
               dt.date(2026, 11, 25).isoformat())  # fmt: skip
TM_T88 = {"printer": "file", "printer_model": "TM-T88V", "printer_dpi": 180, "paper_mm": 80}


def feeds(data: bytes) -> list[int]:
    """The argument of every ``ESC J``, raster data skipped (its bytes may look like one)."""
    found, pos = [], 0
    while pos < len(data):
        if data.startswith(b"\x1dv0", pos):
            width, height = struct.unpack_from("<HH", data, pos + 4)
            pos += 8 + width * height
        elif data.startswith(b"\x1bJ", pos):
            found.append(data[pos + 2])
            pos += 3
        else:
            pos += 1  # ESC @, ESC a n, ESC d n, GS V m: their arguments are never 0x1B 0x4A
    return found


def test_a_tm_t88_label_feeds_two_units_a_dot_and_parses_back_to_the_render(tmp_path: Path):
    config = load_config({"data_dir": str(tmp_path), **TM_T88})
    printer = printer_from_config(config, tmp_path)
    layout = layout_from_config(config)
    assert printer.feed_units_per_dot == 2 and layout.width_dots == 512
    data = printer.label_bytes(JOB)  # type: ignore[union-attr]
    image = render_label(JOB, layout)
    assert raster_to_image(data, 512, feed_units_per_dot=2).tobytes() == image.tobytes()
    generic = label_bytes(image, max_width_dots=512)
    assert sum(feeds(data)) == 2 * sum(feeds(generic)) > 0
    assert all(n % 2 == 0 for n in feeds(data))
    parsed = raster_to_image(data, 512, feed_units_per_dot=2)
    assert decode_both(parsed) == (["A1800000001A"], ["A1800000001A"])


def test_read_as_one_unit_a_dot_the_same_bytes_would_print_a_taller_label(tmp_path: Path):
    # what the old 1-unit assumption printed on a TM-T88 is the mirror image of this: gaps halved
    printer = printer_from_config(load_config({"data_dir": str(tmp_path), **TM_T88}), tmp_path)
    data = printer.label_bytes(JOB)  # type: ignore[union-attr]
    right = raster_to_image(data, 512, feed_units_per_dot=2)
    assert raster_to_image(data, 512, feed_units_per_dot=1).height > right.height


@pytest.mark.parametrize(("units", "steps"), [(1, [255, 145]), (2, [254, 254, 254, 38]),
                                              (3, [255, 255, 255, 255, 180])])  # fmt: skip
def test_a_long_white_gap_is_fed_in_steps_of_whole_dots(units, steps):
    image = Image.new("1", (384, 401), 255)
    image.paste(0, (0, 400, 384, 401))  # 400 white rows, then one black row
    data = label_bytes(image, feed_units_per_dot=units)
    assert feeds(data) == steps and sum(steps) == 400 * units
    assert raster_to_image(data, 384, feed_units_per_dot=units).tobytes() == image.tobytes()


def test_the_parser_refuses_a_feed_that_is_not_whole_dots():
    data = b"\x1b@\x1bJ\x03\x1dv0\x00\x01\x00\x01\x00\xff"
    with pytest.raises(ValueError, match="not whole dots"):
        raster_to_image(data, 8, feed_units_per_dot=2)


def test_the_unit_comes_from_the_model_unless_the_technician_sets_it():
    assert feed_units_per_dot("TM-T88V") == 2
    assert feed_units_per_dot("") == 1  # a generic printer: the old assumption
    assert feed_units_per_dot("TM-T88V", 1) == 1 and feed_units_per_dot("", 2) == 2
    assert all(m.dpi == 180 and m.feed_units_per_dot == 2 for m in MODELS.values())


def test_a_generic_printer_keeps_one_unit_a_dot(tmp_path: Path):
    config = load_config({"data_dir": str(tmp_path), "printer": "file"})
    assert printer_from_config(config, tmp_path).feed_units_per_dot == 1


def test_an_unknown_model_or_a_wrong_density_is_a_config_problem_listed_with_the_rest():
    with pytest.raises(ConfigError) as caught:
        load_config({"data_dir": "/x", "printer_model": "TM-X1", "printer_feed_units_per_dot": 9})
    assert any("printer_model" in p for p in caught.value.problems)
    assert any("printer_feed_units_per_dot" in p for p in caught.value.problems)
    with pytest.raises(ConfigError, match="TM-T88V head is 180 dpi"):
        load_config({"data_dir": "/x", "printer_model": "TM-T88V"})  # printer_dpi left at 203

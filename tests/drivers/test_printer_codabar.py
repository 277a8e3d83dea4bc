"""NW-7 / Codabar encoder: the pattern, whole-dot drawing, quiet zones, refusal of bad data."""

from __future__ import annotations

import pytest

from appliance.errors import LabelError
from drivers.printer import codabar
from tests.support.barcodes import decode_both, row_runs

A = "1" + "0" + "111" + "000" + "1" + "000" + "1"  # bar space BAR SPACE bar SPACE bar
ZERO = "1" + "0" + "1" + "0" + "1" + "000" + "111"  # bar space bar space bar SPACE BAR


def test_pattern_is_the_standard_elements_joined_by_one_narrow_space():
    assert codabar.pattern("A0A") == A + "0" + ZERO + "0" + A


def test_digits_and_dash_dollar_are_eleven_modules_the_rest_thirteen():
    for ch in "0123456789-$":
        assert len(codabar.pattern(f"A{ch}A")) == 13 + 1 + 11 + 1 + 13
    for ch in ":/.+":
        assert len(codabar.pattern(f"A{ch}A")) == 13 + 1 + 13 + 1 + 13


@pytest.mark.parametrize("data", ["A0123456789B", "C-$:/.+D", "A1800000001A", "D12B"])
def test_every_character_decodes_with_both_decoders(data):
    assert decode_both(codabar.draw(data, narrow=2)) == ([data], [data])


@pytest.mark.parametrize("narrow", [2, 3, 4])
def test_bars_and_spaces_are_exactly_narrow_or_three_times_narrow_dots(narrow):
    runs = row_runs(codabar.draw("A1800000001A", narrow=narrow, height=4), 0)
    assert {length for _, length in runs[1:-1]} == {narrow, 3 * narrow}


@pytest.mark.parametrize("narrow", [2, 3])
def test_quiet_zones_are_ten_narrow_modules_on_each_side(narrow):
    runs = row_runs(codabar.draw("A1800000001A", narrow=narrow, height=4), 0)
    assert runs[0] == (False, 10 * narrow)
    assert runs[-1] == (False, 10 * narrow)


def test_symbol_width_is_the_drawn_width_with_quiet_zones():
    for narrow in (2, 3):
        image = codabar.draw("A1800000001A", narrow=narrow)
        assert codabar.symbol_width("A1800000001A", narrow) == image.width


def test_drawing_is_one_bit_and_full_height():
    image = codabar.draw("A1800000001A", narrow=2, height=50)
    assert image.mode == "1"
    assert image.height == 50
    assert row_runs(image, 0) == row_runs(image, 49)


def test_narrow_bar_below_two_dots_is_refused():
    with pytest.raises(ValueError, match="at least 2 dots"):
        codabar.draw("A1800000001A", narrow=1)


@pytest.mark.parametrize(
    "data",
    [
        "E1800000001A",  # start outside A-D
        "A18000000013",  # stop outside A-D
        "a1800000001a",  # lower case start/stop
        "A18000X0001A",  # letter in the data
        "A180B0000001A",  # start/stop character inside the data
        "A１８００A",  # full-width digits
        "A1800\x1b@0001A",  # control characters
        "AA",  # no data
        "",
    ],
)
def test_invalid_codabar_data_is_refused_with_label_error(data):
    with pytest.raises(LabelError):
        codabar.pattern(data)


def test_refusal_lists_every_problem_and_never_echoes_the_data():
    with pytest.raises(LabelError) as caught:
        codabar.draw("E12X45F")
    message = str(caught.value)
    assert "start" in message and "stop" in message and "[3]" in message
    assert "12X45" not in message

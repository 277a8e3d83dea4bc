"""The label: what it shows, that its bytes scan with two decoders, also after print defects."""

from __future__ import annotations

import pytest
from PIL import ImageDraw

from appliance.errors import LabelError
from appliance.values import CardNumber, Issuer, LabelJob, NumberDisplay, Symbology
from drivers.printer import render
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import NOTICE, VALID_TODAY, LabelLayout, render_label
from tests.support.barcodes import blurred, decode_both, grown_bars, lost_row, row_runs

LIBRARY = "川崎市立図書館"
DATA = "A1800000001A"
WIDTHS = [384, 576]


def job(name: str = LIBRARY, value: str = "1800000001", **issuer: object) -> LabelJob:
    kw: dict = {"codabar_start": "A", "codabar_stop": "A", **issuer}
    return LabelJob("job1", CardNumber(Issuer("000001", name, **kw), value), "2026-11-25")


def printed(width: int, label_job: LabelJob | None = None, **layout: object) -> bytes:
    image = render_label(label_job or job(), LabelLayout(width_dots=width, **layout))  # type: ignore[arg-type]
    return label_bytes(image, max_width_dots=width)


def barcode_rows(image) -> list[int]:
    """Rows crossing the barcode: the longest stack of identical rows with many black runs."""
    stacks: list[list[int]] = []
    previous = None
    for y in range(image.height):
        runs = row_runs(image, y)
        if len(runs) > 40:
            if runs != previous:
                stacks.append([])
            stacks[-1].append(y)
        previous = runs
    return max(stacks, key=len)


@pytest.mark.parametrize("width", WIDTHS)
def test_label_is_one_bit_and_exactly_the_paper_width(width):
    image = render_label(job(), LabelLayout(width_dots=width))
    assert image.mode == "1"
    assert image.width == width


@pytest.mark.parametrize("width", WIDTHS)
def test_printed_bytes_scan_as_the_card_data_with_both_decoders(width):
    assert decode_both(raster_to_image(printed(width), width)) == ([DATA], [DATA])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "defect",
    [
        pytest.param(blurred, id="slight-blur"),
        pytest.param(lambda im: lost_row(im, barcode_rows(im)[20]), id="lost-dot-row"),
        pytest.param(grown_bars, id="bars-one-dot-wider"),
    ],
)
def test_printed_label_still_scans_after_a_print_defect(width, defect):
    assert decode_both(defect(raster_to_image(printed(width), width))) == ([DATA], [DATA])


@pytest.mark.parametrize(("width", "narrow"), [(384, 2), (576, 3)])
def test_narrow_bar_is_the_widest_whole_dot_width_that_fits(width, narrow):
    image = render_label(job(), LabelLayout(width_dots=width))
    runs = row_runs(image, barcode_rows(image)[0])
    assert {length for _, length in runs[1:-1]} == {narrow, 3 * narrow}


@pytest.mark.parametrize("width", WIDTHS)
def test_barcode_has_two_dot_bars_and_ten_module_quiet_zones_on_the_label(width):
    image = render_label(job(), LabelLayout(width_dots=width))
    rows = barcode_rows(image)
    runs = row_runs(image, rows[0])
    narrow = min(length for _, length in runs[1:-1])
    assert narrow >= 2
    quiet = max(10 * narrow, 21)  # 10 modules, and 2.54 mm = 20.3 dots at 203 dpi
    assert runs[0][0] is False and runs[0][1] >= quiet
    assert runs[-1][0] is False and runs[-1][1] >= quiet
    assert len(rows) == LabelLayout().barcode_height_dots  # every bar full height, zones clear


@pytest.mark.parametrize("width", WIDTHS)
def test_bytes_are_reset_centre_raster_bands_and_feeds_then_a_cut_nothing_else(width):
    image = render_label(job(), LabelLayout(width_dots=width))
    data = label_bytes(image, max_width_dots=width)
    assert data.startswith(b"\x1b@" + b"\x1ba\x01")  # reset, centre
    assert data.endswith(b"\x1bd\x06" + b"\x1dV\x00")  # feed 6 lines, full cut
    assert b"\x1bJ" in data  # white space went as paper feed
    assert len(data) < width // 8 * image.height // 2  # well under half the full raster
    assert raster_to_image(data, width).tobytes() == image.tobytes()  # the strict parser agrees


HOSTILE = "川崎\x1b@\x1dV\x00市立\n図書館\x07\u202e\x10\x04\x01"


def test_control_characters_in_the_library_name_never_reach_the_printer_as_text():
    data = printed(384, job(name=HOSTILE))
    for encoding in ("utf-8", "cp932", "euc_jp", "gb18030"):
        for part in (HOSTILE, "川崎", "図書館"):
            assert part.encode(encoding, "ignore") not in data
    assert data.count(b"\x1dV") == 1 and data.endswith(b"\x1dV\x00")
    assert data == printed(384, job(name="川崎@ V市立 図書館"))


def test_control_characters_in_the_configured_notice_never_reach_the_printer_as_text():
    data = printed(384, notice="返却は\x1b@\x1dV\x00カウンターへ\x10\x04\x01")
    for encoding in ("utf-8", "cp932", "gb18030"):
        assert "返却は".encode(encoding) not in data and b"\x10\x04\x01" not in data
    assert data.count(b"\x1dV") == 1
    assert data == printed(384, notice="返却は@ Vカウンターへ")


@pytest.mark.parametrize(
    "value", ["18000\x1b@0001", "1800\x1dV\x000001", "1800000001\n", "1800\x10\x04\x010001"]
)
def test_a_card_number_with_control_characters_never_becomes_a_label(value):
    with pytest.raises(LabelError):  # InvalidCardNumber: refused before anything is drawn
        job(value=value)


@pytest.mark.parametrize("symbology", list(Symbology))
def test_every_outside_field_is_raster_only_whatever_the_symbology(symbology):
    value = "1800000001"
    label = job(name=HOSTILE, value=value, symbology=symbology)
    data = printed(576, label, notice=HOSTILE)
    assert value.encode() not in data and label.number.barcode_data().encode() not in data
    raster_to_image(data, 576)  # parses with nothing but raster, feed, justify and cut


def test_label_text_is_only_library_number_masked_date_and_validity(monkeypatch):
    drawn: list[str] = []
    original = ImageDraw.ImageDraw.text

    def spy(self, xy, text, *args, **kwargs):
        drawn.append(text)
        return original(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", spy)
    render._shared_text.cache_clear()  # the day's shared text is drawn once, then cached
    render_label(job())
    assert drawn == [LIBRARY, "*******001", "2026-11-25", VALID_TODAY, *NOTICE.split(" / ")]
    assert not any("1800000001" in text for text in drawn)


def test_a_long_library_name_shrinks_and_wraps_inside_the_paper_width():
    image = render_label(job(name="川崎市立中原図書館・高津図書館・宮前図書館・麻生図書館 分館"))
    assert image.width == 384
    assert image.height > render_label(job()).height  # the name took more than one line
    assert decode_both(image) == ([DATA], [DATA])


def test_quiet_zones_are_also_at_least_2_54_mm_when_ten_modules_are_narrower():
    twelve_digits = job(value="1" * 12)  # 342 dots of bars at a 2-dot narrow bar
    assert render_label(twelve_digits, LabelLayout(dpi=203)).width == 384  # 2 x 21 dots left
    assert not render.is_sideways(twelve_digits.number, LabelLayout(dpi=203))
    # 300 dpi: 2.54 mm = 30 dots > 20 left across, so it goes sideways, with 30-dot zones
    sideways = render_label(twelve_digits, LabelLayout(dpi=300))
    assert render.is_sideways(twelve_digits.number, LabelLayout(dpi=300))
    assert decode_both(sideways) == (["A111111111111A"], ["A111111111111A"])
    symbol = render._barcode(twelve_digits.number, LabelLayout(dpi=300))  # as drawn on the label
    runs = row_runs(symbol.transpose(render.Image.Transpose.ROTATE_90), symbol.width // 2)
    assert runs[0] == (False, runs[0][1]) and runs[0][1] >= 30  # 10 x 4-dot modules here
    assert runs[-1] == (False, runs[-1][1]) and runs[-1][1] >= 30


def test_a_number_too_long_for_the_paper_is_refused():
    with pytest.raises(LabelError, match="does not fit"):
        render_label(job(value="1" * 30))


def test_a_start_character_outside_a_to_d_in_the_issuer_config_is_refused():
    with pytest.raises(LabelError, match="start"):
        render_label(job(codabar_start="E"))


def test_a_code39_number_too_wide_for_58_mm_goes_sideways_and_scans():
    long_job = job(value="KW12345678AB", symbology=Symbology.CODE39)
    assert render.is_sideways(long_job.number, LabelLayout())
    image = raster_to_image(printed(384, long_job), 384)
    assert image.width == 384 and image.height > 500  # 61 mm of symbol down the paper
    assert decode_both(image, "code39") == (["KW12345678AB"], ["KW12345678AB"])


def test_a_code39_number_too_long_even_sideways_is_refused_not_squeezed():
    with pytest.raises(LabelError, match="code39 barcode of 20 characters does not fit"):
        render_label(job(value="1" * 20, symbology=Symbology.CODE39))


def test_a_date_that_is_not_iso_is_refused():
    bad = LabelJob("job1", job().number, "25/11/2026\x1b")
    with pytest.raises(LabelError, match="ISO date"):
        render_label(bad)


def test_a_missing_font_is_a_clear_label_error(tmp_path):
    missing = str(tmp_path / "no-such-font.ttf")
    with pytest.raises(LabelError, match="font"):
        render_label(job(), LabelLayout(font_path=missing))


def test_paper_width_must_be_whole_bytes():
    with pytest.raises(ValueError, match="multiple of 8"):
        LabelLayout(width_dots=380)


def test_the_card_number_is_never_kept_in_the_text_cache(monkeypatch):
    shared: list[str] = []
    original = render._shared_text

    def spy(text, layout, size):
        shared.append(text)
        return original(text, layout, size)

    monkeypatch.setattr(render, "_shared_text", spy)
    render_label(job(value="1800000001", number_display=NumberDisplay.FULL))
    assert LIBRARY in shared and VALID_TODAY in shared
    assert not any("1800000001" in text or "001" in text for text in shared)


def rows_of(image) -> list[bytes]:
    stride = image.width // 8
    packed = image.tobytes()
    return [packed[y * stride : (y + 1) * stride] for y in range(image.height)]


def test_a_300_dpi_label_is_drawn_in_row_pairs_and_a_203_dpi_one_is_not():
    paired = rows_of(render_label(job(), LabelLayout.for_paper(80, 300)))
    assert len(paired) % 2 == 0 and all(
        paired[y] == paired[y + 1] for y in range(0, len(paired), 2)
    )
    plain = rows_of(render_label(job(), LabelLayout.for_paper(80, 203)))
    assert any(plain[y] != plain[y + 1] for y in range(0, len(plain) - 1, 2))


def test_row_pairing_keeps_every_dot_of_ink():
    import random

    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("1", (64, 9), rng.randbytes(8 * 9))  # odd height: a white row added
    paired = render._paired(image)
    assert paired.size == (64, 10)
    for y in range(9):
        for x in range(64):
            if image.getpixel((x, y)) == 0:
                assert paired.getpixel((x, y)) == 0
            partner = y ^ 1
            ink = image.getpixel((x, y)) == 0 or (partner < 9 and image.getpixel((x, partner)) == 0)
            assert (paired.getpixel((x, y)) == 0) == ink

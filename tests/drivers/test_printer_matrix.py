"""The proof of issue 4: every symbology, both paper widths, each dot density, scanned twice.

Each label goes render -> python-escpos bytes -> strict raster parser -> zbar AND zxing-cpp, and
must read exactly the expected data; then again after each print defect a thermal head makes
(slight blur, one lost dot row through the bars, every bar one dot wider). 24 labels, two of
them with the barcode sideways, rendered once each (module-scoped cache), so the whole matrix
stays around a few seconds.
"""

from __future__ import annotations

import functools

import pytest
from PIL import Image

from appliance.values import CardNumber, Issuer, LabelJob, Symbology
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import DPIS, LabelLayout, is_sideways, render_label
from tests.support.barcodes import blurred, decode_both, grown_bars, lost_row, row_runs

# case -> (symbology, issuer settings, card number, what the scanner must read). Code39 is the
# widest symbol: at 180 dpi on 58 mm paper (344 dots) seven characters are the most that fit
# across; ten go sideways there and at 203 dpi (``code39-10``), across everywhere else.
CASES = {
    "codabar": (Symbology.CODABAR, {"codabar_start": "B", "codabar_stop": "C"}, "1800000001",
                "B1800000001C"),
    "code39": (Symbology.CODE39, {}, "KW1234", "KW1234"),
    "code128": (Symbology.CODE128, {}, "Kw18000001", "Kw18000001"),
    "code39-10": (Symbology.CODE39, {}, "KW12345678", "KW12345678"),
}  # fmt: skip
PAPERS = (58, 80)
SIDEWAYS = {("code39-10", 58, 180), ("code39-10", 58, 203)}


def job_and_layout(case: str, paper_mm: int, dpi: int) -> tuple[LabelJob, LabelLayout]:
    symbology, settings, value, _ = CASES[case]
    issuer = Issuer("000001", "川崎市立図書館", symbology=symbology, **settings)  # type: ignore[arg-type]
    return LabelJob("job1", CardNumber(issuer, value), "2026-11-25"), LabelLayout.for_paper(
        paper_mm, dpi
    )


@functools.cache
def parsed(case: str, paper_mm: int, dpi: int) -> Image.Image:
    job, layout = job_and_layout(case, paper_mm, dpi)
    data = label_bytes(render_label(job, layout), max_width_dots=layout.width_dots)
    return raster_to_image(data, layout.width_dots)


def upright(case: str, paper_mm: int, dpi: int) -> Image.Image:
    """The label with its bars vertical. A sideways barcode is cut out with its quiet zones (the
    white rows up to the text before and after it) and turned back: across the bars, the rest of
    a sideways label is text, not a row a scanner line would cross."""
    image = parsed(case, paper_mm, dpi)
    if (case, paper_mm, dpi) not in SIDEWAYS:
        return image
    length = job_and_layout(case, paper_mm, dpi)[1].barcode_height_dots
    bar_rows = [y for y in range(image.height)
                if [n for black, n in row_runs(image, y) if black] == [length]]  # fmt: skip
    top, bottom = bar_rows[0], bar_rows[-1] + 1
    while top > 0 and image.crop((0, top - 1, image.width, top)).getextrema() == (255, 255):
        top -= 1
    while bottom < image.height and image.crop(
        (0, bottom, image.width, bottom + 1)
    ).getextrema() == (255, 255):
        bottom += 1
    turned = image.crop((0, top, image.width, bottom)).transpose(Image.Transpose.ROTATE_90)
    whole = Image.new("1", (-(-turned.width // 8) * 8, turned.height), 255)  # whole bytes wide
    whole.paste(turned, (0, 0))
    return whole


def through_the_bars(image: Image.Image) -> int:
    """A dot row in the middle of the barcode: the tallest stack of identical, not white rows."""
    stride = (image.width + 7) // 8
    packed = image.tobytes()
    rows = [packed[y * stride : (y + 1) * stride] for y in range(image.height)]
    white = b"\xff" * stride
    best, y = (0, 0), 0
    while y < len(rows):
        end = y + 1
        while end < len(rows) and rows[end] == rows[y]:
            end += 1
        if rows[y] != white and end - y > best[1] - best[0]:
            best = (y, end)
        y = end
    return (best[0] + best[1]) // 2


DEFECTS = {
    "as-printed": lambda image: image,
    "slight-blur": blurred,
    "lost-dot-row": lambda image: lost_row(image, through_the_bars(image)),
    "bars-one-dot-wider": grown_bars,
}


@pytest.mark.parametrize("defect", DEFECTS)
@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("paper_mm", PAPERS)
@pytest.mark.parametrize("case", list(CASES))
def test_label_scans_with_both_decoders(case, paper_mm, dpi, defect):
    """Defects act in the bars' frame (``upright``): for a sideways label, "lost dot row" is a
    dead heating element across every bar, "bars one dot wider" is dot gain along the feed.

    A sideways label is scanned as printed too, with each defect but the lost row: a dot row
    lost *along* a sideways bar splits a wide one, which neither decoder survives, exactly as
    an upright label does not survive a dead heating element along a wide bar (checked by hand:
    zbar fails both). The matrix covers neither; each orientation has that one weak direction.
    """
    symbology, expected = CASES[case][0], CASES[case][3]
    image = DEFECTS[defect](upright(case, paper_mm, dpi))
    assert decode_both(image, symbology.value) == ([expected], [expected])
    if (case, paper_mm, dpi) in SIDEWAYS and defect != "lost-dot-row":
        printed = DEFECTS[defect](parsed(case, paper_mm, dpi))
        assert decode_both(printed, symbology.value) == ([expected], [expected])


def test_the_sideways_cases_are_the_ones_printed_sideways():
    for case in CASES:
        for paper_mm in PAPERS:
            for dpi in DPIS:
                job, layout = job_and_layout(case, paper_mm, dpi)
                assert is_sideways(job.number, layout) == ((case, paper_mm, dpi) in SIDEWAYS)


@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("paper_mm", PAPERS)
@pytest.mark.parametrize("case", list(CASES))
def test_bars_are_whole_dots_at_least_two_wide_with_ten_module_quiet_zones(case, paper_mm, dpi):
    image = upright(case, paper_mm, dpi)
    runs = row_runs(image, through_the_bars(image))
    inner = [length for _, length in runs[1:-1]]
    narrow = min(inner)
    assert narrow >= 2
    assert all(length % narrow == 0 for length in inner)  # every element k x narrow dots
    if CASES[case][0] is not Symbology.CODE128:  # two-width symbologies: ratio 3
        assert {length // narrow for length in inner} == {1, 3}
    quiet = max(10 * narrow, -(-dpi // 10))  # 10 modules and 2.54 mm
    assert runs[0] == (False, runs[0][1]) and runs[0][1] >= quiet
    assert runs[-1] == (False, runs[-1][1]) and runs[-1][1] >= quiet
    assert parsed(case, paper_mm, dpi).width == LabelLayout.for_paper(paper_mm, dpi).width_dots

"""The proof of issue 4: every symbology, both paper widths, each dot density, scanned twice.

Each label goes render -> python-escpos bytes -> strict raster parser -> zbar AND zxing-cpp, and
must read exactly the expected data; then again after each print defect a thermal head makes
(slight blur, one lost dot row through the bars, every bar one dot wider). 18 labels, rendered
once each (module-scoped cache), so the whole matrix stays around a few seconds.
"""

from __future__ import annotations

import functools

import pytest
from PIL import Image

from appliance.values import CardNumber, Issuer, LabelJob, Symbology
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import DPIS, LabelLayout, render_label
from tests.support.barcodes import blurred, decode_both, grown_bars, lost_row, row_runs

# symbology -> (issuer settings, card number, what the scanner must read). Code39 is the widest
# symbol: at 180 dpi on 58 mm paper (344 dots) seven characters are the most that fit.
CASES = {
    Symbology.CODABAR: ({"codabar_start": "B", "codabar_stop": "C"}, "1800000001", "B1800000001C"),
    Symbology.CODE39: ({}, "KW1234", "KW1234"),
    Symbology.CODE128: ({}, "Kw18000001", "Kw18000001"),
}
PAPERS = (58, 80)


@functools.cache
def parsed(symbology: Symbology, paper_mm: int, dpi: int) -> Image.Image:
    settings, value, _ = CASES[symbology]
    issuer = Issuer("000001", "川崎市立図書館", symbology=symbology, **settings)  # type: ignore[arg-type]
    job = LabelJob("job1", CardNumber(issuer, value), "2026-11-25")
    layout = LabelLayout.for_paper(paper_mm, dpi)
    data = label_bytes(render_label(job, layout), max_width_dots=layout.width_dots)
    return raster_to_image(data, layout.width_dots)


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
@pytest.mark.parametrize("symbology", list(CASES), ids=lambda s: s.value)
def test_label_scans_with_both_decoders(symbology, paper_mm, dpi, defect):
    expected = CASES[symbology][2]
    image = DEFECTS[defect](parsed(symbology, paper_mm, dpi))
    assert decode_both(image, symbology.value) == ([expected], [expected])


@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("paper_mm", PAPERS)
@pytest.mark.parametrize("symbology", list(CASES), ids=lambda s: s.value)
def test_bars_are_whole_dots_at_least_two_wide_with_ten_module_quiet_zones(
    symbology, paper_mm, dpi
):
    image = parsed(symbology, paper_mm, dpi)
    runs = row_runs(image, through_the_bars(image))
    inner = [length for _, length in runs[1:-1]]
    narrow = min(inner)
    assert narrow >= 2
    assert all(length % narrow == 0 for length in inner)  # every element k x narrow dots
    if symbology is not Symbology.CODE128:  # two-width symbologies: ratio 3
        assert {length // narrow for length in inner} == {1, 3}
    quiet = max(10 * narrow, -(-dpi // 10))  # 10 modules and 2.54 mm
    assert runs[0] == (False, runs[0][1]) and runs[0][1] >= quiet
    assert runs[-1] == (False, runs[-1][1]) and runs[-1][1] >= quiet
    assert image.width == LabelLayout.for_paper(paper_mm, dpi).width_dots

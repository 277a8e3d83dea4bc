"""Labels: bytes on the wire and render time, and python-escpos's own barcode() beside ours.

Goals (issue 4): a whole 80 mm label <= 10 KB on the wire (about 1 s at 115,200 baud), render
<= 20 ms; 300 dpi labels are drawn in row pairs to stay under it too (drivers/printer/render.py).
Side by side, for the same card number: python-escpos's software ``barcode()`` path
(python-barcode's image writer, ``bitImageRaster``) against our barcode band, in bytes and in
decode success (zbar AND zxing-cpp, exact data) as printed and after the three print defects the
tests use. Needs the dev extras (pyzbar, zxing-cpp) for the decode half.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import time

from escpos.printer import Dummy
from PIL import Image

from appliance.values import CardNumber, Issuer, LabelJob, Symbology
from drivers.printer import render
from drivers.printer.escpos_output import label_bytes, raster_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import DPIS, LabelLayout, render_label

ROUNDS = 30
CASES = {
    Symbology.CODABAR: "1800000001",
    Symbology.CODE39: "KW1234",
    Symbology.CODE128: "1800000001",
}
_ESCPOS_NAMES = {Symbology.CODABAR: "NW-7", Symbology.CODE39: "CODE39",
                 Symbology.CODE128: "CODE128"}  # fmt: skip


def _job(symbology: Symbology) -> LabelJob:
    issuer = Issuer("000001", "川崎市立図書館", symbology=symbology)
    return LabelJob("bench", CardNumber(issuer, CASES[symbology]), "2026-11-25")


def _ms(samples: list[float]) -> str:
    """First call (cold: the day's shared text is not rasterised yet), then median and max."""
    first, median, worst = samples[0], statistics.median(samples), max(samples)
    return f"first {first * 1000:.1f} ms, median {median * 1000:.1f}, max {worst * 1000:.1f}"


def wire_and_time() -> None:
    print("labels: whole label, NW-7, bytes on the wire (ours / all rows as raster) and time")
    for paper in (58, 80):
        for dpi in DPIS:
            layout = LabelLayout.for_paper(paper, dpi)
            renders, encodes = [], []
            for n in range(ROUNDS):  # a different patron's number each time
                number = CardNumber(Issuer("000001", "川崎市立図書館"), f"18{n:08d}")
                job = LabelJob(f"bench{n}", number, "2026-11-25")
                start = time.perf_counter()
                image = render_label(job, layout)
                middle = time.perf_counter()
                data = label_bytes(image, max_width_dots=layout.width_dots)
                renders.append(middle - start)
                encodes.append(time.perf_counter() - middle)
            full = raster_bytes(image, max_width_dots=layout.width_dots)
            seconds = len(data) * 10 / 115_200  # 8N1: 10 bits a byte
            print(f"  {paper} mm {dpi} dpi ({layout.width_dots} dots): {len(data):6d} B "
                  f"(full raster {len(full):6d} B), {seconds:.2f} s at 115200 baud; "
                  f"render {_ms(renders)}; encode {_ms(encodes)}")  # fmt: skip


def sideways() -> None:
    """A 10-character Code39 that does not fit 58 mm across at 180/203 dpi goes sideways."""
    print("labels: Code39 KW12345678 on 58 mm (sideways where it does not fit across)")
    issuer = Issuer("000001", "川崎市立図書館", symbology=Symbology.CODE39)
    job = LabelJob("bench", CardNumber(issuer, "KW12345678"), "2026-11-25")
    for dpi in DPIS:
        layout = LabelLayout.for_paper(58, dpi)
        start = time.perf_counter()
        image = render_label(job, layout)
        took = time.perf_counter() - start
        data = label_bytes(image, max_width_dots=layout.width_dots)
        way = "sideways" if render.is_sideways(job.number, layout) else "across"
        print(f"  58 mm {dpi} dpi: {way:8s} {len(data):6d} B, label {image.height * 25.4 / dpi:.0f}"
              f" mm long, render {took * 1000:.1f} ms")  # fmt: skip


def _defects() -> dict[str, object]:
    from tests.support.barcodes import blurred, grown_bars, lost_row

    def middle_row(image: Image.Image) -> Image.Image:
        bbox = Image.eval(image.convert("L"), lambda v: 255 - v).getbbox() or (0, 0, 0, 0)
        return lost_row(image, (bbox[1] + bbox[3]) // 2)

    return {"as printed": lambda im: im, "blur": blurred, "lost row": middle_row,
            "bar +1 dot": grown_bars}  # fmt: skip


def _theirs(symbology: Symbology, data: str, layout: LabelLayout, module: int = 3) -> bytes:
    """python-escpos's software barcode() for ``data`` (its default module: 3 dots, 64 high)."""
    printer = Dummy()
    media = printer.profile.profile_data["media"]
    printer.profile.profile_data = {
        **printer.profile.profile_data,
        "media": {**media, "dpi": layout.dpi, "width": {**media["width"],
                                                        "pixels": layout.width_dots}},
    }  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):  # it announces its renderer on stdout
        printer.barcode(
            data, _ESCPOS_NAMES[symbology], width=module, force_software="bitImageRaster"
        )
    output: bytes = printer.output
    return output


def _ours(symbology: Symbology, data: str, layout: LabelLayout) -> bytes:
    """Our barcode band alone, as it goes inside a label (reset, centre and cut left out)."""
    band = render._barcode(_job(symbology).number, layout)  # the band render_label draws
    stream = label_bytes(band, max_width_dots=layout.width_dots)
    head, tail = b"\x1b@\x1ba\x01", b"\x1bd\x06\x1dV\x00"
    assert stream.startswith(head) and stream.endswith(tail)
    return stream[len(head) : -len(tail)]


def side_by_side() -> None:
    try:
        from tests.support.barcodes import decode_both
    except ImportError as exc:  # pragma: no cover - dev extras missing
        print(f"labels: side by side skipped ({exc})")
        return
    defects = _defects()
    print("labels: barcode part, ours vs python-escpos barcode() software path (same number)")
    for symbology in CASES:
        data = CardNumber(Issuer("x", "x", symbology=symbology), CASES[symbology]).barcode_data()
        for paper in (58, 80):
            layout = LabelLayout.for_paper(paper, 203)
            makers = {"ours": _ours, "escpos 3-dot": _theirs,
                      "escpos 2-dot": lambda *a: _theirs(*a, module=2)}  # fmt: skip
            for name, make in makers.items():
                try:
                    stream = make(symbology, data, layout)
                except Exception as exc:
                    print(f"  {symbology.value:7s} {paper} mm {name:13s}: cannot print ({exc})")
                    continue
                image = raster_to_image(stream, layout.width_dots)
                results = []
                for defect, apply in defects.items():
                    zbar, zxing = decode_both(apply(image), symbology.value)  # type: ignore[operator]
                    ok = zbar == [data] and zxing == [data]
                    results.append(f"{defect}: {'ok' if ok else f'FAIL zbar={zbar} zxing={zxing}'}")
                print(f"  {symbology.value:7s} {paper} mm {name:13s}: {len(stream):5d} B; "
                      + "; ".join(results))  # fmt: skip


def main() -> None:
    wire_and_time()
    sideways()
    side_by_side()


if __name__ == "__main__":
    main()

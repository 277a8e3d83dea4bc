"""The shipped virtual printer: real label bytes and their picture in a folder, faults on demand."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from appliance.errors import PaperOut, PrinterError
from appliance.ports import DeviceState, LabelPrinter
from appliance.values import CardNumber, Issuer, LabelJob
from drivers.printer.escpos_output import label_bytes
from drivers.printer.raster import raster_to_image
from drivers.printer.render import LabelLayout, render_label
from drivers.printer.virtual import VirtualPrinter
from tests.support.barcodes import decode_both

ISSUER = Issuer("000001", "川崎市立図書館", codabar_start="A", codabar_stop="A")
JOB = LabelJob("job1", CardNumber(ISSUER, "1800000001"), "2026-11-25")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "labels"  # not created yet: the printer makes it


def test_printing_writes_the_bytes_and_their_picture_named_by_date_and_job(folder):
    printed = VirtualPrinter(folder).print_label(JOB)
    png, bin_ = folder / "label-2026-11-25-job1.png", folder / "label-2026-11-25-job1.bin"
    assert printed.job_id == "job1"
    assert printed.artifacts == (str(png), str(bin_))
    assert sorted(folder.iterdir()) == [bin_, png]  # no temporary files left behind


def test_the_bin_is_exactly_what_a_printer_would_receive(folder):
    VirtualPrinter(folder).print_label(JOB)
    expected = label_bytes(render_label(JOB))
    assert (folder / "label-2026-11-25-job1.bin").read_bytes() == expected


@pytest.mark.parametrize("width", [384, 576])
def test_the_png_is_the_bytes_parsed_back_and_scans_with_both_decoders(folder, width):
    png_path, bin_path = (
        VirtualPrinter(folder, LabelLayout(width_dots=width)).print_label(JOB).artifacts
    )
    with Image.open(png_path) as png:
        assert png.size[0] == width
        parsed = raster_to_image(Path(bin_path).read_bytes(), width)
        assert png.convert("1").tobytes() == parsed.tobytes()
        assert decode_both(png) == (["A1800000001A"], ["A1800000001A"])


def test_a_fault_is_raised_and_nothing_is_written(folder):
    printer = VirtualPrinter(folder)
    printer.fault = PaperOut("no paper")
    with pytest.raises(PaperOut):
        printer.print_label(JOB)
    assert not folder.exists()


def test_printing_works_again_once_the_fault_is_cleared(folder):
    printer = VirtualPrinter(folder)
    printer.fault = PaperOut()
    with pytest.raises(PrinterError):
        printer.print_label(JOB)
    printer.fault = None
    assert Path(printer.print_label(JOB).artifacts[0]).exists()


def test_status_is_ok_and_names_the_folder(folder):
    status = VirtualPrinter(folder).status()
    assert (status.part, status.state) == ("printer", DeviceState.OK)
    assert status.detail == f"virtual printer writing to {folder}"


def test_status_reports_an_injected_fault_by_its_message_key(folder):
    printer = VirtualPrinter(folder)
    printer.fault = PaperOut()
    status = printer.status()
    assert status.state is DeviceState.FAULT
    assert "error.printer.paper" in status.detail


def test_a_job_id_cannot_write_outside_the_folder(folder):
    job = LabelJob("../../evil/job", JOB.number, "2026-11-25")
    png_path, bin_path = VirtualPrinter(folder).print_label(job).artifacts
    assert Path(png_path).parent == folder and Path(bin_path).parent == folder


def test_an_unwritable_folder_is_a_printer_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(PrinterError, match="cannot write"):
        VirtualPrinter(blocker / "labels").print_label(JOB)


def test_it_serves_as_the_label_printer_port(folder):
    printer: LabelPrinter = VirtualPrinter(folder)
    assert printer.print_label(JOB).job_id == JOB.job_id

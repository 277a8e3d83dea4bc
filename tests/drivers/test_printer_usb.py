"""The USB adapter's translation of what python-escpos + pyusb report. UNIT TEST, no hardware.

The real python-escpos ``Usb`` and the real pyusb ``Device`` run; only pyusb's backend (libusb
and the cable) is a double, :mod:`tests.support.usb_backend`, behind which the emulated ESC/POS
printer answers real-time status. What it proves: status read over USB holds a job before any
byte of it is sent; a USB error mid-write makes the job uncertain, never resent by itself; a
printer not found is offline. What it cannot prove: how a given printer's firmware behaves.
"""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.errors import CoverOpen, PaperOut, PrinterOffline, PrintUncertain
from appliance.ports import DeviceState, JobState
from appliance.spool import LabelSpool, MemoryJobs
from appliance.values import CardNumber, Issuer, LabelJob
from drivers.printer.escpos_printer import Connection, EscposPrinter
from drivers.printer.raster import raster_to_image
from drivers.printer.render import LabelLayout
from tests.support.barcodes import decode_both
from tests.support.usb_backend import PRODUCT, VENDOR, UsbPrinterBackend

TODAY = dt.date(2026, 11, 25)
JOB = LabelJob("job1", CardNumber(Issuer("000001", "川崎市立図書館"), "1800000001"),
               TODAY.isoformat())  # fmt: skip
LAYOUT = LabelLayout.for_paper(58, 203)


class Today:
    def today(self) -> dt.date:
        return TODAY


@pytest.fixture
def backend() -> UsbPrinterBackend:
    return UsbPrinterBackend()


def usb(backend: UsbPrinterBackend) -> EscposPrinter:
    connection = Connection("usb", usb_vendor=VENDOR, usb_product=PRODUCT, timeout_s=2,
                            status_timeout_s=0.3, usb_backend=backend)  # fmt: skip
    return EscposPrinter(connection, LAYOUT)


def test_a_label_goes_over_usb_after_the_status_and_scans(backend):
    printer = usb(backend)
    printer.print_label(JOB)
    assert backend.printer.queries == 3  # DLE EOT 1, 2, 4 before the label
    assert backend.printer.printed(1, settle=0) == [printer.label_bytes(JOB)]
    parsed = raster_to_image(backend.printer.labels[0], LAYOUT.width_dots)
    assert decode_both(parsed) == (["A1800000001A"], ["A1800000001A"])
    assert backend.opened and backend.closed == backend.opened  # every handle released


@pytest.mark.parametrize(
    ("paper", "cover", "state", "words"),
    [("ok", False, DeviceState.OK, "paper ok, cover closed, online"),
     ("near_end", False, DeviceState.WARNING, "paper near end"),
     ("out", False, DeviceState.FAULT, "paper out"),
     ("ok", True, DeviceState.FAULT, "cover open")],
)  # fmt: skip
def test_real_time_status_is_read_over_usb(backend, paper, cover, state, words):
    backend.printer.paper, backend.printer.cover_open = paper, cover
    status = usb(backend).status()
    assert status.state is state
    assert status.detail.startswith("USB 04b8:0e15: ") and words in status.detail


@pytest.mark.parametrize(("paper", "cover", "error"), [("out", False, PaperOut),
                                                       ("ok", True, CoverOpen)])  # fmt: skip
def test_a_usb_printer_reporting_a_fault_gets_no_byte_of_the_label(backend, paper, cover, error):
    backend.printer.paper, backend.printer.cover_open = paper, cover
    with pytest.raises(error):
        usb(backend).print_label(JOB)
    assert backend.writes == [9]  # the three status questions, nothing else
    backend.printer.reload()
    assert backend.printer.labels == [] and backend.printer.held == []


def test_paper_out_over_usb_holds_the_job_and_it_prints_once_after_the_reload(backend):
    backend.printer.paper = "out"
    jobs = MemoryJobs()
    spool = LabelSpool(usb(backend), jobs, Today())
    with pytest.raises(PaperOut):
        spool.submit(JOB)
    backend.printer.reload()
    assert [p.job_id for p in spool.resume()] == ["job1"]
    assert spool.resume() == []
    assert len(backend.printer.labels) == 1 and jobs.state("job1") is JobState.PRINTED


def test_a_usb_error_mid_write_makes_the_job_uncertain_and_it_is_never_resent(backend):
    backend.fail_write, backend.fail_after = 2, 1000  # cable out 1,000 bytes into the label
    jobs = MemoryJobs()
    spool = LabelSpool(usb(backend), jobs, Today())
    with pytest.raises(PrintUncertain, match="link failed while sending"):
        spool.submit(JOB)
    assert backend.writes == [9, 1000]
    assert jobs.state("job1") is JobState.SENDING and jobs.uncertain() == [JOB]
    assert spool.resume() == []  # the loop that retries held labels leaves it alone
    assert backend.writes == [9, 1000]  # not one more byte
    assert backend.printer.labels == []  # the cut never arrived: no whole label came out


def test_a_status_that_times_out_over_usb_is_unknown_and_the_label_still_goes(backend):
    backend.stall_reads = True
    printer = usb(backend)
    assert printer.status().state is DeviceState.UNKNOWN
    printer.print_label(JOB)
    assert backend.printer.printed(1, settle=0) == [printer.label_bytes(JOB)]


def test_a_usb_printer_that_is_not_there_is_offline_through_pyusb(backend):
    backend.plugged = False
    with pytest.raises(PrinterOffline, match="USB 04b8:0e15: cannot connect"):
        usb(backend).print_label(JOB)
    assert usb(backend).status().state is DeviceState.FAULT
    assert backend.writes == []


def test_a_usb_error_while_asking_the_status_is_unknown_and_nothing_of_the_label_was_lost(backend):
    backend.fail_write, backend.fail_after = 1, 0  # the status question itself fails
    printer = usb(backend)
    printer.print_label(JOB)  # unknown is not a fault: the label goes, whole
    assert backend.writes == [0, len(printer.label_bytes(JOB))]
    assert backend.printer.printed(1, settle=0) == [printer.label_bytes(JOB)]

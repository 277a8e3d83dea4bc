"""The real ESC/POS adapter over real links: loopback TCP, a pty serial line, a file, USB.

The far end is :mod:`tests.support.escpos_emulator`, which answers DLE EOT real-time status and,
like a real printer, keeps data sent while it is out of paper and prints it after the reload.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from appliance.errors import CoverOpen, PaperOut, PrinterOffline
from appliance.ports import DeviceState, JobState, LabelPrinter
from appliance.spool import LabelSpool
from appliance.values import CardNumber, Issuer, LabelJob, Symbology
from drivers.printer import status as rt
from drivers.printer.escpos_printer import Connection, EscposPrinter
from drivers.printer.raster import raster_to_image
from drivers.printer.render import LabelLayout
from sync.jobs import JobStore
from tests.support.barcodes import decode_both
from tests.support.escpos_emulator import PtyPrinter, TcpPrinter

TODAY = dt.date(2026, 11, 25)
ISSUER = Issuer("000001", "川崎市立図書館", codabar_start="A", codabar_stop="A")
JOB = LabelJob("job1", CardNumber(ISSUER, "1800000001"), TODAY.isoformat())
LAYOUT = LabelLayout.for_paper(80, 203)


@pytest.fixture
def tcp() -> Iterator[TcpPrinter]:
    printer = TcpPrinter().start()
    yield printer
    printer.stop()


@pytest.fixture
def pty() -> Iterator[PtyPrinter]:
    printer = PtyPrinter().start()
    yield printer
    printer.stop()


def network(tcp: TcpPrinter, **kw: object) -> EscposPrinter:
    connection = Connection("network", host="127.0.0.1", port=tcp.port, timeout_s=5,
                            status_timeout_s=kw.pop("status_timeout_s", 2.0))  # type: ignore[arg-type]  # fmt: skip
    return EscposPrinter(connection, LAYOUT)


def scans(label: bytes, width: int = LAYOUT.width_dots) -> bool:
    return decode_both(raster_to_image(label, width)) == (["A1800000001A"], ["A1800000001A"])


def test_a_label_over_tcp_arrives_byte_exact_and_scans(tcp):
    printer = network(tcp)
    printer.print_label(JOB)
    assert tcp.printed(1) == [printer.label_bytes(JOB)]
    assert tcp.queries == 3  # status asked before sending
    assert scans(tcp.labels[0])


@pytest.mark.parametrize(
    ("paper", "cover", "state", "detail"),
    [
        ("ok", False, DeviceState.OK, "paper ok, cover closed, online"),
        ("near_end", False, DeviceState.WARNING, "paper near end, cover closed, online"),
        ("out", False, DeviceState.FAULT, "paper out, cover closed, offline"),
        ("ok", True, DeviceState.FAULT, "paper ok, cover open, offline"),
    ],
)
def test_real_time_status_is_read_over_tcp(tcp, paper, cover, state, detail):
    tcp.paper, tcp.cover_open = paper, cover
    status = network(tcp).status()
    assert status.state is state
    assert status.detail == f"network 127.0.0.1:{tcp.port}: {detail}"


def test_a_printer_that_does_not_answer_status_is_unknown_not_ok(tcp):
    tcp.answers_status = False
    printer = network(tcp, status_timeout_s=0.2)
    assert printer.status().state is DeviceState.UNKNOWN
    printer.print_label(JOB)  # unknown is not a fault: the label goes
    assert len(tcp.printed(1)) == 1


@pytest.mark.parametrize(("paper", "cover", "error"), [("out", False, PaperOut),
                                                       ("ok", True, CoverOpen)])  # fmt: skip
def test_a_printer_that_cannot_print_gets_nothing(tcp, paper, cover, error):
    tcp.paper, tcp.cover_open = paper, cover
    with pytest.raises(error):
        network(tcp).print_label(JOB)
    tcp.reload()
    assert tcp.printed(0) == [] and tcp.held == []  # settles: nothing was in flight either


def test_nobody_listening_is_printer_offline():
    connection = Connection("network", host="127.0.0.1", port=1, timeout_s=1)
    with pytest.raises(PrinterOffline, match="cannot connect"):
        EscposPrinter(connection).print_label(JOB)
    assert EscposPrinter(connection).status().state is DeviceState.FAULT


def test_paper_out_then_reload_prints_exactly_one_label_end_to_end(tcp, tmp_path):
    """Issue 4: the job survives the paper-out, prints once the paper is back, and only once."""
    tcp.paper = "out"

    class Today:
        def today(self) -> dt.date:
            return TODAY

    printer: LabelPrinter = network(tcp)
    with JobStore(tmp_path / "kiosk.sqlite") as jobs:
        spool = LabelSpool(printer, jobs, Today())
        with pytest.raises(PaperOut):
            spool.submit(JOB)
        assert spool.resume() == []  # staff not there yet: still held, still nothing sent
        assert jobs.state("job1") is JobState.PENDING and jobs.card_numbers_stored() == 1
        tcp.reload()
        assert [p.job_id for p in spool.resume()] == ["job1"]
        assert spool.resume() == []
        assert jobs.state("job1") is JobState.PRINTED and jobs.card_numbers_stored() == 0
    assert len(tcp.printed(1)) == 1 and tcp.held == []
    assert scans(tcp.labels[0])


def serial(pty: PtyPrinter) -> EscposPrinter:
    connection = Connection("serial", serial_device=pty.device, serial_baud=115200, timeout_s=5,
                            status_timeout_s=2.0)  # fmt: skip
    return EscposPrinter(connection, LabelLayout.for_paper(58, 203))


def test_a_label_over_a_serial_line_arrives_byte_exact_and_scans(pty):
    printer = serial(pty)
    printer.print_label(JOB)
    assert pty.printed(1) == [printer.label_bytes(JOB)]
    assert scans(pty.labels[0], 384)


def test_real_time_status_is_read_over_a_serial_line(pty):
    pty.paper = "near_end"
    assert serial(pty).status().state is DeviceState.WARNING
    pty.paper = "out"
    with pytest.raises(PaperOut):
        serial(pty).print_label(JOB)
    pty.reload()
    assert pty.printed(0) == [] and pty.held == []


def test_a_file_printer_gets_the_exact_bytes_and_its_state_is_unknown(tmp_path):
    path = tmp_path / "lp0"
    path.touch()
    printer = EscposPrinter(Connection("file", file_path=str(path)), LAYOUT)
    printer.print_label(JOB)
    assert path.read_bytes() == printer.label_bytes(JOB)
    status = printer.status()
    assert status.state is DeviceState.UNKNOWN and "cannot read" in status.detail


def test_a_device_that_refuses_with_enospc_is_paper_out():
    # usblp answers a write with ENOSPC while the printer reports paper out; /dev/full does too
    printer = EscposPrinter(Connection("file", file_path="/dev/full"), LAYOUT)
    with pytest.raises(PaperOut):
        printer.print_label(JOB)


def test_a_missing_file_device_is_printer_offline(tmp_path):
    with pytest.raises(PrinterOffline):
        EscposPrinter(Connection("file", file_path=str(tmp_path / "no" / "lp0"))).print_label(JOB)


def test_a_usb_printer_that_is_not_plugged_in_is_printer_offline():
    printer = EscposPrinter(Connection("usb", usb_vendor=0xFFFF, usb_product=0xFFFE))
    with pytest.raises(PrinterOffline, match="USB ffff:fffe: cannot connect"):
        printer.print_label(JOB)


def test_a_number_that_cannot_be_drawn_never_opens_the_printer(tcp):
    code39 = Issuer("000002", "X", symbology=Symbology.CODE39)
    long_job = LabelJob("job2", CardNumber(code39, "1" * 30), TODAY.isoformat())
    with pytest.raises(Exception, match="does not fit"):
        network(tcp).print_label(long_job)
    assert tcp.queries == 0


@pytest.mark.parametrize(
    "answer",
    [b"", b"\x12\x12", b"\x00\x00\x00", b"\xff\x12\x12", b"\x12\x12\x12\x12"],
)
def test_an_answer_that_is_not_real_time_status_is_unknown(answer):
    assert not rt.parse(answer).known


def test_status_bits_are_read_as_documented():
    condition = rt.parse(bytes([0x12 | 0x08, 0x12 | 0x04, 0x12 | 0x0C]))
    assert (condition.offline, condition.cover_open, condition.near_end) == (True, True, True)
    assert condition.paper_out is False
    assert isinstance(condition.fault(), CoverOpen)

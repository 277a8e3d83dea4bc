"""The label spool's rules: kept until printed, held on a fault, never printed twice."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.errors import CoverOpen, LabelError, PaperOut, PrinterError, PrintUncertain
from appliance.ports import DeviceState, DeviceStatus, JobState
from appliance.spool import LabelSpool, MemoryJobs
from appliance.values import CardNumber, Issuer, LabelJob, PrintedLabel

TODAY = dt.date(2026, 11, 25)
NUMBER = CardNumber(Issuer("000001", "川崎市立図書館"), "1800000001")


def job(job_id: str, day: dt.date = TODAY) -> LabelJob:
    return LabelJob(job_id, NUMBER, day.isoformat())


class Printer:
    """Prints, or raises the next queued fault."""

    def __init__(self) -> None:
        self.faults: list[PrinterError] = []
        self.printed: list[str] = []

    def print_label(self, label_job: LabelJob) -> PrintedLabel:
        if self.faults:
            raise self.faults.pop(0)
        self.printed.append(label_job.job_id)
        return PrintedLabel(label_job.job_id)

    def status(self) -> DeviceStatus:
        return DeviceStatus("printer", DeviceState.OK, "fake")


class Clock:
    day = TODAY

    def today(self) -> dt.date:
        return self.day


@pytest.fixture
def parts() -> tuple[LabelSpool, Printer, MemoryJobs, Clock]:
    printer, jobs, clock = Printer(), MemoryJobs(), Clock()
    return LabelSpool(printer, jobs, clock), printer, jobs, clock


def test_a_printed_job_is_done_and_its_number_wiped(parts):
    spool, printer, jobs, _ = parts
    assert spool.submit(job("a")).job_id == "a"
    assert printer.printed == ["a"]
    assert jobs.state("a") is JobState.PRINTED and jobs.rows["a"].job is None


@pytest.mark.parametrize("fault", [PaperOut(), CoverOpen()])
def test_a_fault_before_printing_holds_the_job_until_resume_prints_it_once(parts, fault):
    spool, printer, jobs, _ = parts
    printer.faults = [fault]
    with pytest.raises(type(fault)):
        spool.submit(job("a"))
    assert printer.printed == [] and jobs.pending() == [job("a")]
    assert [p.job_id for p in spool.resume()] == ["a"]
    assert spool.resume() == []
    assert printer.printed == ["a"]


def test_resume_stops_at_the_first_fault_and_keeps_the_rest(parts):
    spool, printer, jobs, _ = parts
    printer.faults = [PaperOut(), PaperOut(), PaperOut()]
    for name in ("a", "b"):
        with pytest.raises(PaperOut):
            spool.submit(job(name))
    assert spool.resume() == []  # still no paper: nothing printed, nothing lost
    assert [j.job_id for j in jobs.pending()] == ["a", "b"]
    assert [p.job_id for p in spool.resume()] == ["a", "b"]


def test_waiting_jobs_print_before_a_new_one_in_tap_order(parts):
    spool, printer, _, _ = parts
    printer.faults = [PaperOut()]
    with pytest.raises(PaperOut):
        spool.submit(job("first"))
    spool.submit(job("second"))
    assert printer.printed == ["first", "second"]


def test_a_job_that_may_have_printed_is_never_resent_automatically(parts):
    spool, printer, jobs, _ = parts
    printer.faults = [PrintUncertain("link dropped mid-label")]
    with pytest.raises(PrintUncertain):
        spool.submit(job("a"))
    assert spool.resume() == [] and printer.printed == []
    assert jobs.uncertain() == [job("a")]
    spool.reprint("a")  # staff saw no label come out
    assert printer.printed == ["a"]
    with pytest.raises(ValueError):
        spool.reprint("a")


def test_staff_can_cancel_a_held_job_and_it_never_prints(parts):
    spool, printer, jobs, _ = parts
    printer.faults = [PaperOut()]
    with pytest.raises(PaperOut):
        spool.submit(job("a"))
    spool.cancel("a")
    assert spool.resume() == [] and printer.printed == []
    assert jobs.state("a") is JobState.CANCELLED and jobs.rows["a"].job is None


def test_yesterdays_held_job_is_dropped_never_printed(parts):
    spool, printer, jobs, clock = parts
    printer.faults = [PaperOut()]
    with pytest.raises(PaperOut):
        spool.submit(job("a"))
    clock.day = TODAY + dt.timedelta(days=1)
    assert spool.resume() == []
    assert printer.printed == [] and jobs.state("a") is None


def test_a_bug_in_the_printer_keeps_the_job_pending(parts):
    spool, printer, jobs, _ = parts
    printer.faults = [RuntimeError("bug")]  # type: ignore[list-item]
    with pytest.raises(RuntimeError):
        spool.submit(job("a"))
    assert jobs.pending() == [job("a")]


def test_a_label_that_cannot_be_drawn_is_cancelled_and_does_not_block_the_next(parts):
    spool, printer, jobs, _ = parts
    printer.faults = [LabelError("does not fit")]  # type: ignore[list-item]
    with pytest.raises(LabelError):
        spool.submit(job("a"))
    assert jobs.state("a") is JobState.CANCELLED
    spool.submit(job("b"))
    assert printer.printed == ["b"]


def test_a_held_job_names_itself_and_a_listener_hears_when_it_prints(parts):
    """What the patron screen needs for "your held label has printed"."""
    spool, printer, _, _ = parts
    heard: list[str] = []
    spool.add_listener(lambda printed: heard.append(printed.job_id))
    printer.faults = [PaperOut()]
    with pytest.raises(PaperOut) as held:
        spool.submit(job("a"))
    assert held.value.job_id == "a" and heard == []
    spool.resume()
    assert heard == ["a"]


def test_a_failing_listener_does_not_stop_printing(parts):
    spool, printer, jobs, _ = parts

    def broken(_: PrintedLabel) -> None:
        raise RuntimeError("screen gone")

    spool.add_listener(broken)
    spool.submit(job("a"))
    assert printer.printed == ["a"] and jobs.state("a") is JobState.PRINTED


def test_the_staff_list_shows_held_and_uncertain_jobs_masked(parts):
    spool, printer, _, _ = parts
    printer.faults = [PaperOut(), PaperOut(), PrintUncertain("cut off")]
    for name in ("a", "b"):
        with pytest.raises(PaperOut) as held:
            spool.submit(job(name))
        assert held.value.job_id == name  # b's patron waits for b, though a was tried first
    assert spool.resume() == []  # a may have printed: uncertain; b still held
    entries = spool.entries()
    assert [(e.job_id, e.state, e.masked) for e in entries] == [
        ("a", JobState.SENDING, "*******001"),
        ("b", JobState.PENDING, "*******001"),
    ]
    assert all(e.problem is None and e.issuer_id == "000001" for e in entries)


def test_an_older_job_that_cannot_be_drawn_does_not_fail_the_new_one(parts):
    spool, printer, jobs, _ = parts
    printer.faults = [PaperOut(), LabelError("does not fit")]  # type: ignore[list-item]
    with pytest.raises(PaperOut):
        spool.submit(job("a"))
    assert spool.submit(job("b")).job_id == "b"
    assert jobs.state("a") is JobState.CANCELLED and printer.printed == ["b"]

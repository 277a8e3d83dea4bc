"""The SQLite label-job store: durable across restarts, numbers wiped when done or at day's end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.errors import PaperOut
from appliance.ports import JobState, LabelJobs
from appliance.spool import LabelSpool
from appliance.values import (
    CardNumber,
    CheckScheme,
    Issuer,
    LabelJob,
    NumberDisplay,
    PrintedLabel,
    Symbology,
)
from sync.jobs import JobStore

LIBRARY = Issuer(
    "000001", "川崎市立図書館", symbology=Symbology.CODABAR, codabar_start="B",
    codabar_stop="C", check=CheckScheme.MOD10_W21, lengths=(11,), alphabet="0123456789",
    number_display=NumberDisplay.FULL,
)  # fmt: skip
NUMBER = "79927398713"  # Luhn-valid, and unlikely anywhere else in the file
TODAY = dt.date(2026, 11, 25)


def job(job_id: str = "job1", day: dt.date = TODAY) -> LabelJob:
    return LabelJob(job_id, CardNumber(LIBRARY, NUMBER), day.isoformat())


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "kiosk.sqlite"


@pytest.fixture
def store(path: Path) -> Iterator[JobStore]:
    with JobStore(path) as s:
        yield s


def on_disk(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_a_job_comes_back_exactly_with_its_issuers_rules(store):
    store.add(job())
    (back,) = store.pending()
    assert back == job()
    assert back.number.issuer == LIBRARY


def test_the_same_job_twice_is_refused(store):
    store.add(job())
    with pytest.raises(ValueError, match="exists"):
        store.add(job())


def test_a_pending_job_survives_a_restart(path):
    with JobStore(path) as first:
        first.add(job())
    with JobStore(path) as second:
        assert second.pending() == [job()]


def test_a_job_claimed_when_the_kiosk_died_is_uncertain_not_pending_after_restart(path):
    with JobStore(path) as first:
        first.add(job())
        assert first.claim("job1")
    with JobStore(path) as second:
        assert second.pending() == []
        assert second.uncertain() == [job()]


def test_a_job_can_be_claimed_only_once(store):
    store.add(job())
    assert store.claim("job1") is True
    assert store.claim("job1") is False
    store.release("job1")
    assert store.state("job1") is JobState.PENDING


@pytest.mark.parametrize("finish", ["printed", "cancel"])
def test_printing_or_cancelling_wipes_the_number_from_the_file(store, path, finish):
    store.add(job())
    assert NUMBER.encode() in on_disk(path)
    getattr(store, finish)("job1")
    assert store.card_numbers_stored() == 0
    assert store.pending() == [] and store.uncertain() == []
    assert NUMBER.encode() not in on_disk(path)  # not in the WAL or in free space either


def test_a_printed_job_is_never_pending_again(store):
    store.add(job())
    store.printed("job1")
    store.release("job1")  # a late release of a finished job changes nothing
    assert store.claim("job1") is False
    assert store.state("job1") is JobState.PRINTED


def test_the_end_of_the_day_wipes_every_earlier_job_and_counts_the_unprinted(store, path):
    yesterday = TODAY - dt.timedelta(days=1)
    store.add(job("old-pending", yesterday))
    store.add(job("old-uncertain", yesterday))
    store.claim("old-uncertain")
    store.add(job("old-printed", yesterday))
    store.printed("old-printed")
    store.add(job("today"))
    assert store.expire(TODAY) == 2
    assert [j.job_id for j in store.pending()] == ["today"]
    assert store.state("old-printed") is None
    store.printed("today")
    assert NUMBER.encode() not in on_disk(path)


def test_it_is_durable_sqlite(store):
    assert store._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert store._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


class OnePaperRoll:
    """A printer with no paper until ``reload()``; counts what it printed."""

    def __init__(self) -> None:
        self.paper = False
        self.labels: list[str] = []

    def print_label(self, label_job: LabelJob) -> PrintedLabel:
        if not self.paper:
            raise PaperOut("no paper")
        self.labels.append(label_job.job_id)
        return PrintedLabel(label_job.job_id)

    def status(self):  # pragma: no cover - not used by the spool
        raise NotImplementedError


class Today:
    def today(self) -> dt.date:
        return TODAY


def test_a_held_job_survives_a_restart_and_prints_once_on_resume(path):
    printer = OnePaperRoll()
    with JobStore(path) as first:
        jobs: LabelJobs = first
        with pytest.raises(PaperOut):
            LabelSpool(printer, jobs, Today()).submit(job())
    printer.paper = True
    with JobStore(path) as second:
        spool = LabelSpool(printer, second, Today())
        assert [p.job_id for p in spool.resume()] == ["job1"]
        assert spool.resume() == []
        assert second.card_numbers_stored() == 0
    assert printer.labels == ["job1"]

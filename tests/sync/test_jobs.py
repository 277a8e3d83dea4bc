"""The SQLite label-job store: durable across restarts, numbers wiped when done or at day's end."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.errors import LabelJobUnreadable, PaperOut
from appliance.messages import bilingual
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
    issuer_record,
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
    assert store.card_numbers_stored() == 1
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


# -- sealed under the device secret (issue 4) ---------------------------------------------------


def token_job(job_id: str = "tok1") -> LabelJob:
    return LabelJob(job_id, CardNumber(LIBRARY, NUMBER), TODAY.isoformat(), provisional=True,
                    valid_hours="2026-11-25 10:32–20:00", stop="宮前公民館前")  # fmt: skip


def test_a_queued_number_is_nowhere_in_the_file_in_clear(store, path):
    store.add(job())
    store.add(token_job())
    assert store.card_numbers_stored() == 2
    raw = on_disk(path)  # the database, its WAL and shared memory
    assert NUMBER.encode() not in raw
    assert NUMBER.encode("utf-16-le") not in raw and NUMBER.encode("utf-16-be") not in raw
    assert "宮前公民館前".encode() not in raw  # the stop and hours are sealed with it


def test_hours_and_stop_come_back_with_the_job(store):
    store.add(token_job())
    assert store.pending() == [token_job()]


def copy_database(store: JobStore, path: Path, into: Path) -> Path:
    """The database file alone (as a thief or a careless backup would take it), checkpointed."""
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    into.mkdir()
    (into / path.name).write_bytes(path.read_bytes())
    return into / path.name


def test_a_copied_database_does_not_unseal_on_another_device(store, path, tmp_path):
    store.add(job())
    copied = copy_database(store, path, tmp_path / "elsewhere")  # its own new device secret
    with JobStore(copied) as other:
        assert other.pending() == [] and other.uncertain() == []
        (problem,) = other.unreadable()
        assert isinstance(problem, LabelJobUnreadable) and problem.job_id == "job1"
        (entry,) = other.entries()
        assert (entry.job_id, entry.issuer_id, entry.masked) == ("job1", "000001", "")
        assert entry.problem is not None and entry.problem.key == "error.label.job_unreadable"
        assert "cannot be read" in bilingual(problem.key, **problem.params)
        printer = OnePaperRoll()
        printer.paper = True
        assert LabelSpool(printer, other, Today()).resume() == []
        assert printer.labels == []  # never printed
        other.cancel("job1")  # what staff do with it
        assert other.unreadable() == [] and other.card_numbers_stored() == 0


def test_the_same_device_secret_unseals_the_copy(store, path, tmp_path):
    store.add(job())
    copied = copy_database(store, path, tmp_path / "restored")
    with JobStore(copied, path.parent / "device-secret") as restored:
        assert restored.pending() == [job()]


def test_a_sealed_number_swapped_into_another_row_does_not_unseal(store, path):
    store.add(job("a"))
    store.add(job("b"))
    blobs = dict(store._db.execute("SELECT job_id, sealed FROM label_jobs"))
    for job_id, other in (("a", "b"), ("b", "a")):
        store._db.execute("UPDATE label_jobs SET sealed = ? WHERE job_id = ?",
                          (blobs[other], job_id))  # fmt: skip
    assert store.pending() == []
    assert sorted(p.job_id for p in store.unreadable()) == ["a", "b"]


def test_an_issuer_edited_in_clear_does_not_unseal(store):
    # e.g. someone switches the number display to full, or points the job at another library
    store.add(job())
    store._db.execute("UPDATE label_jobs SET issuer = replace(issuer, '\"full\"', '\"masked\"')")
    assert store.pending() == [] and [p.job_id for p in store.unreadable()] == ["job1"]


def test_an_unreadable_uncertain_job_cannot_be_reprinted(store, path, tmp_path):
    store.add(job())
    store.claim("job1")
    copied = copy_database(store, path, tmp_path / "elsewhere")
    with JobStore(copied) as other:
        printer = OnePaperRoll()
        printer.paper = True
        with pytest.raises(LabelJobUnreadable):
            LabelSpool(printer, other, Today()).reprint("job1")
        assert printer.labels == [] and other.state("job1") is JobState.SENDING


def test_a_file_from_before_sealing_is_sealed_on_open(path):
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE label_jobs (job_id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN"
        " ('pending', 'sending', 'printed', 'cancelled')), issued_on TEXT NOT NULL, issuer TEXT"
        " NOT NULL, card_number TEXT, provisional INTEGER NOT NULL DEFAULT 0, created_at TEXT"
        " NOT NULL, updated_at TEXT NOT NULL,"
        " CHECK ((state IN ('pending', 'sending')) = (card_number IS NOT NULL)))"
    )
    old_issuer = json.dumps({k: v for k, v in issuer_record(LIBRARY).items()
                             if k not in ("alphabet", "number_display")})  # fmt: skip
    old.executemany(
        "INSERT INTO label_jobs VALUES (?, ?, ?, ?, ?, 0, 't', 't')",
        [("held", "pending", TODAY.isoformat(), old_issuer, NUMBER),
         ("done", "printed", TODAY.isoformat(), old_issuer, None)],
    )  # fmt: skip
    old.commit()
    old.close()
    with JobStore(path) as store:
        (back,) = store.pending()
        assert back.job_id == "held" and back.number.value == NUMBER
        assert store.state("done") is JobState.PRINTED
        assert NUMBER.encode() not in on_disk(path)
        store.printed("held")
        assert store.card_numbers_stored() == 0

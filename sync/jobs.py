"""Pending label jobs in the kiosk's SQLite file: the ``LabelJobs`` port (ARCHITECTURE.md).

Short-lived by design. A row holds the card number only while its job is ``pending`` or
``sending``; printing or cancelling sets it to NULL in the same transaction as the state, and
:meth:`JobStore.expire` deletes every row of an earlier day. ``synchronous=FULL`` makes each
change durable before the call returns (a power cut after "printed" never resurrects the job),
and ``secure_delete`` overwrites wiped numbers in the file instead of leaving them in free pages.

The issuer's rules travel with the job (JSON) so a job can be rebuilt after a restart without the
platform; rebuilding re-validates the number, so a row edited on disk cannot print a bad number.

This is its own module, beside :mod:`sync.store` (the outbox), and may share its file: each opens
its own connection, and WAL lets them write in turn.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from appliance.errors import SyncError
from appliance.ports import JobState
from appliance.values import CardNumber, Issuer, LabelJob, issuer_from_record, issuer_record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_jobs (
    job_id      TEXT PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'printed', 'cancelled')),
    issued_on   TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    card_number TEXT,
    provisional INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK ((state IN ('pending', 'sending')) = (card_number IS NOT NULL))
)
"""
_LIVE = ("pending", "sending")


class JobStoreError(SyncError):
    """The job store failed (disk full, worn SD card, corrupt file)."""

    key = "error.unexpected"


class JobStore:
    """``LabelJobs`` on SQLite. Thread-safe: the spool's worker and staff screens share it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise JobStoreError(f"label jobs {self.path}: {exc}") from exc

    # -- the LabelJobs port ---------------------------------------------------------------------

    def add(self, job: LabelJob) -> None:
        now = _now()
        try:
            self._write(
                "INSERT INTO label_jobs (job_id, state, issued_on, issuer, card_number,"
                " provisional, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                (job.job_id, job.issued_on, _issuer_json(job.number.issuer), job.number.value,
                 int(job.provisional), now, now),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"label job {job.job_id} exists") from exc

    def pending(self) -> list[LabelJob]:
        return self._jobs("pending")

    def uncertain(self) -> list[LabelJob]:
        return self._jobs("sending")

    def claim(self, job_id: str) -> bool:
        return self._move(job_id, ("pending",), "sending") == 1

    def release(self, job_id: str) -> None:
        self._move(job_id, ("sending",), "pending")

    def printed(self, job_id: str) -> None:
        self._move(job_id, _LIVE, "printed", wipe=True)
        self._checkpoint()

    def cancel(self, job_id: str) -> None:
        self._move(job_id, _LIVE, "cancelled", wipe=True)
        self._checkpoint()

    def state(self, job_id: str) -> JobState | None:
        rows = self._read("SELECT state FROM label_jobs WHERE job_id = ?", (job_id,))
        return JobState(rows[0][0]) if rows else None

    def expire(self, today: dt.date) -> int:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                (dropped,) = self._db.execute(
                    "SELECT count(*) FROM label_jobs WHERE issued_on < ? AND state IN (?, ?)",
                    (today.isoformat(), *_LIVE),
                ).fetchone()
                deleted = self._db.execute(
                    "DELETE FROM label_jobs WHERE issued_on < ?", (today.isoformat(),)
                ).rowcount
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise JobStoreError(f"label jobs: cannot expire: {exc}") from exc
        if deleted:  # the spool expires every few seconds: spare the SD card when nothing changed
            self._checkpoint()
        return int(dropped)

    # -- plumbing -------------------------------------------------------------------------------

    def card_numbers_stored(self) -> int:
        """How many rows still hold a card number (for staff diagnostics and the tests)."""
        rows = self._read("SELECT count(*) FROM label_jobs WHERE card_number IS NOT NULL", ())
        return int(rows[0][0])

    def _jobs(self, state: str) -> list[LabelJob]:
        rows = self._read(
            "SELECT job_id, issued_on, issuer, card_number, provisional FROM label_jobs"
            " WHERE state = ? ORDER BY created_at, rowid",
            (state,),
        )
        return [
            LabelJob(job_id, CardNumber(_issuer(issuer), number), issued_on, bool(provisional))
            for job_id, issued_on, issuer, number, provisional in rows
        ]

    def _move(self, job_id: str, sources: tuple[str, ...], target: str, wipe: bool = False) -> int:
        marks = ", ".join("?" for _ in sources)
        number = ", card_number = NULL" if wipe else ""
        return self._write(
            f"UPDATE label_jobs SET state = ?, updated_at = ?{number}"  # noqa: S608 - no data
            f" WHERE job_id = ? AND state IN ({marks})",
            (target, _now(), job_id, *sources),
        )

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        with self._lock:
            try:
                return self._db.execute(sql, params).rowcount
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise JobStoreError(f"label jobs: cannot write: {exc}") from exc

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise JobStoreError(f"label jobs: cannot read: {exc}") from exc

    def _checkpoint(self) -> None:
        """Fold the WAL into the file and truncate it: the WAL still holds the wiped number's
        old page until then. One per printed label, so the cost is a few fsyncs per patron."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                raise JobStoreError(f"label jobs: cannot checkpoint: {exc}") from exc

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _issuer_json(issuer: Issuer) -> str:
    return json.dumps(issuer_record(issuer), ensure_ascii=False, sort_keys=True)


def _issuer(text: str) -> Issuer:
    return issuer_from_record(json.loads(text))

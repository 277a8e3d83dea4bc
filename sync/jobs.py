"""Pending label jobs in the kiosk's SQLite file: the ``LabelJobs`` port (ARCHITECTURE.md).

Short-lived by design. A row holds the card number only while its job is ``pending`` or
``sending``, and never in clear: ``sealed`` is AES-256-GCM under a key derived from the device
secret (:func:`sync.devicesecret.derive_key`, its own purpose label), with the row's clear
columns (job ID, day, issuer, provisional) as associated data. So a copied database does not
decrypt without the root-only secret, and a sealed number moved to another row (another job ID,
or another issuer's rules) does not decrypt either. Such a row is never printed:
:meth:`JobStore.unreadable` reports it as ``LabelJobUnreadable`` for staff to cancel, and the
end of the day deletes it with the rest. Printing or cancelling sets ``sealed`` to NULL in the
same transaction as the state, and :meth:`JobStore.expire` deletes every row of an earlier day.
``synchronous=FULL`` makes each change durable before the call returns (a power cut after
"printed" never resurrects the job), and ``secure_delete`` overwrites wiped values in the file
instead of leaving them in free pages.

The issuer's rules travel with the job (JSON, :func:`appliance.values.issuer_record`) so a job can
be rebuilt after a restart without the platform; rebuilding re-validates the number. The sealed
part also carries the token label's hours and the bookmobile stop, so a held label prints as
it would have.

A file from before sealing (a ``card_number`` column in clear) is migrated on open: the live
rows' numbers are sealed in place and the column renamed, in one transaction.

This is its own module, beside :mod:`sync.store` (the outbox), and may share its file: each opens
its own connection, and WAL lets them write in turn.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.errors import KioskError, LabelJobUnreadable, SyncError
from appliance.ports import JobEntry, JobState
from appliance.values import CardNumber, Issuer, LabelJob, issuer_from_record, issuer_record
from sync.devicesecret import derive_key, ensure_device_secret

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_jobs (
    job_id      TEXT PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'printed', 'cancelled')),
    issued_on   TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    sealed      BLOB,
    provisional INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK ((state IN ('pending', 'sending')) = (sealed IS NOT NULL))
)
"""
_LIVE = ("pending", "sending")
_PURPOSE = b"mykey-kiosk label jobs"
_AD = b"mykey-kiosk label job 1"  # format version, first part of every row's associated data
_NONCE = 12


class JobStoreError(SyncError):
    """The job store failed (disk full, worn SD card, corrupt file)."""

    key = "error.unexpected"


class JobStore:
    """``LabelJobs`` on SQLite. Thread-safe: the spool's worker and staff screens share it."""

    def __init__(self, path: str | Path, secret_path: str | Path | None = None) -> None:
        """``secret_path``: the device secret (``sync.devicesecret.secret_path``); ``None`` =
        ``device-secret`` beside the database, which is where the config's default puts it.
        Created if missing (a fresh kiosk), never replaced."""
        self.path = Path(path)
        secret = (
            Path(secret_path) if secret_path is not None else self.path.parent / "device-secret"
        )
        ensure_device_secret(secret)
        self._aead = AESGCM(derive_key(secret, _PURPOSE))
        self._reported: set[str] = set()  # unreadable jobs already logged (resume runs often)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute(_SCHEMA)
            self._migrate()
        except sqlite3.Error as exc:
            raise JobStoreError(f"label jobs {self.path}: {exc}") from exc

    def __repr__(self) -> str:
        return f"JobStore({str(self.path)!r})"

    # -- the LabelJobs port ---------------------------------------------------------------------

    def add(self, job: LabelJob) -> None:
        now = _now()
        issuer = _issuer_json(job.number.issuer)
        sealed = self._seal(job.job_id, job.issued_on, issuer, job.provisional, _secret_part(job))
        try:
            self._write(
                "INSERT INTO label_jobs (job_id, state, issued_on, issuer, sealed,"
                " provisional, created_at, updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?)",
                (job.job_id, job.issued_on, issuer, sealed, int(job.provisional), now, now),
            )
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

    def entries(self) -> list[JobEntry]:
        """Every held and uncertain job, oldest first, as staff see it (masked number only);
        a job that does not unseal is listed with its ``problem`` and no number."""
        found = []
        for row in self._rows(_LIVE):
            job_id, state, issued_on, issuer = row[0], JobState(row[5]), row[1], row[2]
            try:
                job = self._unseal(row)
            except LabelJobUnreadable as exc:
                issuer_id = _issuer_id(issuer)
                found.append(JobEntry(job_id, state, issued_on, issuer_id, "", problem=exc))
                continue
            found.append(JobEntry(job_id, state, issued_on, job.number.issuer.issuer_id,
                                  job.number.masked()))  # fmt: skip
        return found

    def unreadable(self) -> list[LabelJobUnreadable]:
        """Held or uncertain jobs that do not unseal on this device: never printed; staff cancel
        them (or the end of the day drops them)."""
        return [e.problem for e in self.entries() if e.problem is not None]

    def card_numbers_stored(self) -> int:
        """How many rows still hold a (sealed) card number (staff diagnostics and the tests)."""
        rows = self._read("SELECT count(*) FROM label_jobs WHERE sealed IS NOT NULL", ())
        return int(rows[0][0])

    def _rows(self, states: tuple[str, ...]) -> list[tuple[Any, ...]]:
        marks = ", ".join("?" for _ in states)
        sql = (
            "SELECT job_id, issued_on, issuer, sealed, provisional, state FROM label_jobs"  # noqa: S608 - marks only
            f" WHERE state IN ({marks}) ORDER BY created_at, rowid"
        )
        return self._read(sql, states)

    def _jobs(self, state: str) -> list[LabelJob]:
        """The jobs in ``state`` that unseal; the others are skipped (logged once each)."""
        jobs = []
        for row in self._rows((state,)):
            try:
                jobs.append(self._unseal(row))
            except LabelJobUnreadable as exc:
                if exc.job_id not in self._reported:
                    self._reported.add(exc.job_id)
                    log.warning("label jobs: %s; not printed", exc)
        return jobs

    def _seal(
        self, job_id: str, issued_on: str, issuer: str, provisional: bool, clear: bytes
    ) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        ad = _associated(job_id, issued_on, issuer, provisional)
        return nonce + self._aead.encrypt(nonce, clear, ad)

    def _unseal(self, row: tuple[Any, ...]) -> LabelJob:
        """The job of one row, or ``LabelJobUnreadable`` (wrong key, moved or edited row, or a
        number its issuer's rules no longer accept)."""
        job_id, issued_on, issuer, sealed, provisional = row[:5]
        try:
            if not isinstance(sealed, bytes) or len(sealed) < _NONCE + 16:
                raise ValueError("not a sealed job")
            ad = _associated(job_id, issued_on, issuer, bool(provisional))
            part = json.loads(self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], ad))
            number = CardNumber(_issuer(issuer), str(part["number"]))
            hours, stop = str(part["valid_hours"]), str(part["stop"])
            return LabelJob(job_id, number, issued_on, bool(provisional), hours, stop)
        except InvalidTag as exc:
            detail = f"label job {job_id} does not unseal here (copied, moved or altered)"
            raise LabelJobUnreadable(job_id, detail) from exc
        except (ValueError, KeyError, TypeError, KioskError) as exc:
            raise LabelJobUnreadable(
                job_id, f"label job {job_id} is damaged ({type(exc).__name__})"
            ) from exc

    def _migrate(self) -> None:
        """Seal the numbers of a file written before sealing, then rename the column."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(label_jobs)")}
        if "card_number" not in columns:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            rows = self._db.execute(
                "SELECT job_id, issued_on, issuer, card_number, provisional FROM label_jobs"
                " WHERE card_number IS NOT NULL"
            ).fetchall()
            for job_id, issued_on, issuer, number, provisional in rows:
                clear = json.dumps({"number": number, "valid_hours": "", "stop": ""}).encode()
                sealed = self._seal(job_id, issued_on, issuer, bool(provisional), clear)
                self._db.execute(
                    "UPDATE label_jobs SET card_number = ? WHERE job_id = ?", (sealed, job_id)
                )
            self._db.execute("ALTER TABLE label_jobs RENAME COLUMN card_number TO sealed")
            self._db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        log.info("label jobs: %d pending number(s) sealed (file from before sealing)", len(rows))

    def _move(self, job_id: str, sources: tuple[str, ...], target: str, wipe: bool = False) -> int:
        marks = ", ".join("?" for _ in sources)
        number = ", sealed = NULL" if wipe else ""
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


def _issuer_id(text: str) -> str:
    try:
        return str(json.loads(text)["issuer_id"])
    except (ValueError, KeyError, TypeError):
        return "?"


def _secret_part(job: LabelJob) -> bytes:
    """What is sealed: the number, and the label text that travels with it."""
    record = {"number": job.number.value, "valid_hours": job.valid_hours, "stop": job.stop}
    return json.dumps(record, ensure_ascii=False).encode()


def _associated(job_id: str, issued_on: str, issuer: str, provisional: bool) -> bytes:
    """The row's clear columns, bound to its sealed number: change or swap any, no decrypt."""
    fields = (job_id, issued_on, issuer, "1" if provisional else "0")
    return _AD + b"".join(b"\x00" + f.encode() for f in fields)

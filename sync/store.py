"""The kiosk's local state: one SQLite file (sqlite-utils), ``synchronous=FULL``, WAL.

It holds the **enrolled terminal** (ID, fingerprint, and the password sealed with a key from the
device secret: :mod:`sync.credentials`) and the **outbox** (``appliance.ports.Outbox``):
non-personal events (counts, faults, issuer IDs) waiting to reach the platform. Each event gets
its idempotency key when it is *recorded*, not when it is sent, so a delivery that timed out after
the platform stored it can be repeated safely: the platform answers the repeat from its
idempotency table.

What callers may put in an event: counts, kinds, issuer and terminal IDs, fault codes. Never a
card number, certificate, PIN or anything about a patron (ARCHITECTURE.md privacy rules); the
store cannot tell a card number from a count, so this rule is the caller's. The names and sizes
the platform accepts are checked here, so a bad event fails where it is made, not at every flush.

Later tables (pending label jobs, bookmobile requests, daily counters) join this file; none
links a card to a library card number in advance.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlite_utils import Database

from appliance.errors import PlatformUnreachable, SyncError, TerminalRejected

log = logging.getLogger(__name__)

_KIND = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_MAX_FIELDS = 32
_MAX_TEXT = 200
KEEP_SENT = dt.timedelta(days=7)  # sent events stay this long, for ``kioskctl`` and support


class StoreError(SyncError):
    """The local database failed (disk full, SD card worn out, file corrupt)."""

    key = "error.unexpected"


class EventSink(Protocol):
    """Where :meth:`LocalStore.flush` delivers: ``sync.client.PlatformClient`` in production."""

    def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None: ...


@dataclass(frozen=True)
class PendingEvent:
    key: str  # the idempotency key, fixed at record time
    kind: str
    fields: dict[str, str | int] = field(default_factory=dict)
    created_at: str = ""  # ISO 8601, UTC


class LocalStore:
    """The kiosk's SQLite file. Thread-safe: the flow's workers and the flusher share it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db = Database(conn)
            self._db.enable_wal()
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.table("outbox").create(
                {"seq": int, "key": str, "kind": str, "fields": str, "created_at": str,
                 "sent_at": str},
                pk="seq",
                not_null={"key", "kind", "fields", "created_at"},
                if_not_exists=True,
            )  # fmt: skip
            self._db.execute("CREATE UNIQUE INDEX IF NOT EXISTS outbox_key ON outbox (key)")
            # One row (id = 1): the enrolled terminal; the password only sealed (sync.credentials).
            self._db.table("terminal").create(
                {"id": int, "terminal_id": str, "fingerprint": str, "sealed": bytes,
                 "enrolled_at": str},
                pk="id",
                not_null={"terminal_id", "fingerprint", "sealed", "enrolled_at"},
                if_not_exists=True,
            )  # fmt: skip
        except sqlite3.Error as exc:
            raise StoreError(f"local store {self.path}: {exc}") from exc

    # -- the Outbox port -----------------------------------------------------------------------

    def record(self, kind: str, **fields: str | int) -> None:
        """Queue a non-personal event with a fresh idempotency key. Raises ValueError on a
        kind, field name or value the platform would refuse (a programming error)."""
        _check(kind, fields)
        row = {
            "key": uuid.uuid4().hex,
            "kind": kind,
            "fields": json.dumps(fields, sort_keys=True, ensure_ascii=False),
            "created_at": _now().isoformat(timespec="seconds"),
            "sent_at": None,
        }
        with self._lock:
            try:
                self._db.table("outbox").insert(row)
            except sqlite3.Error as exc:
                raise StoreError(f"outbox: cannot record {kind}: {exc}") from exc

    # -- delivery ------------------------------------------------------------------------------

    def pending(self) -> list[PendingEvent]:
        """Events not yet accepted by the platform, oldest first."""
        with self._lock:
            try:
                rows = list(self._db.table("outbox").rows_where("sent_at IS NULL", order_by="seq"))
            except sqlite3.Error as exc:
                raise StoreError(f"outbox: cannot read: {exc}") from exc
        return [
            PendingEvent(r["key"], r["kind"], json.loads(r["fields"]), r["created_at"])
            for r in rows
        ]

    def pending_count(self) -> int:
        """How many events wait (the status line's number; cheap, no rows read)."""
        with self._lock:
            try:
                return int(
                    self._db.execute(
                        "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
                    ).fetchone()[0]
                )
            except sqlite3.Error as exc:
                raise StoreError(f"outbox: cannot count: {exc}") from exc

    def flush(self, sink: EventSink) -> int:
        """Send pending events in order, each with its own key; return how many were accepted.

        Stops at the first ``PlatformUnreachable`` or ``TerminalRejected`` (the rest would fail
        the same way); an event the platform refuses for another reason stays pending and the
        flush goes on with the next one. Nothing is lost: an unsent event stays pending.
        """
        sent = 0
        for event in self.pending():
            try:
                sink.send_event(event.key, event.kind, event.fields)
            except (PlatformUnreachable, TerminalRejected) as exc:
                log.warning("outbox: flush stopped after %d sent: %s", sent, exc.key)
                break
            except SyncError as exc:
                log.warning("outbox: event %s (%s) refused: %s", event.key, event.kind, exc)
                continue
            self._mark_sent(event.key)
            sent += 1
        if sent:
            log.info("outbox: %d event(s) sent", sent)
        return sent

    def _mark_sent(self, key: str) -> None:
        now = _now()
        with self._lock:
            try:
                with self._db.atomic():
                    self._db.execute(
                        "UPDATE outbox SET sent_at = ? WHERE key = ?",
                        [now.isoformat(timespec="seconds"), key],
                    )
                    self._db.execute(
                        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
                        [(now - KEEP_SENT).isoformat(timespec="seconds")],
                    )
            except sqlite3.Error as exc:
                raise StoreError(f"outbox: cannot mark {key} sent: {exc}") from exc

    # -- the enrolled terminal (sealed by sync.credentials; this only stores bytes) -------------

    def terminal_row(self) -> dict[str, object] | None:
        """The enrolled terminal's row, or None before the first enrolment."""
        with self._lock:
            try:
                rows = list(self._db.table("terminal").rows_where("id = 1"))
            except sqlite3.Error as exc:
                raise StoreError(f"terminal: cannot read: {exc}") from exc
        return rows[0] if rows else None

    def put_terminal(self, terminal_id: str, fingerprint: str, sealed: bytes) -> None:
        """Replace the enrolled terminal in one transaction (never two half-identities)."""
        row = {"id": 1, "terminal_id": terminal_id, "fingerprint": fingerprint,
               "sealed": sealed, "enrolled_at": _now().isoformat(timespec="seconds")}  # fmt: skip
        with self._lock:
            try:
                self._db.table("terminal").upsert(row, pk="id")
            except sqlite3.Error as exc:
                raise StoreError(f"terminal: cannot store: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _check(kind: str, fields: Mapping[str, object]) -> None:
    problems: list[str] = []
    if not _KIND.match(kind):
        problems.append(f"kind {kind!r}: lower-case letters, digits, '_' and '.' only")
    if len(fields) > _MAX_FIELDS:
        problems.append(f"{len(fields)} fields: at most {_MAX_FIELDS}")
    for name, value in fields.items():
        if not _FIELD.match(name):
            problems.append(f"field {name!r}: lower-case letters, digits and '_' only")
        if isinstance(value, bool) or not isinstance(value, str | int):
            problems.append(f"field {name!r}: must be str or int")
        elif isinstance(value, str) and len(value) > _MAX_TEXT:
            problems.append(f"field {name!r}: longer than {_MAX_TEXT} characters")
    if problems:
        raise ValueError("; ".join(problems))

"""The bookmobile's local state: cached trust material and the encrypted assertion outbox.

One SQLite file of its own (``offline.sqlite``), ``synchronous=FULL`` and ``secure_delete``, so
that a deleted assertion's pages are overwritten rather than left in free space. Every assertion
and every answer is AES-256-GCM encrypted with a key derived from the device secret
(:mod:`sync.device_secret`), the row's idempotency key as associated data (a blob cannot be moved
to another row). What stays in clear per row: that key, the day, a state, a refusal code, and an
HMAC of the token (so a token is never drawn twice without decrypting every row). No card number,
certificate or token is ever in clear, and the mapping token -> card number exists only inside
encrypted answers, until the export is confirmed or ``keep_days`` pass.

Resolution is safe against a kill at any instant: each row keeps the idempotency key it got when
it was stored, the platform answers a redelivery of the same assertion with the same key again,
and a row changes from ``pending`` to ``resolved`` in one statement. So a crash loses nothing and
resolves nothing twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.errors import (
    AssertionRefused,
    KioskError,
    MalformedReply,
    PlatformUnreachable,
    SyncError,
    TerminalRejected,
)
from appliance.offline import Assertion
from appliance.values import LookupMatch, issuer_from_record, issuer_record
from sync import _wire
from sync.cards import b64, proof_fields
from sync.client import PlatformClient
from sync.devicesecret import derive_key
from sync.offline_trust import TrustMaterial

log = logging.getLogger(__name__)

DEFAULT_KEEP = dt.timedelta(days=14)
# Refusals that no retry can change. Anything else (a 400 from a bug, a 5xx) leaves the
# assertion pending: marking it refused would lose the patron's loans for good.
_FINAL_REFUSALS = frozenset(
    {"card.rejected", "assertion.window", "assertion.terminal", "assertion.replayed"}
)
_AEAD_NONCE = 12


class State(Enum):
    PENDING = "pending"  # waiting for the network
    RESOLVED = "resolved"  # the platform named the card number (encrypted in ``answer``)
    UNLINKED = "unlinked"  # genuine card, but no library card here: staff follow up
    REFUSED = "refused"  # the platform refused it (``refusal`` says why)


class OfflineStoreError(SyncError):
    key = "error.unexpected"


@dataclass(frozen=True)
class Mapping:
    """One resolved token. Exists only in memory, for the export; nothing shows in ``repr``."""

    token: str = field(repr=False)
    card_number: str = field(repr=False)
    issuer_id: str
    signed_at: dt.datetime
    stop: str = ""


@dataclass(frozen=True)
class ResolveReport:
    resolved: int = 0
    unlinked: int = 0
    refused: int = 0
    pending: int = 0  # still waiting (the platform went away again, or a transient fault)


class OfflineApi:
    """The two bookmobile routes over the kiosk's :class:`PlatformClient` (session, errors)."""

    def __init__(self, client: PlatformClient) -> None:
        self._client = client

    def trust(self) -> TrustMaterial:
        session = self._client.session
        body = session.expect(session.authed("GET", "/v1/offline/trust"), 200)
        try:
            cas = tuple(pem.encode("ascii") for pem in _wire.field(body, "cas", list))
            crls = tuple(
                base64.b64decode(_wire.field(crl, "der", str), validate=True)
                for crl in _wire.field(body, "crls", list)
            )
            window = dt.timedelta(seconds=_wire.field(body, "window_s", int))
        except (AttributeError, TypeError, ValueError) as exc:
            raise MalformedReply(f"offline trust: {type(exc).__name__}") from exc
        return TrustMaterial(
            cas, crls, dt.datetime.now(dt.UTC), tuple(self._client.issuers()), window
        )

    def send(self, key: str, assertion: Assertion) -> list[LookupMatch]:
        session = self._client.session
        response = session.authed(
            "POST",
            "/v1/offline/assertions",
            json=proof_fields(assertion),
            headers={"Idempotency-Key": key},
        )
        code = _wire.error_code(response)
        if code in _FINAL_REFUSALS:
            raise AssertionRefused(f"offline assertion refused: {code}", code=code)
        body = session.expect(response, 200)
        return [_wire.match(obj) for obj in _wire.field(body, "matches", list)]


class OfflineStore:
    """``offline.sqlite``: the trust cache and the assertion outbox. Thread-safe."""

    def __init__(
        self, path: str | Path, secret_path: str | Path, *, keep: dt.timedelta = DEFAULT_KEEP
    ) -> None:
        self.path = Path(path)
        self.keep = keep
        key = derive_key(Path(secret_path), b"mykey-kiosk offline outbox")
        self._aead = AESGCM(key)
        self._mac_key = hashlib.sha256(b"token mac" + key).digest()
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None
            )
            for pragma in ("journal_mode = DELETE", "synchronous = FULL", "secure_delete = ON"):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS trust (id INTEGER PRIMARY KEY CHECK (id = 1),"
                " material TEXT NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS assertions ("
                " key TEXT PRIMARY KEY, token_mac TEXT NOT NULL UNIQUE, day TEXT NOT NULL,"
                " created_at TEXT NOT NULL, state TEXT NOT NULL, blob BLOB NOT NULL,"
                " answer BLOB, refusal TEXT, resolved_at TEXT)"
            )
        except sqlite3.Error as exc:
            raise OfflineStoreError(f"offline store {self.path}: {exc}") from exc

    def __repr__(self) -> str:
        return f"OfflineStore({str(self.path)!r})"

    # -- trust cache --------------------------------------------------------------------------

    def save_trust(self, material: TrustMaterial) -> None:
        record = {
            "cas": [pem.decode("ascii") for pem in material.cas],
            "crls": [b64(der) for der in material.crls],
            "fetched_at": material.fetched_at.isoformat(),
            "issuers": [issuer_record(i) for i in material.issuers],
            "window_s": int(material.window.total_seconds()),
        }
        self._run("INSERT OR REPLACE INTO trust (id, material) VALUES (1, ?)", json.dumps(record))

    def trust(self) -> TrustMaterial | None:
        rows = self._query("SELECT material FROM trust WHERE id = 1")
        if not rows:
            return None
        record = json.loads(rows[0][0])
        return TrustMaterial(
            tuple(pem.encode("ascii") for pem in record["cas"]),
            tuple(base64.b64decode(der) for der in record["crls"]),
            dt.datetime.fromisoformat(record["fetched_at"]),
            tuple(issuer_from_record(obj) for obj in record["issuers"]),
            dt.timedelta(seconds=record["window_s"]),
        )

    # -- the AssertionOutbox port -------------------------------------------------------------

    def add(self, assertion: Assertion) -> bool:
        key = uuid.uuid4().hex
        record = {
            **proof_fields(assertion),
            "token": assertion.token,
            "issuer_id": assertion.issuer_id,
            "signed_at": assertion.signed_at.isoformat(),
            "stop": assertion.stop,
        }
        try:
            self._run(
                "INSERT INTO assertions (key, token_mac, day, created_at, state, blob)"
                " VALUES (?, ?, ?, ?, 'pending', ?)",
                key,
                self._token_mac(assertion.issuer_id, assertion.token),
                assertion.day.isoformat(),
                _now().isoformat(timespec="seconds"),
                self._seal(key, b"assertion", json.dumps(record).encode()),
            )
        except sqlite3.IntegrityError:
            return False  # that token is already out there: draw another
        log.info("offline assertion %s stored", key[:8])
        return True

    # -- what staff see -----------------------------------------------------------------------

    def counts(self) -> dict[State, int]:
        found = {state: 0 for state in State}
        for state, n in self._query("SELECT state, count(*) FROM assertions GROUP BY state"):
            found[State(state)] = n
        return found

    def pending(self) -> list[tuple[str, Assertion]]:
        rows = self._query(
            "SELECT key, blob FROM assertions WHERE state = 'pending' ORDER BY rowid"
        )
        return [
            (key, _assertion(json.loads(self._open(key, b"assertion", blob)))) for key, blob in rows
        ]

    def mappings(self) -> list[Mapping]:
        """Every resolved token with its card number, in signing order."""
        found = []
        for key, blob, answer in self._query(
            "SELECT key, blob, answer FROM assertions WHERE state = 'resolved' ORDER BY rowid"
        ):
            a = _assertion(json.loads(self._open(key, b"assertion", blob)))
            card = json.loads(self._open(key, b"answer", answer))["card_number"]
            found.append(Mapping(a.token, card, a.issuer_id, a.signed_at, a.stop))
        return found

    # -- back online --------------------------------------------------------------------------

    def resolve(self, api: OfflineApi) -> ResolveReport:
        """Send every pending assertion; stop at the first sign that the platform is away."""
        done = {State.RESOLVED: 0, State.UNLINKED: 0, State.REFUSED: 0}
        for key, assertion in self.pending():
            try:
                matches = api.send(key, assertion)
            except (PlatformUnreachable, TerminalRejected) as exc:
                log.warning("offline resolution stopped: %s", exc.key)
                break
            except AssertionRefused as exc:
                self._settle(key, State.REFUSED, refusal=exc.code)
                done[State.REFUSED] += 1
                continue
            except KioskError as exc:  # a malformed answer: keep it pending, try the next
                log.warning("offline assertion %s not resolved: %s", key[:8], type(exc).__name__)
                continue
            mine = [m for m in matches if m.number.issuer.issuer_id == assertion.issuer_id]
            if mine:
                answer = json.dumps({"card_number": mine[0].number.value}).encode()
                self._settle(key, State.RESOLVED, answer=self._seal(key, b"answer", answer))
                done[State.RESOLVED] += 1
            else:
                self._settle(key, State.UNLINKED)
                done[State.UNLINKED] += 1
        report = ResolveReport(
            done[State.RESOLVED],
            done[State.UNLINKED],
            done[State.REFUSED],
            self.counts()[State.PENDING],
        )
        log.info(
            "offline resolution: %d resolved, %d unlinked, %d refused, %d pending",
            report.resolved,
            report.unlinked,
            report.refused,
            report.pending,
        )
        return report

    # -- forgetting ---------------------------------------------------------------------------

    def confirm_export(self) -> int:
        """The library system took the export: delete every settled assertion and answer."""
        return self._delete("DELETE FROM assertions WHERE state != 'pending'")

    def purge(self, now: dt.datetime | None = None) -> int:
        """Delete whatever is older than ``keep``, settled or not (the hard limit)."""
        cutoff = ((now or _now()) - self.keep).isoformat(timespec="seconds")
        return self._delete("DELETE FROM assertions WHERE created_at < ?", cutoff)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _settle(
        self, key: str, state: State, *, answer: bytes | None = None, refusal: str | None = None
    ) -> None:
        self._run(
            "UPDATE assertions SET state = ?, answer = ?, refusal = ?, resolved_at = ?"
            " WHERE key = ? AND state = 'pending'",
            state.value,
            answer,
            refusal,
            _now().isoformat(timespec="seconds"),
            key,
        )

    def _delete(self, sql: str, *params: Any) -> int:
        with self._lock:
            try:
                deleted = self._db.execute(sql, params).rowcount
                self._db.execute("VACUUM")  # no free page keeps an old blob either
            except sqlite3.Error as exc:
                raise OfflineStoreError(f"offline store: cannot delete: {exc}") from exc
        if deleted:
            log.info("offline store: %d assertion(s) deleted", deleted)
        return int(deleted)

    def _run(self, sql: str, *params: Any) -> None:
        with self._lock:
            try:
                self._db.execute(sql, params)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise OfflineStoreError(f"offline store: {exc}") from exc

    def _query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params))
            except sqlite3.Error as exc:
                raise OfflineStoreError(f"offline store: {exc}") from exc

    def _token_mac(self, issuer_id: str, token: str) -> str:
        return hmac.new(self._mac_key, f"{issuer_id}:{token}".encode(), "sha256").hexdigest()

    def _seal(self, key: str, what: bytes, clear: bytes) -> bytes:
        nonce = secrets.token_bytes(_AEAD_NONCE)
        return nonce + self._aead.encrypt(nonce, clear, key.encode() + b":" + what)

    def _open(self, key: str, what: bytes, blob: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                blob[:_AEAD_NONCE], blob[_AEAD_NONCE:], key.encode() + b":" + what
            )
        except InvalidTag as exc:
            raise OfflineStoreError(
                "offline store cannot be decrypted (other device secret?)"
            ) from exc


def _assertion(record: dict[str, Any]) -> Assertion:
    return Assertion(
        base64.b64decode(record["certificate"]),
        base64.b64decode(record["nonce"]),
        base64.b64decode(record["signature"]),
        record["token"],
        record["issuer_id"],
        dt.datetime.fromisoformat(record["signed_at"]),
        record.get("stop", ""),
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

"""The platform's database: numbered migrations, connection settings, password hashes.

SQLite by default (below); PostgreSQL when ``db_path`` is a ``postgresql://`` URL: then
:func:`connect` gives a :class:`server.pg.PgConnection` and :func:`migrate` applies
:data:`server.pg_schema.MIGRATIONS`, numbered like these (see :mod:`server.dbapi`).

One file, WAL, and ``synchronous=FULL`` for everything that must survive a power cut before the
terminal hears of it: registrations, service IDs, events. Challenges and lookups write only
short-lived bookkeeping (a nonce valid for 120 s, whether it was spent, the day's counter) and
commit with ``synchronous=NORMAL`` (:data:`EPHEMERAL`): durable across a crash of the server,
not of the machine, and no fsync per lookup (~8 ms on the test VM's disk). What a power cut can
lose there: the spent mark of a nonce younger than 120 s and a few counts (a certificate
renewal done at a lookup is lost together with the successor record's removal, so it is simply
redone at the next use).

The server keeps a small :class:`Pool` of open connections, one request at a time on each;
commands open their own. (Opening and closing a connection per request cost ~10 ms: closing
the last connection of a WAL database checkpoints it.)

Migrations are a numbered tuple; ``schema_version`` holds how many have been applied. Each one
runs in its own ``BEGIN IMMEDIATE`` transaction that re-reads the version first, so two processes
starting on the same file at once cannot apply one twice. Append new migrations; never edit an
applied one.

What the schema deliberately lacks: any table that records *who* looked up *what*. A lookup
leaves one increment in ``daily_counts`` (day, terminal, kind) and nothing that names the card,
the certificate or the library card number (the review's point 2: no record of library use
outside the library).
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.dbapi import Connection, is_postgres

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the initial schema.
    (
        """
        CREATE TABLE issuers (
            issuer_id     TEXT PRIMARY KEY
                          CHECK (issuer_id GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'),
            name          TEXT NOT NULL,
            symbology     TEXT NOT NULL CHECK (symbology IN ('codabar', 'code39', 'code128')),
            codabar_start TEXT NOT NULL DEFAULT 'A',
            codabar_stop  TEXT NOT NULL DEFAULT 'A',
            check_scheme  TEXT NOT NULL CHECK (check_scheme IN ('none', 'mod10w21', '7dr', '7dsr')),
            lengths       TEXT NOT NULL DEFAULT '',  -- allowed lengths, comma-separated
            handover      TEXT NOT NULL CHECK (handover IN ('A', 'B', 'C', 'D')),
            pin_required  INTEGER NOT NULL CHECK (pin_required IN (0, 1))
        ) STRICT
        """,
        """
        CREATE TABLE terminals (
            terminal_id   TEXT PRIMARY KEY CHECK (
                              length(terminal_id) = 8 AND terminal_id NOT GLOB '*[^0-9]*'),
            password_hash TEXT NOT NULL,
            kind          TEXT NOT NULL CHECK (kind IN ('ア', 'イ', 'ウ', 'エ')),
            issuer_id     TEXT REFERENCES issuers (issuer_id),
            place         TEXT NOT NULL,
            name          TEXT NOT NULL,
            fingerprint   TEXT  -- SHA-256 hex of the board, bound at first login
        ) STRICT
        """,
        """
        CREATE TABLE citizens (
            mykey_id    TEXT PRIMARY KEY
                        CHECK (length(mykey_id) = 8 AND mykey_id NOT GLOB '*[^A-Z0-9]*'),
            cert_issuer TEXT NOT NULL,  -- RFC 4514 issuer name: serials are unique per CA only
            cert_serial TEXT NOT NULL,  -- upper-case hex, even length (the seed's 030D45)
            UNIQUE (cert_issuer, cert_serial)
        ) STRICT
        """,
        """
        CREATE TABLE service_ids (
            mykey_id        TEXT NOT NULL REFERENCES citizens (mykey_id) ON UPDATE CASCADE,
            issuer_id       TEXT NOT NULL REFERENCES issuers (issuer_id),
            card_number     TEXT NOT NULL,
            address_notice  INTEGER NOT NULL DEFAULT 0,  -- the citizen opted in to notices
            address_changed INTEGER NOT NULL DEFAULT 0,  -- set by the address-change batch
            card_valid      INTEGER NOT NULL DEFAULT 1,
            PRIMARY KEY (mykey_id, issuer_id)
        ) STRICT
        """,
        """
        CREATE TABLE ca_certificates (
            ca_id   INTEGER PRIMARY KEY,
            subject TEXT NOT NULL,
            pem     TEXT NOT NULL UNIQUE
        ) STRICT
        """,
        """
        CREATE TABLE nonces (
            nonce       BLOB PRIMARY KEY,
            terminal_id TEXT NOT NULL REFERENCES terminals (terminal_id),
            purpose     TEXT NOT NULL,
            expires_at  REAL NOT NULL,  -- Unix time, seconds
            used        INTEGER NOT NULL DEFAULT 0
        ) STRICT
        """,
        """
        CREATE TABLE sessions (
            token_hash  TEXT PRIMARY KEY,  -- SHA-256 hex of the bearer token, never the token
            terminal_id TEXT NOT NULL REFERENCES terminals (terminal_id),
            expires_at  REAL NOT NULL
        ) STRICT
        """,
        """
        CREATE TABLE idempotency (
            terminal_id TEXT NOT NULL REFERENCES terminals (terminal_id),
            key         TEXT NOT NULL,
            body_hash   TEXT NOT NULL,
            status      INTEGER NOT NULL,
            response    TEXT NOT NULL,  -- the JSON answer, replayed verbatim
            created_at  REAL NOT NULL,
            PRIMARY KEY (terminal_id, key)
        ) STRICT
        """,
        """
        CREATE TABLE events (
            event_id    INTEGER PRIMARY KEY,
            terminal_id TEXT NOT NULL REFERENCES terminals (terminal_id),
            kind        TEXT NOT NULL,
            fields      TEXT NOT NULL,  -- JSON object of non-personal values
            received_at REAL NOT NULL
        ) STRICT
        """,
        """
        CREATE TABLE daily_counts (
            day         TEXT NOT NULL,  -- ISO date of the Japanese day (JST)
            terminal_id TEXT NOT NULL,
            kind        TEXT NOT NULL,
            count       INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, terminal_id, kind)
        ) STRICT
        """,
    ),
    # 2: the ministry's list (form II), terminal registration (form 10), certificate renewal,
    # revocation lists, and one library card number per issuer for one citizen only.
    (
        "ALTER TABLE terminals ADD COLUMN row_no INTEGER",  # 項番 of form II
        "ALTER TABLE terminals ADD COLUMN issuer_name TEXT",  # as form II names it
        "ALTER TABLE terminals ADD COLUMN deleted_at REAL",  # form II's deletion flag
        "ALTER TABLE terminals ADD COLUMN contact TEXT",  # form 10, JSON object
        "ALTER TABLE terminals ADD COLUMN registered_at REAL",
        "ALTER TABLE terminals ADD COLUMN contact_confirmed_at REAL",
        "CREATE UNIQUE INDEX service_ids_card ON service_ids (issuer_id, card_number)",
        "CREATE INDEX idempotency_age ON idempotency (created_at)",  # the daily purge
        """
        CREATE TABLE cert_successors (
            cert_issuer TEXT NOT NULL,
            new_serial  TEXT NOT NULL,  -- the re-issued card's certificate
            old_serial  TEXT NOT NULL,  -- the certificate it replaces
            PRIMARY KEY (cert_issuer, new_serial)
        ) STRICT
        """,
        """
        CREATE TABLE crls (
            ca_subject  TEXT PRIMARY KEY,  -- RFC 4514 name of the CA that signed it
            der         BLOB NOT NULL,
            next_update REAL NOT NULL,  -- Unix time; a lookup after it is refused (fail closed)
            loaded_at   REAL NOT NULL
        ) STRICT
        """,
    ),
    # 3: bookmobile (offline) lending, server/offline.py. The lists' own issue time (kiosks show
    # how fresh theirs is), every revocation ever listed with its time (an offline signature is
    # judged at signing time), and the offline assertions already accepted, by a hash of their
    # nonce only: enough to refuse a replay, nothing that names the card or the card number.
    (
        "ALTER TABLE crls ADD COLUMN this_update REAL NOT NULL DEFAULT 0",  # Unix time, seconds
        """
        CREATE TABLE revocations (
            issuer     TEXT NOT NULL,
            serial     TEXT NOT NULL,  -- upper-case hex, even length, as citizens.cert_serial
            revoked_at REAL NOT NULL,  -- Unix time: signatures made before it still hold
            PRIMARY KEY (issuer, serial)
        ) STRICT
        """,
        """
        CREATE TABLE offline_seen (
            nonce_hash  TEXT PRIMARY KEY,  -- SHA-256 hex of the assertion's nonce
            terminal_id TEXT NOT NULL REFERENCES terminals (terminal_id),
            idem_key    TEXT NOT NULL,  -- a redelivery with this key is answered again
            body_hash   TEXT NOT NULL,
            signed_at   REAL NOT NULL,
            received_at REAL NOT NULL
        ) STRICT
        """,
    ),
    # 4: issue 4's card-number rules per issuer: modulus 11 and 16 check schemes, the characters
    # a card number may use ('' = any the symbology encodes) and how the label shows the number.
    # SQLite cannot change a CHECK in place: the table is rebuilt by the 12 steps of
    # https://www.sqlite.org/lang_altertable.html (foreign keys off around it, see REBUILDS;
    # terminals and service_ids reference issuers by name, so they follow the new table).
    (
        """
        CREATE TABLE issuers_new (
            issuer_id      TEXT PRIMARY KEY
                           CHECK (issuer_id GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'),
            name           TEXT NOT NULL,
            symbology      TEXT NOT NULL CHECK (symbology IN ('codabar', 'code39', 'code128')),
            codabar_start  TEXT NOT NULL DEFAULT 'A',
            codabar_stop   TEXT NOT NULL DEFAULT 'A',
            check_scheme   TEXT NOT NULL CHECK (check_scheme IN
                               ('none', 'mod10w21', '7dr', '7dsr', 'mod11', 'mod16')),
            lengths        TEXT NOT NULL DEFAULT '',  -- allowed lengths, comma-separated
            handover       TEXT NOT NULL CHECK (handover IN ('A', 'B', 'C', 'D')),
            pin_required   INTEGER NOT NULL CHECK (pin_required IN (0, 1)),
            alphabet       TEXT NOT NULL DEFAULT '',
            number_display TEXT NOT NULL DEFAULT 'masked'
                           CHECK (number_display IN ('full', 'masked', 'hidden'))
        ) STRICT
        """,
        "INSERT INTO issuers_new (issuer_id, name, symbology, codabar_start, codabar_stop,"
        " check_scheme, lengths, handover, pin_required) SELECT issuer_id, name, symbology,"
        " codabar_start, codabar_stop, check_scheme, lengths, handover, pin_required FROM issuers",
        "DROP TABLE issuers",
        "ALTER TABLE issuers_new RENAME TO issuers",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
# Migrations that rebuild a table: run with foreign keys off (a DROP would otherwise check or
# cascade into the tables that reference it), and checked with foreign_key_check before commit.
REBUILDS = frozenset({4})


DURABLE, EPHEMERAL = "FULL", "NORMAL"


def connect(db_path: str | Path, synchronous: str = DURABLE) -> Connection:
    """Open ``db_path`` in autocommit mode (explicit ``BEGIN`` where a write spans statements).

    The caller closes the connection; ``with conn:`` does not. ``check_same_thread`` is off
    because FastAPI may open a request's connection on one worker thread and run the route on
    another; a connection still serves one request at a time.
    """
    if synchronous not in (DURABLE, EPHEMERAL):
        raise ValueError(f"synchronous={synchronous}")
    if is_postgres(db_path):
        from server.pg import PgConnection  # psycopg only where PostgreSQL is used

        return PgConnection(str(db_path), synchronous_commit=synchronous == DURABLE)
    conn = sqlite3.connect(db_path, isolation_level=None, timeout=10.0, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


class Pool:
    """Open connections for the server's requests: taken by one request, then given back.

    A connection comes back without an open transaction (a request that failed half-way is
    rolled back here). At most ``keep`` idle connections are kept; the rest are closed.
    """

    def __init__(self, db_path: str | Path, keep: int = 8, synchronous: str = DURABLE) -> None:
        self._db_path = db_path
        self._synchronous = synchronous
        self._keep = keep
        self._idle: queue.SimpleQueue[Connection] = queue.SimpleQueue()

    def acquire(self) -> Connection:
        conn = self.acquire_idle()
        return connect(self._db_path, self._synchronous) if conn is None else conn

    def acquire_idle(self) -> Connection | None:
        """An idle connection, or None when a new one must be opened; never does IO, so the
        event loop may call it (see :func:`server.api.db`)."""
        while True:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                return None
            if not getattr(conn, "broken", False):  # a PostgreSQL server restarted meanwhile
                return conn
            conn.close()  # its socket is gone: closing does not wait on the server

    def release(self, conn: Connection) -> None:
        if self.release_idle(conn):
            return
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            conn.close()
            return
        if self._idle.qsize() >= self._keep:
            conn.close()
        else:
            self._idle.put(conn)

    def close(self) -> None:
        """Close the idle connections (those in use are closed when given back after this)."""
        self._keep = 0
        while (conn := self.acquire_idle()) is not None:
            conn.close()

    def release_idle(self, conn: Connection) -> bool:
        """Give ``conn`` back if that needs no IO (no open transaction, room in the pool);
        False leaves it to :meth:`release`, off the event loop."""
        if conn.in_transaction or self._idle.qsize() >= self._keep:
            return False
        self._idle.put(conn)
        return True


@contextmanager
def operator_connection(db_path: str | Path) -> Iterator[Connection]:
    """A durable connection on a migrated database, closed after: what each operator command
    (``mykey-platform import-terminals``, ``add-crl``, ``mykey`` ...) works on."""
    migrate(db_path)
    conn = connect(db_path)
    try:
        yield conn
    finally:
        conn.close()


def migrate(db_path: str | Path) -> int:
    """Create or upgrade the schema; return the version now in force."""
    conn = connect(db_path)
    postgres = is_postgres(db_path)
    try:
        if postgres:
            from server import pg, pg_schema

            # held until close: a second process waits here instead of racing the CREATE
            conn.execute(f"SELECT pg_advisory_lock({pg.MIGRATION_LOCK})").fetchone()
            migrations = pg_schema.MIGRATIONS
        else:
            conn.execute("PRAGMA journal_mode = WAL")  # persistent: set once, on the file
            migrations = MIGRATIONS
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        for number, statements in enumerate(migrations, start=1):
            rebuild = number in REBUILDS and not postgres
            if rebuild:  # a no-op inside a transaction, so before BEGIN (step 1)
                conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("BEGIN IMMEDIATE")
            try:
                if _version(conn) < number:
                    for statement in statements:
                        conn.execute(statement)
                    if rebuild and conn.execute("PRAGMA foreign_key_check").fetchall():
                        raise RuntimeError(f"migration {number} broke a foreign key")
                    conn.execute("DELETE FROM schema_version")
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                if rebuild:
                    conn.execute("PRAGMA foreign_keys = ON")
        return _version(conn)
    finally:
        conn.close()


def _version(conn: Connection) -> int:
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


# scrypt at n=2**14, r=8: about 16 MiB and tens of milliseconds per check, once per login.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (hex), with a fresh 16-byte salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` string."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(hash_hex) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), hash_hex)


# Checked when the terminal ID is unknown, so that the answer takes as long as a wrong password.
DUMMY_HASH = hash_password("not a password", salt=b"\0" * 16)

"""PostgreSQL for the platform: a psycopg 3 connection that speaks the server's interface.

The server's SQL is written once, in the dialect both databases share (``INSERT ... ON CONFLICT``,
``coalesce``, ``count``, ``max``), with ``?`` parameters; :class:`PgConnection` bridges the
rest (:mod:`server.dbapi` lists what the server relies on):

- ``?`` becomes ``%s`` (and a literal ``%`` becomes ``%%``) outside quoted strings;
- rows read by index and by column name (:class:`PgRow`), as ``sqlite3.Row``;
- ``BEGIN IMMEDIATE`` (SQLite: take the write lock now) becomes ``BEGIN`` plus a transaction
  advisory lock shared by every writer, so write transactions run one at a time across all
  platform processes, exactly as on SQLite; the read-modify-write steps of the routes
  (idempotency keys, single-use nonces, MyKey ID draws) rely on that;
- ``synchronous`` maps to ``synchronous_commit``: ``FULL`` = ``on``, ``NORMAL`` = ``off`` (a
  crash of the database server may lose the last few commits, never corrupts), the same trade
  :mod:`server.db` makes for challenges and lookups on SQLite;
- psycopg's errors become ``sqlite3``'s DB-API classes (``IntegrityError`` for a broken
  constraint, ``OperationalError`` otherwise), so ``except sqlite3.IntegrityError`` holds;
- the few SQLite-only functions in queries are rewritten (:data:`_REWRITES`).

The schema is :data:`server.pg_schema.MIGRATIONS`, numbered like SQLite's. Why psycopg 3: the
maintained PostgreSQL driver for Python, with binary wheels (``psycopg[binary]``: no libpq
build on the kiosk's CI) and server-side parameter binding.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

# pg_advisory_xact_lock keys: every write transaction; the migration runner (session lock).
WRITE_LOCK = 0x6D796B6579  # "mykey"
MIGRATION_LOCK = WRITE_LOCK + 1
# SQLite functions the server's queries use, and their PostgreSQL spelling (exact text).
_REWRITES = {"group_concat(ca_id)": "string_agg(ca_id::text, ',' ORDER BY ca_id)"}


class PgRow(tuple[Any, ...]):
    """A row: ``row[0]`` and ``row["name"]``, ``keys()`` and ``dict(row)``, as ``sqlite3.Row``."""

    _names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: Any) -> Callable[[Sequence[Any]], PgRow]:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row._names = names
        return row

    return make


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """``sql`` with ``?`` parameters as psycopg's ``%s`` (quoted text left alone)."""
    sql = _rewrite(sql)
    out, quoted = [], False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "%":
            out.append("%%")
        elif ch == "?" and not quoted:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


class PgConnection:
    """One psycopg connection in autocommit mode, used like ``sqlite3.Connection``."""

    def __init__(self, url: str, *, synchronous_commit: bool = True) -> None:
        try:
            self._conn = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
        except psycopg.Error as exc:
            raise sqlite3.OperationalError(f"cannot connect to PostgreSQL: {exc}") from exc
        self._conn.execute(f"SET synchronous_commit = {'on' if synchronous_commit else 'off'}")

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        statement = sql.strip().upper()
        if statement.startswith("PRAGMA"):
            raise sqlite3.OperationalError("PRAGMA is SQLite's; PostgreSQL has settings")
        try:
            if statement == "BEGIN IMMEDIATE":  # one round trip: no parameters, so psycopg
                # sends both statements in one simple query
                return self._conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            if not parameters:  # psycopg leaves a query without parameters as it is
                return self._conn.execute(_rewrite(sql))
            return self._conn.execute(translate(sql), tuple(parameters))
        except psycopg.errors.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc)) from exc
        except psycopg.Error as exc:
            raise sqlite3.OperationalError(str(exc)) from exc

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        cursor = self._conn.cursor()
        try:
            cursor.executemany(translate(sql), [tuple(p) for p in parameters])
        except psycopg.errors.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc)) from exc
        except psycopg.Error as exc:
            raise sqlite3.OperationalError(str(exc)) from exc
        return cursor

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != TransactionStatus.IDLE

    @property
    def broken(self) -> bool:
        """The server went away (restart, network): this connection is of no further use."""
        return self._conn.broken or self._conn.closed

    def close(self) -> None:
        self._conn.close()


def _rewrite(sql: str) -> str:
    for sqlite_text, pg_text in _REWRITES.items():
        sql = sql.replace(sqlite_text, pg_text)
    return sql

"""What the server needs of a database connection, whichever database it is.

The server is written against the part of Python's ``sqlite3`` interface listed here: ``?``
parameters, rows readable by index and by column name, ``in_transaction``, explicit ``BEGIN
IMMEDIATE`` / ``COMMIT`` / ``ROLLBACK`` in autocommit mode, and ``sqlite3``'s DB-API exception
classes (``sqlite3.IntegrityError`` for a broken constraint). A SQLite connection *is* such a
connection, with no wrapper on the lookup path; :mod:`server.pg` makes a PostgreSQL connection
(psycopg 3) behave the same way. ``--db`` picks one: a file path or ``sqlite:///path`` for
SQLite, a ``postgresql://`` (or ``postgres://``) URL for PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    """True when ``target`` names a PostgreSQL database (a URL), not a SQLite file."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class Row(Protocol):
    """A result row: ``row[0]`` and ``row["column"]`` both work (``sqlite3.Row`` does)."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """An autocommit connection: a statement outside ``BEGIN`` commits by itself."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...

    @property
    def in_transaction(self) -> bool: ...

    def close(self) -> None: ...

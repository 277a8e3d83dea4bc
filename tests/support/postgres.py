"""A throw-away PostgreSQL cluster for the tests, started once per session.

``initdb`` and ``pg_ctl`` from the Debian ``postgresql`` package (the Makefile's ``DEBS``),
under ``/usr/lib/postgresql/<version>/bin``. The cluster lives in a fresh directory in /tmp
(short enough for a unix socket path, and outside pytest's 0700 root-owned temp directory)
and listens on a unix socket there only: no TCP port at all. ``initdb`` refuses to run as root,
and CI runs as root: then the cluster is made and run by the ``postgres`` system user (created
by the package) through ``runuser``; otherwise by the current user. Authentication is ``trust``
on that private socket. ``fsync`` is off: the tests check the platform's behaviour, not
PostgreSQL's durability, and every fsync costs seconds on the shared test machine.

Each platform under test gets its own database (:meth:`PostgresCluster.new_database`).
PostgreSQL missing is a failure, never a skip: ``make setup`` installs it.
"""

from __future__ import annotations

import getpass
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ui.child import free_port

_names = itertools.count(1)


def _bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail("PostgreSQL is not installed: run `make setup` (Debian package postgresql)")
    return found[-1].parent


@dataclass(frozen=True)
class PostgresCluster:
    socket_dir: Path
    port: int
    user: str

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def new_database(self, prefix: str = "platform") -> str:
        """A new, empty database; its ``postgresql://`` URL."""
        name = f"{prefix}_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _run(command: list[str], as_user: list[str]) -> None:
    done = subprocess.run([*as_user, *command], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL cluster (started on first use, stopped at the end)."""
    with postgres_cluster() as cluster:
        yield cluster


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throw-away cluster, stopped and deleted at the end (the fixture's, and bench/platform's
    PostgreSQL row)."""
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="mykey-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: the package's system user runs the cluster
        owner = pwd.getpwnam("postgres")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        as_user, user = ["runuser", "-u", "postgres", "--"], "postgres"
    else:
        as_user, user = [], getpass.getuser()
    data, port = base / "data", free_port()  # the port only names the socket file
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8",
              "--no-locale", "--no-sync"], as_user)  # fmt: skip
        options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off"
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
              "-t", "60", "-o", options, "start"], as_user)  # fmt: skip
        try:
            yield PostgresCluster(base, port, user)
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                 as_user)  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)

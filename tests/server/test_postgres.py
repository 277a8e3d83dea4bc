"""The platform on PostgreSQL: the same schema as on SQLite, migrations that keep rows and that
two processes may run at once, the operator commands as real processes on a postgresql:// URL,
and the connection adapter's translations (server/pg.py). The HTTP API on PostgreSQL is tested
by the modules marked ``both_databases`` (tests/server/conftest.py)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drivers.card.virtual.demo import DEMO_CITIZENS
from server import mykey, pg_schema
from server.cli import main
from server.db import MIGRATIONS, SCHEMA_VERSION, connect, migrate, verify_password
from server.pg import PgConnection, translate
from tests.server.helpers import new_card
from tests.support.platform import REPO
from tests.support.postgres import PostgresCluster

DATA = Path(__file__).parent / "data"


def _columns(conn: object, backend: str) -> dict[str, list[str]]:
    """table -> its columns in order, as ``SELECT *`` returns them."""
    c = conn  # a server.dbapi.Connection
    if backend == "postgresql":
        rows = c.execute(  # type: ignore[attr-defined]
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ).fetchall()
    else:
        rows = [
            (t[0], col[1])
            for t in c.execute(  # type: ignore[attr-defined]
                "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
            ).fetchall()
            for col in c.execute(f"PRAGMA table_info({t[0]})").fetchall()  # type: ignore[attr-defined]
        ]
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args], cwd=REPO, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_both_databases_get_the_same_tables_and_columns(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    assert len(pg_schema.MIGRATIONS) == len(MIGRATIONS)  # the same numbering
    url, db = postgres.new_database(), tmp_path / "p.sqlite"
    assert migrate(url) == migrate(db) == SCHEMA_VERSION
    pg, lite = connect(url), connect(db)
    try:
        assert _columns(pg, "postgresql") == _columns(lite, "sqlite")
        assert pg.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        pg.close()
        lite.close()


def test_a_database_at_the_previous_version_keeps_its_rows(postgres: PostgresCluster) -> None:
    url = postgres.new_database()
    conn = connect(url)
    try:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statements in pg_schema.MIGRATIONS[:3]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (3)")
        conn.execute(
            "INSERT INTO issuers (issuer_id, name, symbology, check_scheme, lengths, handover,"
            " pin_required) VALUES ('000001', '川崎市立図書館', 'codabar', '7dr', '8', 'D', 1)"
        )
        conn.execute(
            "INSERT INTO terminals (terminal_id, password_hash, kind, issuer_id, place, name)"
            " VALUES ('00052459', 'h', 'ア', '000001', '高津', '1台目')"
        )
    finally:
        conn.close()
    assert migrate(url) == SCHEMA_VERSION
    conn = connect(url)
    try:
        row = conn.execute("SELECT * FROM issuers").fetchone()
        assert (row["check_scheme"], row["lengths"], row["alphabet"], row["number_display"]) == (
            "7dr", "8", "", "masked",
        )  # fmt: skip
        assert conn.execute("SELECT issuer_id FROM terminals").fetchone()[0] == "000001"
        conn.execute("UPDATE issuers SET check_scheme = 'mod16'")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE issuers SET check_scheme = 'mod12'")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE issuers SET number_display = 'partly'")
        with pytest.raises(sqlite3.IntegrityError):  # the reference still holds
            conn.execute("DELETE FROM issuers")
    finally:
        conn.close()


def test_two_processes_migrating_at_once_apply_each_migration_once(
    postgres: PostgresCluster,
) -> None:
    url = postgres.new_database()
    code = "import sys; from server.db import migrate; print(migrate(sys.argv[1]))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert (proc.returncode, out.strip()) == (0, str(SCHEMA_VERSION)), err
    conn = connect(url)
    try:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
    finally:
        conn.close()


def test_the_operator_commands_work_on_a_postgresql_url(
    postgres: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """(In-process for speed; ``serve`` on PostgreSQL runs as a real process for the tests
    marked both_databases.)"""
    url = postgres.new_database()
    assert main(["import-terminals", "--db", url, str(DATA / "form2-sample-sjis.csv")]) == 0
    assert "(shift_jis): 16 added, 0 updated, 0 deleted, 0 unchanged" in capsys.readouterr().out
    assert main(["demo-data", "--db", url]) == 0
    assert main(["demo-data", "--db", url]) == 0  # twice changes nothing
    issuer = ["add-issuer", "--db", url, "--check", "mod16"]
    assert main([*issuer, "--id", "000016", "--name", "十六町", "--alphabet", "0123456789-",
                 "--number-display", "hidden"]) == 0  # fmt: skip
    assert main([*issuer, "--id", "000017", "--name", "x", "--symbology", "code39"]) == 1
    capsys.readouterr()
    assert main(["contacts", "--db", url]) == 0
    assert capsys.readouterr().out.startswith("terminal_id\tkind")
    conn = connect(url)
    try:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM terminals), (SELECT count(*) FROM citizens),"
            " (SELECT count(*) FROM service_ids), (SELECT count(*) FROM issuers)"
        ).fetchone()
        assert tuple(counts) == (16, len(DEMO_CITIZENS), 3, 2)
        stored = conn.execute(
            "SELECT password_hash FROM terminals WHERE terminal_id = ?", ("00052459",)
        ).fetchone()["password_hash"]
        assert verify_password("a912lkfja", stored)
        rules = conn.execute("SELECT * FROM issuers WHERE issuer_id = '000016'").fetchone()
        assert (rules["check_scheme"], rules["number_display"]) == ("mod16", "hidden")
    finally:
        conn.close()


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    done = _cli("contacts", "--db", f"postgresql://nobody@/x?host={tmp_path}&port=1")
    assert done.returncode == 1
    assert done.stderr.startswith("database: cannot connect to PostgreSQL")
    assert "Traceback" not in done.stderr


def test_parameters_rows_and_errors_behave_as_on_sqlite(postgres: PostgresCluster) -> None:
    assert translate("SELECT '?', x FROM t WHERE a = ? AND b LIKE 'a%'") == (
        "SELECT '?', x FROM t WHERE a = %s AND b LIKE 'a%%'"
    )
    url = postgres.new_database()
    migrate(url)
    conn = PgConnection(url)
    try:
        row = conn.execute("SELECT 1 AS one, 'zwei' AS two, ? AS three", ("drei",)).fetchone()
        assert (row[0], row["two"], row["three"], dict(row)) == (
            1, "zwei", "drei", {"one": 1, "two": "zwei", "three": "drei"},
        )  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError):  # a nonce of an unknown terminal
            conn.execute("INSERT INTO nonces VALUES (?, ?, ?, ?, ?)", (b"\0\xff", "x", "p", 1.5, 0))
        card = new_card()
        choice = mykey.IdChoice(conn)
        choice.draw()
        mykey.create(conn, choice.accept(), card.certificate)
        with pytest.raises(mykey.MyKeyError) as twice:  # the unique constraint, translated
            mykey.create(conn, choice.accept(), new_card().certificate)
        assert twice.value.code == "mykey.taken"
        assert not conn.in_transaction
        conn.execute("BEGIN IMMEDIATE")
        assert conn.in_transaction
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_write_transactions_take_turns_across_connections(postgres: PostgresCluster) -> None:
    url = postgres.new_database()
    migrate(url)
    first, second = connect(url), connect(url)
    entered = threading.Event()

    def writer() -> None:
        second.execute("BEGIN IMMEDIATE")  # waits for the first writer, as on SQLite
        entered.set()
        second.execute("ROLLBACK")

    try:
        first.execute("BEGIN IMMEDIATE")
        thread = threading.Thread(target=writer)
        thread.start()
        assert not entered.wait(0.5)
        first.execute("COMMIT")
        assert entered.wait(10)
        thread.join(10)
    finally:
        first.close()
        second.close()

"""The database: migrations, durability settings, and demo data that matches the virtual cards."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.values import CardNumber, CheckScheme, Issuer
from drivers.card.virtual.demo import DEMO_CITIZENS
from server.db import SCHEMA_VERSION, connect, hash_password, migrate, verify_password
from server.demo import (
    DEMO_TERMINAL,
    barcode_data,
    demo_card_number,
    demo_mykey_id,
    demo_registrations,
    load_demo_data,
)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_migrations_are_applied_once_and_recorded(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    assert migrate(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION
    assert _rows(db, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_connections_write_through_to_disk(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    migrate(db)
    conn = connect(db)
    try:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()


def test_password_hashes_verify_only_the_right_password() -> None:
    stored = hash_password("a912lkfja")
    assert verify_password("a912lkfja", stored)
    assert not verify_password("a912lkfjb", stored)
    assert not verify_password("a912lkfja", "md5$whatever")
    assert hash_password("same") != hash_password("same")


def test_demo_data_can_be_loaded_twice(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    load_demo_data(db)
    counts = "SELECT (SELECT count(*) FROM citizens), (SELECT count(*) FROM service_ids), " \
             "(SELECT count(*) FROM terminals), (SELECT count(*) FROM ca_certificates)"  # fmt: skip
    first = _rows(db, counts)
    load_demo_data(db)
    assert _rows(db, counts) == first == [(len(DEMO_CITIZENS), 3, 1, 1)]
    assert _rows(db, "SELECT terminal_id, kind, issuer_id, place, name FROM terminals") == [
        (DEMO_TERMINAL.terminal_id, "ア", "000001", "高津図書館", "高津図書館1台目")
    ]


def test_demo_mykey_ids_follow_the_platform_rules() -> None:
    for citizen in DEMO_CITIZENS:
        mykey_id = demo_mykey_id(citizen.number)
        assert len(mykey_id) == 8 and mykey_id.isascii() and mykey_id.isalnum()
        assert mykey_id == mykey_id.upper()


def test_demo_card_numbers_pass_the_librarys_own_rules() -> None:
    library = Issuer("000001", "川崎市立図書館", check=CheckScheme.MOD10_W21, lengths=(10,))
    registrations = demo_registrations()
    assert [n for n, _, _ in registrations] == [1, 2, 3]
    for number, issuer_id, card in registrations:
        assert card == demo_card_number(number)
        CardNumber(library, card)  # raises InvalidCardNumber otherwise
        assert barcode_data(issuer_id, card) == f"A{card}A"


def test_the_cli_puts_demo_data_into_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main

    db = tmp_path / "cli.sqlite"
    assert main(["demo-data", "--db", str(db)]) == 0
    assert DEMO_TERMINAL.terminal_id in capsys.readouterr().out
    assert _rows(db, "SELECT count(*) FROM service_ids") == [(3,)]


def test_the_cli_takes_a_sqlite_url_and_refuses_other_databases_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.cli import main

    db = tmp_path / "url.sqlite"
    assert main(["demo-data", "--db", f"sqlite:///{db}"]) == 0
    assert db.exists()
    with pytest.raises(SystemExit) as exited:
        main(["demo-data", "--db", "mysql://kiosk@localhost/platform"])
    assert exited.value.code == 2
    assert "mysql:// databases are not supported" in capsys.readouterr().err

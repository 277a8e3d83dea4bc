"""MyKey ID rules (SEED-SUMMARY.md): 8 of A-Z0-9; automatic draws duplicate-checked, at most 3,
the third taken; chosen IDs duplicate-checked, automatic after 3 failed checks; changes."""

from __future__ import annotations

import itertools
import sqlite3
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import mykey
from server.db import connect, migrate
from server.registry import add_issuer, link_service_id
from tests.server.helpers import new_card


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    migrate(tmp_path / "p.sqlite")
    c = connect(tmp_path / "p.sqlite")
    yield c
    c.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_conn(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The same rules on both databases: PostgreSQL from the session's cluster."""
    url: str | Path = tmp_path / "p.sqlite"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").new_database("mykey")
    migrate(url)
    c = connect(url)
    yield c  # type: ignore[misc]
    c.close()


def _choice(conn: sqlite3.Connection, ids: list[str]) -> mykey.IdChoice:
    """A choice whose generator yields ``ids``, one character at a time."""
    chars = itertools.chain.from_iterable(ids)
    return mykey.IdChoice(conn, rng=lambda _alphabet: next(chars))


def _taken(conn: sqlite3.Connection, *ids: str) -> None:
    for mykey_id in ids:
        mykey.create(conn, mykey_id, new_card().certificate)


def test_an_automatic_id_is_eight_upper_case_letters_or_digits(conn: sqlite3.Connection) -> None:
    ids = {mykey.IdChoice(conn).draw() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) == 8 for i in ids)
    assert set("".join(ids)) <= set(string.ascii_uppercase + string.digits)
    assert all(mykey.is_valid(i) for i in ids)
    assert not any(mykey.is_valid(bad) for bad in ("abcdefgh", "ABC1234", "ABCD12345", "ABCD-123"))


def test_a_drawn_duplicate_is_drawn_again_unseen(conn: sqlite3.Connection) -> None:
    _taken(conn, "AAAAAAAA")
    choice = _choice(conn, ["AAAAAAAA", "BBBBBBBB"])
    assert choice.draw() == "BBBBBBBB"
    assert choice.draws == 1


def test_at_most_three_draws_and_the_third_is_taken(conn: sqlite3.Connection) -> None:
    choice = _choice(conn, ["AAAAAAA1", "AAAAAAA2", "AAAAAAA3", "AAAAAAA4"])
    assert [choice.draw() for _ in range(3)] == ["AAAAAAA1", "AAAAAAA2", "AAAAAAA3"]
    assert choice.final
    with pytest.raises(mykey.MyKeyError) as refused:
        choice.draw()
    assert refused.value.code == "mykey.draws_used"
    assert choice.accept() == "AAAAAAA3"


def test_a_chosen_id_is_duplicate_checked(conn: sqlite3.Connection) -> None:
    _taken(conn, "LIBRARY1")
    choice = mykey.IdChoice(conn)
    assert choice.propose("LIBRARY1") is False
    assert choice.propose("LIBRARY2") is True
    assert choice.final and choice.accept() == "LIBRARY2"
    with pytest.raises(mykey.MyKeyError) as bad:
        mykey.IdChoice(conn).propose("library3")
    assert bad.value.code == "mykey.format"


def test_after_three_failed_checks_automatic_generation_takes_over(
    conn: sqlite3.Connection,
) -> None:
    _taken(conn, "TAKEN001", "TAKEN002", "TAKEN003")
    choice = _choice(conn, ["ZZZZZZZ1"])
    assert choice.propose("TAKEN001") is False
    assert choice.propose("TAKEN002") is False
    assert choice.mode is mykey.Mode.CHOOSING
    assert choice.propose("TAKEN003") is False
    assert choice.mode is mykey.Mode.AUTOMATIC
    assert choice.offer == "ZZZZZZZ1" and choice.draws == 1
    with pytest.raises(mykey.MyKeyError) as refused:
        choice.propose("FREE0001")
    assert refused.value.code == "mykey.automatic"


def test_creation_refuses_a_taken_id_and_a_second_id_for_one_card(
    any_conn: sqlite3.Connection,
) -> None:
    conn = any_conn
    card = new_card()
    mykey.create(conn, "CITIZEN1", card.certificate)
    with pytest.raises(mykey.MyKeyError) as taken:
        mykey.create(conn, "CITIZEN1", new_card().certificate)
    assert taken.value.code == "mykey.taken"
    with pytest.raises(mykey.MyKeyError) as twice:
        mykey.create(conn, "CITIZEN2", card.certificate)
    assert twice.value.code == "mykey.card_has_id"


def test_a_change_keeps_the_service_ids_and_is_duplicate_checked(
    conn: sqlite3.Connection,
) -> None:
    card = new_card()
    add_issuer(conn, "000001", "図書館")
    mykey.create(conn, "OLDID001", card.certificate)
    _taken(conn, "TAKEN001")
    link_service_id(conn, "OLDID001", "000001", "1234567890")
    with pytest.raises(mykey.MyKeyError):
        mykey.change(conn, "OLDID001", "TAKEN001")
    mykey.change(conn, "OLDID001", "NEWID001")
    assert mykey.citizen_for_certificate(conn, card.certificate) == "NEWID001"
    rows = conn.execute("SELECT mykey_id, card_number FROM service_ids").fetchall()
    assert [tuple(r) for r in rows] == [("NEWID001", "1234567890")]

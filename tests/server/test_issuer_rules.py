"""Issue 4's issuer rules on the platform: mod11 / mod16 check schemes, the card-number alphabet
and the number display, from the database through a real lookup into the kiosk's ``Issuer``;
the migration that added them keeps an older database's rows; the wire stays readable from an
older platform."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.checkdigits import compute
from appliance.errors import MalformedReply, ServiceIdRefused
from appliance.proof import challenge_digest
from appliance.values import CardProof, CheckScheme, Handover, Issuer, NumberDisplay, Symbology
from drivers.card.virtual.pki import CitizenCredentials
from server.db import MIGRATIONS, SCHEMA_VERSION, connect, migrate
from server.registry import add_issuer
from sync import _wire
from sync.client import PlatformClient
from tests.server.helpers import give_mykey_id, new_card
from tests.support.platform import PlatformServer, fake_fingerprint

pytestmark = pytest.mark.both_databases

MOD11 = Issuer(
    "000011", "十一市立図書館", Symbology.CODE39, check=CheckScheme.MOD11, lengths=(8,),
    handover=Handover.LABEL, pin_required=True, alphabet="0123456789",
    number_display=NumberDisplay.FULL,
)  # fmt: skip
MOD16 = Issuer(
    "000016", "十六町図書館", Symbology.CODABAR, codabar_start="B", codabar_stop="C",
    check=CheckScheme.MOD16, lengths=(9,), handover=Handover.SCREEN_BARCODE, pin_required=True,
    alphabet="0123456789-", number_display=NumberDisplay.FULL,
)  # fmt: skip


def _store(conn: sqlite3.Connection, issuer: Issuer) -> None:
    add_issuer(
        conn, issuer.issuer_id, issuer.name, symbology=issuer.symbology.value,
        codabar_start=issuer.codabar_start, codabar_stop=issuer.codabar_stop,
        check_scheme=issuer.check.value, lengths=issuer.lengths, handover=issuer.handover.value,
        pin_required=issuer.pin_required, alphabet=issuer.alphabet,
        number_display=issuer.number_display.value,
    )  # fmt: skip


def _number(issuer: Issuer, *, check: str) -> str:
    """A number of the issuer's length whose check character is ``check``."""
    for n in range(10**7, 10**8):
        body = str(n)[: issuer.lengths[0] - 1]
        c = compute(body, issuer.check.value, start=issuer.codabar_start,
                    stop=issuer.codabar_stop)  # fmt: skip
        if c == check:
            return body + c
    raise AssertionError("no such number")


def _proof(client: PlatformClient, card: CitizenCredentials, purpose: str) -> CardProof:
    challenge = client.challenge(purpose)
    signature = card.key.sign(challenge_digest(challenge), PKCS1v15(), Prehashed(SHA256()))
    return CardProof(card.certificate_der, challenge.nonce, signature)


@pytest.mark.parametrize(("issuer", "check"), [(MOD11, "0"), (MOD16, "-")], ids=["mod11", "mod16"])
def test_the_issuers_rules_reach_the_kiosk_through_a_real_lookup(
    platform_server: PlatformServer, issuer: Issuer, check: str
) -> None:
    conn = connect(platform_server.db_path)
    try:
        _store(conn, issuer)
    finally:
        conn.close()
    terminal = platform_server.add_terminal(issuer_id=issuer.issuer_id)
    patron = new_card()
    give_mykey_id(platform_server.db_path, patron)
    number = _number(issuer, check=check)  # mod11's 10/11 -> 0; mod16's "-" is in the alphabet
    with platform_server.client(terminal, fake_fingerprint(terminal.terminal_id)) as client:
        assert client.issuers() == [issuer]
        stored = client.register_service_id(
            _proof(client, patron, "register"), issuer.issuer_id, number, address_notice=False
        )
        assert stored.card_number == number
        (match,) = client.lookup(_proof(client, patron, "lookup"))
    assert match.number.issuer == issuer  # every field, alphabet and number display included
    assert match.number.value == number
    assert match.number.label_text() == number  # number_display=full
    if issuer is MOD16:
        assert match.number.barcode_data() == f"B{number}C"


def test_the_platform_refuses_numbers_that_break_the_new_rules(
    platform_server: PlatformServer,
) -> None:
    conn = connect(platform_server.db_path)
    try:
        _store(conn, MOD11)
        _store(conn, MOD16)
    finally:
        conn.close()
    patron = new_card()
    give_mykey_id(platform_server.db_path, patron)
    good11, good16 = _number(MOD11, check="0"), _number(MOD16, check="$")  # "$": not in alphabet
    bad11 = good11[:-1] + str((int(good11[-1]) + 1) % 10)
    for issuer, number, code in [(MOD11, bad11, "card_number.check_digit"),
                                 (MOD16, good16, "card_number.alphabet")]:  # fmt: skip
        terminal = platform_server.add_terminal(issuer_id=issuer.issuer_id)
        with platform_server.client(terminal, fake_fingerprint(terminal.terminal_id)) as client:
            with pytest.raises(ServiceIdRefused) as refused:
                client.register_service_id(
                    _proof(client, patron, "register"), issuer.issuer_id, number,
                    address_notice=False,
                )  # fmt: skip
        assert refused.value.code == "card_number.invalid"
        assert code in refused.value.problems, refused.value.problems


def test_inconsistent_issuer_rules_are_refused_when_the_issuer_is_added(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    migrate(db)
    conn = connect(db)
    try:
        with pytest.raises(ValueError, match="Codabar issuers only"):
            add_issuer(conn, "000020", "x", symbology="code39", check_scheme="mod16")
        with pytest.raises(ValueError, match="NW-7 cannot encode"):
            add_issuer(conn, "000021", "x", symbology="codabar", alphabet="0123ABC")
        with pytest.raises(ValueError, match="number display"):
            add_issuer(conn, "000022", "x", number_display="partly")
        with pytest.raises(ValueError, match="check scheme"):
            add_issuer(conn, "000023", "x", check_scheme="mod12")
        # the database refuses what slips past the code, too
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO issuers (issuer_id, name, symbology, check_scheme, handover,"
                " pin_required, number_display) VALUES ('000024', 'x', 'codabar', 'none', 'D',"
                " 1, 'partly')"
            )
        assert conn.execute("SELECT count(*) FROM issuers").fetchone()[0] == 0
    finally:
        conn.close()


def test_the_migration_keeps_an_older_databases_rows_and_foreign_keys(tmp_path: Path) -> None:
    db = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for statements in MIGRATIONS[:3]:  # the schema as the previous release left it
        for statement in statements:
            conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (3)")
    conn.execute(
        "INSERT INTO issuers (issuer_id, name, symbology, codabar_start, codabar_stop,"
        " check_scheme, lengths, handover, pin_required)"
        " VALUES ('000001', '川崎市立図書館', 'codabar', 'A', 'B', '7dsr', '8,10', 'D', 0)"
    )
    conn.execute(
        "INSERT INTO terminals (terminal_id, password_hash, kind, issuer_id, place, name)"
        " VALUES ('00052459', 'h', 'ア', '000001', '高津', '1台目')"
    )
    conn.execute("INSERT INTO citizens VALUES ('KWS00001', 'CN=ca', '0A')")
    conn.execute(
        "INSERT INTO service_ids (mykey_id, issuer_id, card_number) VALUES"
        " ('KWS00001', '000001', '12345670')"
    )
    conn.close()

    assert migrate(db) == SCHEMA_VERSION >= 4
    conn = connect(db)
    try:
        row = conn.execute("SELECT * FROM issuers").fetchone()
        assert dict(row) == {
            "issuer_id": "000001", "name": "川崎市立図書館", "symbology": "codabar",
            "codabar_start": "A", "codabar_stop": "B", "check_scheme": "7dsr",
            "lengths": "8,10", "handover": "D", "pin_required": 0, "alphabet": "",
            "number_display": "masked",
        }  # fmt: skip
        assert conn.execute("SELECT issuer_id FROM terminals").fetchall()[0][0] == "000001"
        assert conn.execute("SELECT card_number FROM service_ids").fetchone()[0] == "12345670"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # the references still hold against the rebuilt table
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO terminals (terminal_id, password_hash, kind, issuer_id, place, name)"
                " VALUES ('00000001', 'h', 'ア', '999999', 'p', 'n')"
            )
        conn.execute("UPDATE issuers SET check_scheme = 'mod11' WHERE issuer_id = '000001'")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE issuers SET check_scheme = 'mod12'")
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")]
        assert "issuers_new" not in names and "issuers" in names
    finally:
        conn.close()


_OLD_ISSUER = {"issuer_id": "000001", "name": "x", "symbology": "codabar", "codabar_start": "A",
               "codabar_stop": "A", "check": "mod11", "lengths": [], "handover": "D",
               "pin_required": True}  # fmt: skip


def test_the_kiosk_reads_an_older_platforms_issuers_with_the_defaults() -> None:
    issuer = _wire.issuer(_OLD_ISSUER)
    assert (issuer.alphabet, issuer.number_display) == ("", NumberDisplay.MASKED)
    full = _wire.issuer({**_OLD_ISSUER, "alphabet": "0123456789", "number_display": "hidden"})
    assert (full.alphabet, full.number_display) == ("0123456789", NumberDisplay.HIDDEN)


@pytest.mark.parametrize(
    "bad",
    [{"number_display": "sideways"}, {"number_display": None}, {"alphabet": 7},
     {"check": "mod12"}],
)  # fmt: skip
def test_an_unknown_or_mistyped_issuer_field_is_a_malformed_reply(bad: dict[str, object]) -> None:
    with pytest.raises(MalformedReply):
        _wire.issuer({**_OLD_ISSUER, **bad})


def test_the_openapi_document_lists_the_new_fields(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()["components"]["schemas"]["Issuer"]
    assert schema["properties"]["number_display"]["enum"] == ["full", "masked", "hidden"]
    assert "mod11" in schema["properties"]["check"]["enum"]
    assert "mod16" in schema["properties"]["check"]["enum"]
    assert "alphabet" in schema["properties"]


def test_operators_add_an_issuer_with_the_new_rules_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.platform import REPO

    db = tmp_path / "cli.sqlite"
    base = [sys.executable, "-m", "server", "add-issuer", "--db", str(db)]
    ok = subprocess.run(
        [*base, "--id", "000031", "--name", "三十一館", "--check", "mod11", "--lengths", "8",
         "--alphabet", "0123456789", "--number-display", "full", "--symbology", "code39"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [*base, "--id", "000032", "--name", "x", "--check", "mod16", "--symbology", "code128"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 1 and "Codabar issuers only" in bad.stderr
    again = subprocess.run([*base, "--id", "000031", "--name", "y"], cwd=REPO,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert again.returncode == 1 and "exists already" in again.stderr
    conn = connect(db)
    try:
        rows = [
            tuple(r)
            for r in conn.execute(
                "SELECT issuer_id, check_scheme, lengths, alphabet, number_display FROM issuers"
            )
        ]
    finally:
        conn.close()
    assert rows == [("000031", "mod11", "8", "0123456789", "full")]

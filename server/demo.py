"""Demo data that matches the virtual cards: ``make run`` and the tests tap these citizens.

One library (川崎市立図書館, issuer 000001, NW-7 labels, mod-10 weights 2-1 check digit), the
sample terminal from the ministry's form II (00052459 / a912lkfja) at 高津図書館, the test CA of
``drivers.card.virtual.pki``, and demo citizens 1-3 linked to library cards. Citizen 4 has a
MyKey ID but no library card: the "card valid, not registered here" case.

Everything here is public test material; a platform with ``--demo`` data must never face the
internet.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

from cryptography.hazmat.primitives.serialization import Encoding

from appliance.checkdigits import compute
from drivers.card.virtual.demo import DEMO_CITIZENS
from drivers.card.virtual.pki import test_ca, test_crl
from server.db import connect, migrate
from server.registry import (
    add_ca,
    add_citizen,
    add_crl,
    add_issuer,
    add_terminal,
    link_service_id,
)


class TerminalCredentials(NamedTuple):
    terminal_id: str
    password: str


DEMO_TERMINAL = TerminalCredentials("00052459", "a912lkfja")
DEMO_ISSUER_ID = "000001"
_CODABAR_START = _CODABAR_STOP = "A"
_LINKED = (1, 2, 3)


def demo_mykey_id(citizen_number: int) -> str:
    return f"KWS{citizen_number:05d}"


def demo_card_number(citizen_number: int) -> str:
    """10 digits: ``18000000{n-1}`` and its mod10w21 check digit."""
    body = str(180000000 + citizen_number - 1)
    return body + compute(body, "mod10w21")


def demo_registrations() -> list[tuple[int, str, str]]:
    """(citizen number, issuer ID, library card number) for each linked demo citizen."""
    return [(n, DEMO_ISSUER_ID, demo_card_number(n)) for n in _LINKED]


def barcode_data(issuer_id: str, card_number: str) -> str:
    """What a demo label's barcode encodes: NW-7 start/stop characters around the number."""
    if issuer_id != DEMO_ISSUER_ID:
        raise KeyError(f"no demo issuer {issuer_id}")
    return f"{_CODABAR_START}{card_number}{_CODABAR_STOP}"


def load_demo_data(db_path: str | Path) -> None:
    """Create the schema if needed and add the demo data; running it again changes nothing."""
    migrate(db_path)
    conn = connect(db_path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            add_ca(conn, test_ca().certificate)
            # a fresh, empty revocation list at every start, as if just fetched from the CA
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            add_crl(conn, test_crl(this_update=now).public_bytes(Encoding.DER), now=now.timestamp())
            add_issuer(
                conn,
                DEMO_ISSUER_ID,
                "川崎市立図書館",
                symbology="codabar",
                codabar_start=_CODABAR_START,
                codabar_stop=_CODABAR_STOP,
                check_scheme="mod10w21",
                lengths=(10,),
                handover="D",
                pin_required=True,
                alphabet="0123456789",
                number_display="masked",
            )
            add_terminal(
                conn,
                DEMO_TERMINAL.terminal_id,
                DEMO_TERMINAL.password,
                kind="ア",
                issuer_id=DEMO_ISSUER_ID,
                place="高津図書館",
                name="高津図書館1台目",
            )
            for citizen in DEMO_CITIZENS:
                mykey_id = demo_mykey_id(citizen.number)
                add_citizen(conn, mykey_id, citizen.credentials().certificate)
                if citizen.number in _LINKED:
                    link_service_id(
                        conn, mykey_id, DEMO_ISSUER_ID, demo_card_number(citizen.number)
                    )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()

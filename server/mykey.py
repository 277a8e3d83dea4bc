"""MyKey IDs: creation and change by the seed's rules, and certificate renewal.

Platform-internal and citizen-facing (the "My Page"): no terminal route reaches anything here
except :func:`citizen_for_certificate`, which answers *which* citizen a card is, and
:func:`service_ids_for_certificate`, a lookup's answer; neither lets the MyKey ID leave the
platform.

Rules (SEED-SUMMARY.md): a MyKey ID is 8 characters of upper-case ASCII letters and digits.

- Automatic: :meth:`IdChoice.draw` offers a fresh ID that is not taken (duplicates are drawn
  again, unseen by the citizen); the citizen may ask for another at most twice, so the third
  offer is final and is the one taken.
- Chosen: :meth:`IdChoice.propose` checks the citizen's own ID for duplicates; after 3 failed
  checks the choice switches to automatic generation.
- :func:`create` stores the accepted ID with the card's certificate; :func:`change` replaces a
  citizen's ID (the service IDs follow it, ``ON UPDATE CASCADE``).

Renewal: a re-issued card has a new certificate serial. The CA's successor records (old serial
-> new serial, :func:`server.registry.add_successor`) let the platform recognise the new
certificate at its first use, move the citizen to it and drop the record; chains of several
re-issues are followed.
"""

from __future__ import annotations

import enum
import re
import secrets
import sqlite3
from collections.abc import Callable

from cryptography import x509

from server.dbapi import Connection, Row
from server.verify import serial_hex

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MAX_DRAWS = 3
MAX_FAILED_PROPOSALS = 3
_PATTERN = re.compile(r"[A-Z0-9]{8}")


class MyKeyError(Exception):
    """A MyKey ID request the rules refuse; ``code`` is stable for the My Page's messages."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class Mode(enum.Enum):
    CHOOSING = "choosing"  # the citizen may still propose their own ID
    AUTOMATIC = "automatic"  # chose to, or after 3 failed proposals


def is_valid(mykey_id: str) -> bool:
    return _PATTERN.fullmatch(mykey_id) is not None


def is_taken(conn: Connection, mykey_id: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM citizens WHERE mykey_id = ?", (mykey_id,)).fetchone()
        is not None
    )


class IdChoice:
    """One citizen's way to a MyKey ID, by the rules above. Accept with :meth:`accept`."""

    def __init__(self, conn: Connection, *, rng: Callable[[str], str] = secrets.choice) -> None:
        self._conn = conn
        self._rng = rng
        self.mode = Mode.CHOOSING
        self.draws = 0
        self.failed_proposals = 0
        self.offer: str | None = None

    @property
    def final(self) -> bool:
        """The offer stands: the third draw, or an accepted proposal."""
        return self.offer is not None and (self.draws >= MAX_DRAWS or self.mode is Mode.CHOOSING)

    def draw(self) -> str:
        """A new automatic offer (not taken); the third one is final."""
        if self.draws >= MAX_DRAWS:
            raise MyKeyError("mykey.draws_used", f"after {MAX_DRAWS} draws the last one is taken")
        self.mode = Mode.AUTOMATIC
        for _ in range(1000):  # 36**8 IDs: a repeat collision means a broken generator
            candidate = "".join(self._rng(ALPHABET) for _ in range(8))
            if not is_taken(self._conn, candidate):
                break
        else:
            raise MyKeyError("mykey.generator", "no free MyKey ID found")
        self.draws += 1
        self.offer = candidate
        return candidate

    def propose(self, mykey_id: str) -> bool:
        """Check the citizen's own ID; True = it is free and now the offer."""
        if self.mode is Mode.AUTOMATIC:
            raise MyKeyError("mykey.automatic", "automatic generation has taken over")
        if not is_valid(mykey_id):
            raise MyKeyError("mykey.format", "8 characters: A-Z and 0-9 only")
        if is_taken(self._conn, mykey_id):
            self.failed_proposals += 1
            if self.failed_proposals >= MAX_FAILED_PROPOSALS:
                self.draw()  # after 3 failed checks, automatic generation takes over
            return False
        self.offer = mykey_id
        return True

    def accept(self) -> str:
        if self.offer is None:
            raise MyKeyError("mykey.none", "draw or propose an ID first")
        return self.offer


def create(conn: Connection, mykey_id: str, certificate: x509.Certificate) -> None:
    """Store a new citizen; MyKeyError if the ID broke a rule or was taken meanwhile."""
    if not is_valid(mykey_id):
        raise MyKeyError("mykey.format", "8 characters: A-Z and 0-9 only")
    try:
        conn.execute(
            "INSERT INTO citizens (mykey_id, cert_issuer, cert_serial) VALUES (?, ?, ?)",
            (mykey_id, certificate.issuer.rfc4514_string(), serial_hex(certificate.serial_number)),
        )
    except sqlite3.IntegrityError as exc:
        taken = is_taken(conn, mykey_id)
        code = "mykey.taken" if taken else "mykey.card_has_id"
        raise MyKeyError(code, "ID taken" if taken else "this card has a MyKey ID") from exc


def change(conn: Connection, old: str, new: str) -> None:
    """Give a citizen a new MyKey ID (duplicate-checked); service IDs follow."""
    if not is_valid(new):
        raise MyKeyError("mykey.format", "8 characters: A-Z and 0-9 only")
    if is_taken(conn, new):
        raise MyKeyError("mykey.taken", "that MyKey ID is taken")
    if not conn.execute("UPDATE citizens SET mykey_id = ? WHERE mykey_id = ?", (new, old)).rowcount:
        raise MyKeyError("mykey.unknown", "no such MyKey ID")


def citizen_for_certificate(conn: Connection, certificate: x509.Certificate) -> str | None:
    """The MyKey ID of the card's holder, following renewals (and recording them), or None.

    Run inside the caller's write transaction: a renewal updates the citizen's serial.
    """
    issuer = certificate.issuer.rfc4514_string()
    serial = serial_hex(certificate.serial_number)
    row = conn.execute(
        "SELECT mykey_id FROM citizens WHERE cert_issuer = ? AND cert_serial = ?", (issuer, serial)
    ).fetchone()
    if row is not None:
        return str(row["mykey_id"])
    chain, current = [], serial
    for _ in range(16):
        link = conn.execute(
            "SELECT old_serial FROM cert_successors WHERE cert_issuer = ? AND new_serial = ?",
            (issuer, current),
        ).fetchone()
        if link is None:
            return None
        chain.append(current)
        current = link["old_serial"]
        row = conn.execute(
            "SELECT mykey_id FROM citizens WHERE cert_issuer = ? AND cert_serial = ?",
            (issuer, current),
        ).fetchone()
        if row is not None:
            conn.execute(
                "UPDATE citizens SET cert_serial = ? WHERE mykey_id = ?", (serial, row["mykey_id"])
            )
            conn.executemany(
                "DELETE FROM cert_successors WHERE cert_issuer = ? AND new_serial = ?",
                [(issuer, s) for s in chain],
            )
            return str(row["mykey_id"])
    return None


_ROWS = "SELECT i.*, s.card_number, s.card_valid, s.address_notice, s.address_changed"


def service_ids_for_certificate(
    conn: Connection, certificate: x509.Certificate, issuer_id: str | None
) -> list[Row]:
    """The card holder's service-ID rows at ``issuer_id`` (with the issuer's columns), or none;
    renewals are followed (and recorded) as :func:`citizen_for_certificate` does.

    One query when the certificate is the citizen's current one (every lookup but a renewed
    card's first), where finding the citizen and then the rows took two: on PostgreSQL each is
    a round trip, and a lookup is the platform's hot path (bench/platform.py). A row with no
    service ID (the LEFT JOIN's) says the citizen exists but has none here.
    """
    rows = conn.execute(
        _ROWS
        + " FROM citizens c LEFT JOIN service_ids s ON s.mykey_id = c.mykey_id AND s.issuer_id = ?"
        " LEFT JOIN issuers i ON i.issuer_id = s.issuer_id"
        " WHERE c.cert_issuer = ? AND c.cert_serial = ?",
        (issuer_id, certificate.issuer.rfc4514_string(), serial_hex(certificate.serial_number)),
    ).fetchall()
    if rows:
        return [row for row in rows if row["card_number"] is not None]
    citizen = citizen_for_certificate(conn, certificate)  # a renewed card, or no citizen
    if citizen is None:
        return []
    return conn.execute(
        _ROWS + " FROM service_ids s JOIN issuers i USING (issuer_id)"
        " WHERE s.mykey_id = ? AND s.issuer_id = ?",
        (citizen, issuer_id),
    ).fetchall()

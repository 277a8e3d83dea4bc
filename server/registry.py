"""Writes that set the platform up: trusted CAs, ID-issuers, terminals, citizens, service IDs.

Used by the demo data and by tests; the municipality's import of the ministry's terminal list
will call :func:`add_terminal` too. Each function takes an open connection from
:func:`server.db.connect` and is idempotent where that makes sense (``ON CONFLICT DO
NOTHING``, which both databases speak): adding what exists keeps what is stored (a terminal
keeps its password hash and fingerprint binding).
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from server.cardrules import Rules, issuer_problems
from server.db import hash_password
from server.dbapi import Connection
from server.verify import load_crl, serial_hex


def add_ca(conn: Connection, certificate: x509.Certificate) -> None:
    """Trust ``certificate`` as an issuer of user-authentication certificates."""
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
    conn.execute(
        "INSERT INTO ca_certificates (subject, pem) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (certificate.subject.rfc4514_string(), pem),
    )


def add_issuer(
    conn: Connection,
    issuer_id: str,
    name: str,
    *,
    symbology: str = "codabar",
    codabar_start: str = "A",
    codabar_stop: str = "A",
    check_scheme: str = "none",
    lengths: Sequence[int] = (),
    handover: str = "A",
    pin_required: bool = True,
    alphabet: str = "",
    number_display: str = "masked",
) -> None:
    """Add an ID-issuer with its card-number rules; ValueError naming every inconsistency."""
    lengths_text = ",".join(str(n) for n in lengths)
    rules = Rules(symbology, check_scheme, lengths_text, alphabet, codabar_start, codabar_stop)
    found = issuer_problems(rules, number_display)
    if len(issuer_id) != 6 or not issuer_id.isascii() or not issuer_id.isdigit():
        found.insert(0, "the issuer ID is 6 digits")
    if found:
        raise ValueError(f"issuer {issuer_id}: " + "; ".join(found))
    conn.execute(
        "INSERT INTO issuers (issuer_id, name, symbology, codabar_start, codabar_stop,"
        " check_scheme, lengths, handover, pin_required, alphabet, number_display)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            issuer_id,
            name,
            symbology,
            codabar_start,
            codabar_stop,
            check_scheme,
            lengths_text,
            handover,
            int(pin_required),
            alphabet,
            number_display,
        ),
    )


def add_terminal(
    conn: Connection,
    terminal_id: str,
    password: str,
    *,
    kind: str = "ア",
    issuer_id: str | None = None,
    place: str,
    name: str,
) -> bool:
    """Register a terminal from the ministry's list; False if it was already there."""
    if conn.execute("SELECT 1 FROM terminals WHERE terminal_id = ?", (terminal_id,)).fetchone():
        return False
    conn.execute(
        "INSERT INTO terminals (terminal_id, password_hash, kind, issuer_id, place, name)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (terminal_id, hash_password(password), kind, issuer_id, place, name),
    )
    return True


def add_citizen(conn: Connection, mykey_id: str, certificate: x509.Certificate) -> None:
    """Create a MyKey ID for the holder of ``certificate`` (their user-authentication cert)."""
    conn.execute(
        "INSERT INTO citizens (mykey_id, cert_issuer, cert_serial) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (mykey_id, certificate.issuer.rfc4514_string(), serial_hex(certificate.serial_number)),
    )


def link_service_id(
    conn: Connection,
    mykey_id: str,
    issuer_id: str,
    card_number: str,
    *,
    address_notice: bool = False,
    card_valid: bool = True,
) -> None:
    """Link a library card number to a MyKey ID (the once-per-patron registration)."""
    conn.execute(
        "INSERT INTO service_ids (mykey_id, issuer_id, card_number, address_notice, card_valid)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (mykey_id, issuer_id, card_number, int(address_notice), int(card_valid)),
    )


def add_successor(conn: Connection, ca_subject: str, old_serial: str, new_serial: str) -> None:
    """Record that the CA re-issued a card: ``new_serial`` replaces ``old_serial`` (hex).

    The citizen is moved to the new certificate at its first use (:mod:`server.mykey`).
    """
    conn.execute(
        "INSERT INTO cert_successors (cert_issuer, new_serial, old_serial) VALUES (?, ?, ?)"
        " ON CONFLICT (cert_issuer, new_serial) DO UPDATE SET old_serial = excluded.old_serial",
        (ca_subject, new_serial.upper(), old_serial.upper()),
    )


def add_crl(conn: Connection, data: bytes, *, now: float) -> str:
    """Load a CA's revocation list (PEM or DER), replacing the CA's previous one.

    The list must be signed by a trusted CA; returns that CA's subject. ValueError otherwise.
    Its entries accumulate in ``revocations`` with their revocation time: a serial stays
    revoked even if a later list drops it, and a bookmobile's offline signature is judged by
    the time it was made (:mod:`server.offline`).
    """
    crl = load_crl(data)
    for (pem,) in conn.execute("SELECT pem FROM ca_certificates"):
        ca = x509.load_pem_x509_certificate(pem.encode())
        if ca.subject == crl.issuer and crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
            break
    else:
        raise ValueError("the revocation list is not signed by a trusted CA")
    if crl.next_update_utc is None:
        raise ValueError("the revocation list has no nextUpdate")
    subject = crl.issuer.rfc4514_string()
    conn.execute(
        "INSERT INTO crls (ca_subject, der, next_update, loaded_at, this_update)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (ca_subject) DO UPDATE SET der = excluded.der,"
        " next_update = excluded.next_update, loaded_at = excluded.loaded_at,"
        " this_update = excluded.this_update",
        (subject, crl.public_bytes(serialization.Encoding.DER), crl.next_update_utc.timestamp(),
         now, crl.last_update_utc.timestamp()),
    )  # fmt: skip
    for entry in crl:
        conn.execute(
            "INSERT INTO revocations (issuer, serial, revoked_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (subject, serial_hex(entry.serial_number), entry.revocation_date_utc.timestamp()),
        )
    return subject

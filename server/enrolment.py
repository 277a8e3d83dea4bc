"""Terminal registration (the seed's form 10) and the municipality's confirmation of it.

A terminal from the ministry's list registers with its terminal ID and password, its board
fingerprint (32-byte SHA-256, hex) and contact details: place, name, ID-issuer (kind ア only,
one of the platform's issuers, and the one form II names if it names one), person in charge
(optional), postal code (7 digits), address, phone, and the e-mail typed twice. Every problem
comes back at once as a :class:`server.models.Problem`.

Registering binds the board. Registering again from the *same* board updates the contact
details; from *another* board it is the "replaced a broken PC" case: the new board is bound,
the old board's sessions end, and the log says so. Either way the municipality must confirm
the details again (``mykey-platform contacts``). A sign-in from an unbound board is never
accepted silently: it is 409 ``terminal.fingerprint`` ("re-registration needed").
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Literal

from server.dbapi import Connection, Row
from server.models import Problem, TerminalRegistration

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
CONTACT_FIELDS = ("place", "name", "issuer_id", "person", "postal_code", "address", "phone",
                  "email")  # fmt: skip


def _p(field: str, code: str, detail: str) -> Problem:
    return Problem(field=field, code=code, detail=detail)


def credential_problems(form: TerminalRegistration) -> list[Problem]:
    found = []
    if not re.fullmatch(r"[0-9]{8}", form.terminal_id):
        found.append(_p("terminal_id", "terminal_id.format", "8 digits from the ministry's list"))
    if not form.password:
        found.append(_p("password", "password.empty", "the password from the ministry's list"))
    if not re.fullmatch(r"[0-9a-fA-F]{64}", form.fingerprint):
        found.append(_p("fingerprint", "fingerprint.format", "64 hex digits (SHA-256)"))
    return found


def normalised(form: TerminalRegistration) -> dict[str, str]:
    """The contact details as stored: trimmed, digits half-width, postal code without hyphen."""
    values = {f: getattr(form, f).strip() for f in CONTACT_FIELDS}
    for f in ("postal_code", "phone"):
        values[f] = unicodedata.normalize("NFKC", values[f]).replace("ー", "-")
    values["postal_code"] = values["postal_code"].replace("-", "")
    return values


def contact_problems(form: TerminalRegistration) -> list[Problem]:
    """Every problem with the contact details that needs no knowledge of the terminal."""
    v = normalised(form)
    found = [
        _p(f, f"{f}.empty", f"{label} is required")
        for f, label in (
            ("place", "the installation place"),
            ("name", "the terminal name"),
            ("postal_code", "the postal code"),
            ("address", "the address"),
            ("phone", "the phone number"),
            ("email", "the e-mail address"),
        )
        if not v[f]
    ]
    if v["postal_code"] and not re.fullmatch(r"[0-9]{7}", v["postal_code"]):
        found.append(_p("postal_code", "postal_code.format", "7 digits, e.g. 213-0001"))
    digits = v["phone"].replace("-", "")
    if v["phone"] and not (re.fullmatch(r"0[0-9]{9,10}", digits) and "--" not in v["phone"]):
        found.append(_p("phone", "phone.format", "10 or 11 digits starting with 0, hyphens ok"))
    if v["email"] and not _EMAIL.fullmatch(v["email"]):
        found.append(_p("email", "email.format", "not an e-mail address"))
    if form.email_again.strip() != form.email.strip():
        found.append(_p("email_again", "email_again.mismatch", "the two e-mail entries differ"))
    return found


def issuer_problems(conn: Connection, terminal: Row, form: TerminalRegistration) -> list[Problem]:
    """The ID-issuer choice against the terminal's kind and the ministry's list."""
    issuer_id = form.issuer_id.strip()
    if terminal["kind"] != "ア":
        if issuer_id:
            return [_p("issuer_id", "issuer_id.not_allowed", "only kind ア terminals name one")]
        return []
    if not issuer_id:
        return [_p("issuer_id", "issuer_id.empty", "kind ア terminals choose their ID-issuer")]
    row = conn.execute("SELECT name FROM issuers WHERE issuer_id = ?", (issuer_id,)).fetchone()
    if row is None:
        return [_p("issuer_id", "issuer_id.unknown", "not an ID-issuer of this platform")]
    if terminal["issuer_name"] and row["name"] != terminal["issuer_name"]:
        return [
            _p("issuer_id", "issuer_id.mismatch", "the ministry's list names another ID-issuer")
        ]
    return []


def register(
    conn: Connection, terminal: Row, form: TerminalRegistration, now: float
) -> Literal["registered", "re-registered", "updated"]:
    """Store the registration; "registered", "re-registered" (new board) or "updated"."""
    fingerprint = form.fingerprint.lower()
    contact = normalised(form)
    status: Literal["registered", "re-registered", "updated"]
    if terminal["fingerprint"] is None:
        status = "registered"
    elif terminal["fingerprint"] == fingerprint:
        status = "updated"
    else:
        status = "re-registered"
        conn.execute("DELETE FROM sessions WHERE terminal_id = ?", (terminal["terminal_id"],))
    conn.execute(
        "UPDATE terminals SET fingerprint = ?, contact = ?, registered_at = ?,"
        " contact_confirmed_at = NULL, issuer_id = coalesce(?, issuer_id) WHERE terminal_id = ?",
        (
            fingerprint,
            json.dumps(contact, ensure_ascii=False, sort_keys=True),
            now,
            contact["issuer_id"] or None,
            terminal["terminal_id"],
        ),
    )
    return status


def contacts(conn: Connection, *, unconfirmed_only: bool = False) -> list[dict[str, Any]]:
    """Registered terminals with their contact details, for the municipality to confirm."""
    rows = conn.execute(
        "SELECT terminal_id, kind, registered_at, contact_confirmed_at, contact FROM terminals"
        " WHERE contact IS NOT NULL AND deleted_at IS NULL ORDER BY terminal_id"
    ).fetchall()
    listed = [
        {
            "terminal_id": r["terminal_id"],
            "kind": r["kind"],
            "confirmed": r["contact_confirmed_at"] is not None,
            **json.loads(r["contact"]),
        }
        for r in rows
    ]
    return [c for c in listed if not (unconfirmed_only and c["confirmed"])]


def confirm(conn: Connection, terminal_ids: list[str], now: float) -> list[str]:
    """Mark the contact details confirmed; returns the IDs that are not registered."""
    unknown = []
    for tid in terminal_ids:
        done = conn.execute(
            "UPDATE terminals SET contact_confirmed_at = ? WHERE terminal_id = ?"
            " AND contact IS NOT NULL AND deleted_at IS NULL",
            (now, tid),
        ).rowcount
        if not done:
            unknown.append(tid)
    return unknown

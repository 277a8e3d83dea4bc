"""The terminal's identity and credentials at rest: enrolled once, sealed, bound to this board.

The ministry's form II gives each terminal an 8-digit ID and a password. The kiosk keeps them in
its local store (``terminal`` table of :class:`sync.store.LocalStore`), the password sealed with
AES-256-GCM under a key derived from the device secret (:mod:`sync.devicesecret`), **not** from
the board fingerprint: the fingerprint is sent to the platform at every sign-in and is made of
identifiers any local user can read, so it would protect nothing.

The sealed blob's associated data binds it to the terminal ID and to the board fingerprint
recorded at enrolment, so a database that moved loses its credentials in both ways:

=========================================  ================================================
what moved                                 what :func:`unlock` says
=========================================  ================================================
the database to another kiosk              the other kiosk's secret cannot open the seal
the database and the secret, other board   the recorded fingerprint is not this board's
someone edited the stored ID/fingerprint   the seal no longer matches its associated data
=========================================  ================================================

Each of these is :class:`appliance.errors.ReEnrolmentNeeded` (message key
``error.terminal.reenrol``, shown by the UI and ``kioskctl``): never a silent re-enrolment, never
a password sent from the wrong board. The way out is the technician's ``kioskctl enrol --replace``
(ui/enrol.py) with the form II password.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.errors import ReEnrolmentNeeded
from sync.devicesecret import derive_key, ensure_device_secret
from sync.store import LocalStore

log = logging.getLogger(__name__)

PURPOSE = b"mykey-kiosk terminal credentials"  # HKDF label: this key is for nothing else
MAGIC = b"KTERM1"  # format version of the sealed blob, part of its associated data
_NONCE = 12


@dataclass(frozen=True)
class TerminalIdentity:
    """Who this kiosk is to the platform. ``password`` never shows in a repr or log."""

    terminal_id: str
    password: str = field(repr=False)
    fingerprint: str


def _aad(terminal_id: str, fingerprint: str) -> bytes:
    return MAGIC + f"|{terminal_id}|{fingerprint}".encode("ascii")


def enrol(store: LocalStore, identity: TerminalIdentity, secret: Path) -> None:
    """Seal ``identity`` into the store, replacing any earlier enrolment."""
    aead = AESGCM(derive_key(secret, PURPOSE))
    nonce = secrets.token_bytes(_NONCE)
    aad = _aad(identity.terminal_id, identity.fingerprint)
    blob = MAGIC + nonce + aead.encrypt(nonce, identity.password.encode("utf-8"), aad)
    store.put_terminal(identity.terminal_id, identity.fingerprint, blob)
    log.info("terminal %s enrolled on this board", identity.terminal_id)


def unlock(store: LocalStore, secret: Path, fingerprint: str) -> TerminalIdentity | None:
    """The enrolled identity, or None before the first enrolment.

    Raises ``ReEnrolmentNeeded`` when the stored credentials belong to another board or another
    device secret, ``ConfigError`` when the secret file itself is unusable (mode, owner, size).
    """
    row = store.terminal_row()
    if row is None:
        return None
    terminal_id, recorded, blob = row["terminal_id"], row["fingerprint"], row["sealed"]
    if not (isinstance(terminal_id, str) and isinstance(recorded, str)):
        raise ReEnrolmentNeeded("stored terminal identity is damaged")
    if recorded != fingerprint:
        raise ReEnrolmentNeeded(
            f"terminal {terminal_id} was enrolled on another board (fingerprint changed): "
            "kioskctl enrol --replace"
        )
    if not isinstance(blob, bytes) or not blob.startswith(MAGIC):
        raise ReEnrolmentNeeded(f"terminal {terminal_id}: stored credentials are damaged")
    aead = AESGCM(derive_key(secret, PURPOSE))
    nonce, sealed = blob[len(MAGIC) : len(MAGIC) + _NONCE], blob[len(MAGIC) + _NONCE :]
    try:
        password = aead.decrypt(nonce, sealed, _aad(terminal_id, fingerprint)).decode("utf-8")
    except (InvalidTag, ValueError) as exc:
        raise ReEnrolmentNeeded(
            f"terminal {terminal_id}: credentials do not open with this device secret "
            "(database copied from another kiosk?): kioskctl enrol --replace"
        ) from exc
    return TerminalIdentity(terminal_id, password, fingerprint)


def open_terminal(
    store: LocalStore,
    secret: Path,
    fingerprint: str,
    *,
    terminal_id: str,
    password: str,
) -> TerminalIdentity | None:
    """What the kiosk signs in with, at start-up; None when it must be set up first.

    The first start creates the device secret and enrols the configured ID and password. Later
    starts unlock the stored credentials first, so a database that moved fails here whatever the
    configuration says. On a board that does unlock, a configured ID or password that differs from
    the stored one is the technician's explicit change (a new form II entry) and is sealed in its
    place; an empty configured password means "use the enrolled one", so the configuration file
    need not keep the password once the kiosk is enrolled.

    Not enrolled and no password configured (a kiosk fresh from the image, before the
    technician's setup): None, and nothing is enrolled. The wiring turns that into
    ``Kiosk.needs_setup``, the setup wizard's cue; it is not an error, since no credentials
    were ever lost.
    """
    created = ensure_device_secret(secret)
    if created:
        log.info("device secret created at %s", secret)
    stored = unlock(store, secret, fingerprint)
    configured = TerminalIdentity(terminal_id, password, fingerprint)
    if stored is None:
        if not password:
            log.info(
                "terminal %s: not enrolled and no password configured: setup needed", terminal_id
            )
            return None
        enrol(store, configured, secret)
        return configured
    if not password:
        if stored.terminal_id != terminal_id:
            raise ReEnrolmentNeeded(
                f"terminal {terminal_id} configured without a password; {stored.terminal_id} "
                "is the one enrolled"
            )
        return stored
    if stored != configured:
        log.info("terminal %s: configured credentials replace the enrolled ones", terminal_id)
        enrol(store, configured, secret)
    return configured

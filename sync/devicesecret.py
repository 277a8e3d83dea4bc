"""The device secret: a random file only its owner (root on the image) may read, the one root of
every key the kiosk uses for data at rest.

Why a random file and not the board fingerprint: the fingerprint is *sent* to the platform at
every sign-in and is computed from identifiers any local user can read (``/etc/machine-id``), so
a key derived from it protects nothing. The secret never leaves the board and is not in the
SQLite file, so a copied database (or SD card image of the data partition alone) cannot be
decrypted elsewhere.

Each use derives its own key with HKDF-SHA256 and a distinct ``purpose`` label, so that the SIP2
token store (``drivers.sip2.store``) and the terminal credentials (``sync.credentials``) share one
secret file without sharing a key. This module is the only code that reads or creates the file;
it lives in ``sync`` because the local state is sync's (ARCHITECTURE.md "Local state"), and the
SIP2 driver imports it from here rather than keeping a second copy.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.errors import ConfigError

SECRET_BYTES = 32


def secret_problems(path: Path) -> list[str]:
    """Every problem with the device-secret file at once (empty = usable)."""
    try:
        info = path.stat()
    except OSError as exc:
        return [f"device secret {path}: cannot be read ({exc.strerror})"]
    found = []
    if not stat.S_ISREG(info.st_mode):
        found.append(f"device secret {path}: not a regular file")
    if info.st_mode & 0o077:
        found.append(f"device secret {path}: readable by others (mode {info.st_mode & 0o777:o})")
    if info.st_uid != os.geteuid():
        found.append(f"device secret {path}: owned by uid {info.st_uid}, not {os.geteuid()}")
    if info.st_size < SECRET_BYTES:
        found.append(f"device secret {path}: shorter than {SECRET_BYTES} bytes")
    return found


def create_device_secret(path: Path) -> None:
    """Write a fresh random device secret, owner-only; ``FileExistsError`` if there is one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(SECRET_BYTES))
        fh.flush()
        os.fsync(fh.fileno())
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the name survives a power cut too, not only the bytes
    finally:
        os.close(dir_fd)


def ensure_device_secret(path: Path) -> bool:
    """Create the secret on first start; True if this call created it.

    Never replaces an existing file, even a bad one: a new secret would make everything
    encrypted under the old one unreadable, which must be a technician's decision.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        create_device_secret(path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise ConfigError([f"device secret {path}: cannot be created ({exc.strerror})"]) from exc
    return True


def derive_key(path: Path, purpose: bytes) -> bytes:
    """A 32-byte key for ``purpose`` from the device secret, or ``ConfigError`` with every
    problem of the file."""
    found = secret_problems(path)
    if found:
        raise ConfigError(found)
    try:
        secret = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"device secret {path}: cannot be read ({exc.strerror})"]) from exc
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def secret_path(configured: str, data_dir: Path) -> Path:
    """Where the secret lives: the configured path (``device_secret``, ``$KIOSK_DEVICE_SECRET``),
    or ``device-secret`` in the data folder when none is configured."""
    return Path(configured) if configured else data_dir / "device-secret"

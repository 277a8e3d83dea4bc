"""The device secret: one random, root-only file per kiosk, the root of every key at rest.

Moved here from ``drivers/sip2/store.py`` so that the SIP2 token store and the bookmobile outbox
(``sync/offline.py``) derive their keys from the same secret with the same checks, instead of two
copies drifting apart. Each user derives its *own* key (HKDF with a distinct ``info``), so one
store's key never opens the other's file, and none of them is the board fingerprint sent to the
platform.
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
    """Write a fresh random device secret, owner-only (first boot; tests)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(SECRET_BYTES))
        fh.flush()
        os.fsync(fh.fileno())


def derive_key(secret_path: Path, info: bytes) -> bytes:
    """A 32-byte key for the user named by ``info``, or ``ConfigError`` listing every problem."""
    found = secret_problems(secret_path)
    if found:
        raise ConfigError(found)
    secret = secret_path.read_bytes()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)

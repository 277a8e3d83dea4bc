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

**Root-only at rest, read once into memory (the image).** The kiosk runs unprivileged as
``kiosk``; a secret that user may open is one any code running as the kiosk (a bug in the UI, a
compromised dependency) can copy off the board together with the database. So on the image the
secret is ``root:root 0600`` in the root-only ``/var/lib/kiosk/system/``, and the kiosk user can
never open it: the root wrapper ``kiosk-login`` opens it and starts the kiosk with the open file
on a descriptor (``KIOSK_DEVICE_SECRET_FD``) and its path (``KIOSK_DEVICE_SECRET``). At start the
process adopts it once (:func:`adopt_inherited_secret`, from ``kiosk`` and ``kioskctl``'s
``main``): reads the bytes, closes the descriptor, drops the variable (children inherit neither)
and keeps the secret in memory for that path. :func:`derive_key` and
:func:`ensure_device_secret` then use the in-memory secret for that path and never touch the file
(which is root's and not even ``stat``-able for the kiosk). Root's own tools (provisioning,
``kioskctl`` over ssh) open the file by its path as before; provisioning holds it in memory
(:func:`holding_device_secret`) while it seals the kiosk's store with the kiosk's IDs. Without a
descriptor (a developer machine, the tests, ``make run``) the file is read by its owner as it
always was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.errors import ConfigError

SECRET_BYTES = 32
FD_ENV = "KIOSK_DEVICE_SECRET_FD"  # set by the image's root wrapper (kiosk-login)
PATH_ENV = "KIOSK_DEVICE_SECRET"  # the path it stands for (also the device_secret setting)

# secrets held in memory, by the path they were read from: adopted from a descriptor or held
# by provisioning; derive_key and ensure_device_secret look here before touching any file
_held: dict[Path, bytes] = {}


def _key(path: Path) -> Path:
    return Path(os.path.abspath(path))


def secret_problems(path: Path) -> list[str]:
    """Every problem with the device-secret file at once (empty = usable, or held in memory)."""
    if _key(path) in _held:
        return []
    try:
        info = path.stat()
    except OSError as exc:
        found = [f"device secret {path}: cannot be read ({exc.strerror})"]
        if _held:  # the usual slip: the settings name another file than the one passed on
            found.append(f"device secret {path}: the one passed to this process is "
                         f"{', '.join(str(p) for p in _held)}")  # fmt: skip
        return found
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
    A secret held in memory for ``path`` (passed on a descriptor) exists: False, no file access.
    One held for another path is a ``ConfigError``: a fresh file beside the one handed over
    would quietly be the weaker, kiosk-owned secret the root-only one replaced.
    """
    if _key(path) in _held:
        return False
    if _held:
        passed = ", ".join(str(p) for p in _held)
        raise ConfigError([f"device secret {path}: not created: the one passed to this process "
                           f"is {passed} (device_secret / {PATH_ENV} should name it)"])  # fmt: skip
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
    secret = _held.get(_key(path))
    if secret is None:
        secret = _read_file(path)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


def _read_file(path: Path) -> bytes:
    found = secret_problems(path)
    if found:
        raise ConfigError(found)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"device secret {path}: cannot be read ({exc.strerror})"]) from exc


@contextlib.contextmanager
def holding_device_secret(path: Path) -> Iterator[None]:
    """Read the secret file (the owner checks apply) and hold it in memory for ``path`` during
    the block: what provisioning does as root before it seals the kiosk's store with the
    kiosk's IDs, which may not open the root-only file. Already held (passed on a descriptor):
    it stays held."""
    key = _key(path)
    if key in _held:
        yield
        return
    _held[key] = _read_file(path)
    try:
        yield
    finally:
        _held.pop(key, None)


def adopt_inherited_secret(env: MutableMapping[str, str] | None = None) -> Path | None:
    """Take over the secret a root wrapper passed on ``$KIOSK_DEVICE_SECRET_FD``, once.

    Reads every byte from offset 0, closes the descriptor and removes the variable (a child
    process inherits neither), and holds the bytes in memory for ``$KIOSK_DEVICE_SECRET``. The
    path returned; None when no descriptor was passed (a developer machine: the file as
    before). ``ConfigError`` with every problem at once: no path, not a number, not open, not a
    regular file, shorter than :data:`SECRET_BYTES`.
    """
    env = os.environ if env is None else env
    raw = env.pop(FD_ENV, None)
    if raw is None:
        return None
    where = f"device secret on descriptor {FD_ENV}={raw}"
    found = []
    configured = env.get(PATH_ENV, "")
    if not configured:
        found.append(f"{where}: {PATH_ENV} (the path it was opened from) is not set")
    secret = b""
    try:
        fd = int(raw)
    except ValueError:
        found.append(f"{where}: not a descriptor number")
        fd = -1
    if fd >= 0:
        try:
            secret, problem = _read_fd(fd)
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror})"
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)
        if problem:
            found.append(f"{where}: {problem}")
    if found:
        raise ConfigError(found)
    path = Path(configured)
    _held[_key(path)] = secret
    return path


def _read_fd(fd: int) -> tuple[bytes, str]:
    """The file's bytes from offset 0, or a problem ("" = none)."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        return b"", "not a regular file"
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 4096, offset):
        chunks.append(chunk)
        offset += len(chunk)
    secret = b"".join(chunks)
    if len(secret) < SECRET_BYTES:
        return b"", f"shorter than {SECRET_BYTES} bytes ({len(secret)})"
    return secret, ""


def forget_held_secrets() -> None:
    """Drop every secret held in memory (tests; a process that is done with them)."""
    _held.clear()


def secret_path(configured: str, data_dir: Path) -> Path:
    """Where the secret lives: the configured path (``device_secret``, ``$KIOSK_DEVICE_SECRET``),
    or ``device-secret`` in the data folder when none is configured."""
    return Path(configured) if configured else data_dir / "device-secret"

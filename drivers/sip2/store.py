"""The day's tokens on disk, encrypted, so that a restart does not void the labels already printed.

The file holds card numbers, so it is never written in clear: AES-256-GCM with a key derived
(HKDF-SHA256) from the device secret, a random file that only root may read, whose path is
configuration. Two processes share it: the kiosk issues tokens, the gateway resolves them and
marks them used. Every change is lock -> read -> change -> write atomically (:meth:`update`), so
neither loses the other's work. Tokens whose hours are over are dropped on every read and write:
nothing outlives its service day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance.daytokens import DayToken, TokenBook, TokenPolicy
from appliance.errors import KioskError
from appliance.sip2 import TokenStoreError
from appliance.values import CardNumber
from drivers.sip2._records import from_records, to_records
from sync.device_secret import SECRET_BYTES, create_device_secret, derive_key, secret_problems

log = logging.getLogger(__name__)

MAGIC = b"KSIP2T1"  # file format version, also the AEAD associated data
_NONCE = 12
T = TypeVar("T")
__all__ = ["SECRET_BYTES", "TokenStore", "create_device_secret", "secret_problems", "store_key"]


def store_key(secret_path: Path) -> bytes:
    """The token store's AES key from the device secret, or ``ConfigError`` listing problems."""
    return derive_key(secret_path, b"mykey-kiosk sip2 token store")


class TokenStore:
    """One encrypted file (``path``) plus its lock file (``path`` + ``.lock``)."""

    def __init__(
        self,
        path: Path | str,
        secret_path: Path | str,
        *,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.path = Path(path)
        self._aead = AESGCM(store_key(Path(secret_path)))
        self._clock = clock
        self._seen: tuple[int, int, int] | None = None

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    # -- reading --------------------------------------------------------------------------------

    def load(self) -> TokenBook:
        """The book on disk as of now (purged); an empty book if there is no file yet."""
        with self._locked(shared=True):
            return self._read()

    def changed(self) -> bool:
        """Whether the file changed since this store last read or wrote it (a cheap ``stat``)."""
        return self._signature() != self._seen

    def _read(self) -> TokenBook:
        now = self._clock()
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            self._seen = None
            return TokenBook()
        except OSError as exc:
            raise TokenStoreError(f"token store cannot be read ({exc.strerror})") from exc
        self._seen = self._signature()
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + _NONCE + 16:
            raise TokenStoreError("token store is not a token store file")
        nonce = blob[len(MAGIC) : len(MAGIC) + _NONCE]
        try:
            clear = self._aead.decrypt(nonce, blob[len(MAGIC) + _NONCE :], MAGIC)
            return from_records(json.loads(clear), now)
        except InvalidTag as exc:
            raise TokenStoreError("token store cannot be decrypted (other device secret?)") from exc
        except (ValueError, KeyError, TypeError, KioskError) as exc:
            raise TokenStoreError(f"token store content is damaged ({type(exc).__name__})") from exc

    # -- writing --------------------------------------------------------------------------------

    def save(self, book: TokenBook) -> None:
        with self._locked(shared=False):
            self._write(book)

    def update(self, change: Callable[[TokenBook], T]) -> T:
        """Lock, read, ``change(book)``, write back; returns what ``change`` returned."""
        with self._locked(shared=False):
            book = self._read()
            result = change(book)
            self._write(book)
            return result

    # -- what the kiosk calls -------------------------------------------------------------------

    def set_policies(self, policies: Iterable[TokenPolicy]) -> None:
        """Record the issuers' reserved ranges (at start-up, from the issuer configuration)."""
        chosen = list(policies)

        def change(book: TokenBook) -> None:
            for policy in chosen:
                book.set_policy(policy)

        self.update(change)

    def issue(self, number: CardNumber) -> DayToken:
        """A token for the label of ``number``, valid from now until closing time today."""
        return self.update(lambda book: book.issue(number, self._clock()))

    def _write(self, book: TokenBook) -> None:
        book.purge(self._clock())
        clear = json.dumps(to_records(book), separators=(",", ":")).encode()
        nonce = secrets.token_bytes(_NONCE)
        blob = MAGIC + nonce + self._aead.encrypt(nonce, clear, MAGIC)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise TokenStoreError(f"token store cannot be written ({exc.strerror})") from exc
        self._seen = self._signature()

    # -- helpers --------------------------------------------------------------------------------

    def _signature(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_ino, info.st_size, info.st_mtime_ns

    @contextlib.contextmanager
    def _locked(self, *, shared: bool) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise TokenStoreError(f"token store lock cannot be opened ({exc.strerror})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

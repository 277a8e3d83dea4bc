"""The device secret passed on a descriptor (the image's root-only secret, ``kiosk-login``):
adopted once into memory, the same keys as from the file, every bad descriptor refused clearly,
and an unprivileged process that holds the descriptor derives the key it cannot open."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.errors import ConfigError
from sync import devicesecret
from sync.credentials import TerminalIdentity, enrol, unlock
from sync.devicesecret import (
    FD_ENV,
    PATH_ENV,
    SECRET_BYTES,
    adopt_inherited_secret,
    create_device_secret,
    derive_key,
    ensure_device_secret,
    holding_device_secret,
)
from sync.store import LocalStore
from tests.support.platform import fake_fingerprint
from tests.support.unprivileged import run_as

PURPOSE = b"mykey-kiosk terminal credentials"  # any label: the same one on both sides
BOARD = fake_fingerprint("kiosk A")


@pytest.fixture(autouse=True)
def _nothing_held() -> Iterator[None]:
    devicesecret.forget_held_secrets()
    yield
    devicesecret.forget_held_secrets()


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def _secret(tmp_path: Path) -> Path:
    path = tmp_path / "system" / "device-secret"
    path.parent.mkdir(mode=0o700)
    create_device_secret(path)
    return path


def test_a_descriptor_gives_the_same_key_as_the_file_and_is_read_once(tmp_path: Path) -> None:
    path = _secret(tmp_path)
    from_file = derive_key(path, PURPOSE)
    fd = os.open(path, os.O_RDONLY)
    os.lseek(fd, 7, os.SEEK_SET)  # whoever opened it may have read some: read from offset 0
    env = {FD_ENV: str(fd), PATH_ENV: str(path), "KIOSK_DATA_DIR": str(tmp_path)}
    assert adopt_inherited_secret(env) == path
    assert FD_ENV not in env and env[PATH_ENV] == str(path)  # no child inherits the number
    assert _closed(fd)
    path.unlink()  # the file is not touched again: the key comes from memory
    assert derive_key(path, PURPOSE) == from_file
    assert derive_key(Path(str(path).replace("/system/", "/system//")), PURPOSE) == from_file
    assert derive_key(path, b"another purpose") != from_file
    assert ensure_device_secret(path) is False and not path.exists()  # held: nothing created
    assert adopt_inherited_secret(env) is None  # once: the variable is gone


def test_no_descriptor_keeps_the_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "device-secret"
    env = {PATH_ENV: str(path)}
    assert adopt_inherited_secret(env) is None
    assert ensure_device_secret(path) is True  # created as before, by its owner
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        derive_key(path, PURPOSE)


def test_a_short_descriptor_is_refused_and_closed(tmp_path: Path) -> None:
    path = tmp_path / "device-secret"
    path.write_bytes(b"x" * (SECRET_BYTES - 1))
    fd = os.open(path, os.O_RDONLY)
    with pytest.raises(ConfigError) as caught:
        adopt_inherited_secret({FD_ENV: str(fd), PATH_ENV: str(path)})
    assert caught.value.problems == [
        f"device secret on descriptor {FD_ENV}={fd}: shorter than 32 bytes (31)"
    ]
    assert _closed(fd)
    with pytest.raises(ConfigError, match="shorter than 32"):  # nothing was held for the path
        derive_key(path, PURPOSE)


def test_a_closed_descriptor_and_no_path_are_both_reported(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    os.close(fd)
    with pytest.raises(ConfigError) as caught:
        adopt_inherited_secret({FD_ENV: str(fd)})
    where = f"device secret on descriptor {FD_ENV}={fd}"
    assert caught.value.problems == [
        f"{where}: {PATH_ENV} (the path it was opened from) is not set",
        f"{where}: cannot be read (Bad file descriptor)",
    ]


def test_a_pipe_or_a_word_is_not_a_secret_file(tmp_path: Path) -> None:
    read, write = os.pipe()
    os.write(write, b"s" * SECRET_BYTES)
    os.close(write)
    with pytest.raises(ConfigError, match="not a regular file"):
        adopt_inherited_secret({FD_ENV: str(read), PATH_ENV: str(tmp_path / "s")})
    assert _closed(read)
    with pytest.raises(ConfigError, match="not a descriptor number"):
        adopt_inherited_secret({FD_ENV: "three", PATH_ENV: str(tmp_path / "s")})


def test_settings_naming_another_file_say_which_one_was_passed(tmp_path: Path) -> None:
    path = _secret(tmp_path)
    fd = os.open(path, os.O_RDONLY)
    adopt_inherited_secret({FD_ENV: str(fd), PATH_ENV: str(path)})
    with pytest.raises(ConfigError) as caught:
        derive_key(tmp_path / "data" / "device-secret", PURPOSE)
    assert caught.value.problems[1].endswith(f"the one passed to this process is {path}")
    other = tmp_path / "data" / "device-secret"
    with pytest.raises(ConfigError, match=f"not created: the one passed to this process is {path}"):
        ensure_device_secret(other)  # never a second, kiosk-owned secret beside the root-only one
    assert not other.exists()


def test_provisioning_holds_the_file_only_for_its_block(tmp_path: Path) -> None:
    path = _secret(tmp_path)
    key = derive_key(path, PURPOSE)
    with holding_device_secret(path):
        path.rename(tmp_path / "moved")
        assert derive_key(path, PURPOSE) == key
    with pytest.raises(ConfigError, match="cannot be read"):
        derive_key(path, PURPOSE)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root (CI is root)")
def test_an_unprivileged_child_derives_the_key_from_the_descriptor_it_cannot_open() -> None:
    """kiosk-login's hand-over: root opens the root-only file, the kiosk user gets the fd."""
    base = Path(tempfile.mkdtemp(prefix="kiosk-secret-"))  # pytest's tmp_path is root-only
    try:
        base.chmod(0o755)  # nobody reaches the folders, as /var/lib/kiosk on the image
        _hand_over(base)
    finally:
        shutil.rmtree(base)


def _hand_over(tmp_path: Path) -> None:
    path = _secret(tmp_path)  # root:root 0600 in a root-only 0700 folder
    assert (path.stat().st_uid, path.stat().st_mode & 0o777) == (0, 0o600)
    data = tmp_path / "data"  # the kiosk's own, as on the image
    data.mkdir()
    store_path = data / "kiosk.sqlite"
    with LocalStore(store_path) as store:
        enrol(store, TerminalIdentity("00052459", "a912lkfja", BOARD), path)
    for mine in (data, *data.iterdir()):
        os.chown(mine, pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
    from_file = derive_key(path, PURPOSE)
    fd = os.open(path, os.O_RDONLY)

    def kiosk() -> dict[str, str]:
        try:
            open(path, "rb").close()
            opened = "opened"
        except PermissionError as exc:
            opened = exc.strerror
        env = {FD_ENV: str(fd), PATH_ENV: str(path)}
        adopt_inherited_secret(env)
        with LocalStore(store_path) as store:
            identity = unlock(store, path, BOARD)
        password = identity.password if identity else ""
        key = derive_key(path, PURPOSE).hex()
        return {"open": opened, "key": key, "password": password, "fd": str(_closed(fd))}

    try:
        seen = run_as("nobody", kiosk)
    finally:
        os.close(fd)
    assert seen == {"open": "Permission denied", "key": from_file.hex(),
                    "password": "a912lkfja", "fd": "True"}  # fmt: skip

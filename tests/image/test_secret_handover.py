"""The image's root-only device secret: ``kiosk-secret`` (root, before provisioning and the
kiosk) creates it once, or moves an older image's kiosk-owned ``data/device-secret`` to the
root-only folder so that what was sealed under it still opens; never replaces one. The real
script, run as root (CI is root) with the paths pointed into a temporary folder."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.credentials import TerminalIdentity, enrol, unlock
from sync.devicesecret import adopt_inherited_secret, create_device_secret
from sync.store import LocalStore
from tests.support.platform import fake_fingerprint
from tests.support.unprivileged import run_as

SCRIPT = Path(__file__).parents[2] / "image/overlay/usr/local/lib/kiosk/kiosk-secret"
BOARD = fake_fingerprint("kiosk A")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to root needs root (CI is root)")


@pytest.fixture
def card() -> Iterator[Path]:
    """/var/lib/kiosk of a card: data/ the kiosk user's (nobody here), system/ not made yet."""
    base = Path(tempfile.mkdtemp(prefix="kiosk-card-"))  # pytest's tmp_path is root-only
    base.chmod(0o755)
    (base / "data").mkdir(mode=0o750)
    user = pwd.getpwnam("nobody")
    os.chown(base / "data", user.pw_uid, user.pw_gid)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def _kiosk_secret(card: Path) -> str:
    env = {"PATH": os.environ["PATH"], "KIOSK_DATA_DIR": str(card / "data"),
           "KIOSK_DEVICE_SECRET": str(card / "system" / "device-secret")}  # fmt: skip
    out = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30,
                         check=True)  # fmt: skip
    return out.stdout


def _root_only(path: Path) -> bool:
    info = path.stat()
    return (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (0, 0, 0o600)


def test_an_older_images_kiosk_secret_moves_to_root_and_the_store_still_opens(card: Path) -> None:
    old, new, db = card / "data/device-secret", card / "system/device-secret", card / "data/k.db"

    def older_image() -> bool:  # what the kiosk user did before: its own secret and store
        create_device_secret(old)
        with LocalStore(db) as store:
            enrol(store, TerminalIdentity("00052459", "a912lkfja", BOARD), old)
        return True

    assert run_as("nobody", older_image)
    assert old.stat().st_uid == pwd.getpwnam("nobody").pw_uid
    before = old.read_bytes()
    assert "moved the kiosk user's" in _kiosk_secret(card)
    assert not old.exists() and new.read_bytes() == before and _root_only(new)
    assert stat.S_IMODE(new.parent.stat().st_mode) == 0o700
    assert _kiosk_secret(card) == ""  # once: the next boot finds it in place
    fd = os.open(new, os.O_RDONLY)  # kiosk-login's hand-over

    def kiosk() -> list[str]:
        adopt_inherited_secret({"KIOSK_DEVICE_SECRET_FD": str(fd), "KIOSK_DEVICE_SECRET": str(new)})
        with LocalStore(db) as store:
            found = unlock(store, new, BOARD)
        return [str(os.access(new, os.R_OK)), found.password if found else "stranded"]

    try:
        assert run_as("nobody", kiosk) == ["False", "a912lkfja"]
    finally:
        os.close(fd)


def test_a_first_boot_gets_a_fresh_root_only_secret_once(card: Path) -> None:
    new = card / "system/device-secret"
    assert "created" in _kiosk_secret(card)
    secret = new.read_bytes()
    assert len(secret) == 32 and _root_only(new)
    assert _kiosk_secret(card) == "" and new.read_bytes() == secret
    assert sorted(p.name for p in new.parent.iterdir()) == ["device-secret"]  # no .tmp left


def test_an_existing_secret_is_never_replaced_only_made_roots_again(card: Path) -> None:
    new, old = card / "system/device-secret", card / "data/device-secret"
    new.parent.mkdir(mode=0o700)
    new.write_bytes(b"A" * 32)
    os.chown(new, pwd.getpwnam("nobody").pw_uid, 0)  # a power cut between the move and chown
    new.chmod(0o644)
    old.write_bytes(b"B" * 32)
    out = _kiosk_secret(card)
    assert "left alone" in out and "created" not in out and "moved" not in out
    assert new.read_bytes() == b"A" * 32 and _root_only(new)
    assert old.read_bytes() == b"B" * 32  # which one counts is a technician's decision

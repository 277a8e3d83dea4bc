"""Terminal credentials at rest: sealed under the device secret, bound to this board, and a
database that moved to another kiosk says "re-enrolment needed" instead of signing in."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from appliance.errors import ConfigError, ReEnrolmentNeeded
from appliance.messages import CATALOGUE, Lang, render
from sync.credentials import TerminalIdentity, open_terminal, unlock
from sync.devicesecret import ensure_device_secret
from sync.store import LocalStore
from tests.support.platform import fake_fingerprint

PASSWORD = "a912lkfja-form-II"
BOARD = fake_fingerprint("kiosk A")


class Kiosk:
    """One kiosk's data folder: its SQLite store and its device secret."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.db = root / "kiosk.sqlite"
        self.secret = root / "device-secret"

    def start(
        self, board: str = BOARD, *, terminal_id: str = "00052459", password: str = PASSWORD
    ) -> TerminalIdentity:
        with LocalStore(self.db) as store:
            return open_terminal(
                store, self.secret, board, terminal_id=terminal_id, password=password
            )


def test_the_first_start_creates_an_owner_only_secret_and_enrols(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    identity = kiosk.start()
    assert identity == TerminalIdentity("00052459", PASSWORD, BOARD)
    mode = kiosk.secret.stat().st_mode
    assert stat.S_IMODE(mode) == 0o600 and kiosk.secret.stat().st_size == 32


def test_later_starts_unlock_without_the_password_in_the_configuration(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    kiosk.start()
    assert kiosk.start(password="").password == PASSWORD


def test_the_password_is_not_in_the_database_in_clear(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    kiosk.start()
    for path in kiosk.root.glob("kiosk.sqlite*"):  # the file and its WAL
        assert PASSWORD.encode() not in path.read_bytes(), path
    conn = sqlite3.connect(kiosk.db)
    try:
        (terminal_id, sealed) = conn.execute("SELECT terminal_id, sealed FROM terminal").fetchone()
    finally:
        conn.close()
    assert terminal_id == "00052459" and PASSWORD.encode() not in sealed


def _copy_database(source: Kiosk, target: Kiosk) -> None:
    for path in source.root.glob("kiosk.sqlite*"):
        shutil.copy2(path, target.root / path.name)


def test_a_database_copied_to_another_kiosk_needs_re_enrolment(tmp_path: Path) -> None:
    original, other = Kiosk(tmp_path / "a"), Kiosk(tmp_path / "b")
    original.start()
    _copy_database(original, other)
    with pytest.raises(ReEnrolmentNeeded, match="device secret") as info:
        other.start(BOARD)  # same board fingerprint even: the secret is what is missing
    assert info.value.key == "error.terminal.reenrol"
    assert PASSWORD not in str(info.value)


def test_the_database_and_secret_on_another_board_need_re_enrolment(tmp_path: Path) -> None:
    original, other = Kiosk(tmp_path / "a"), Kiosk(tmp_path / "b")
    original.start()
    _copy_database(original, other)
    shutil.copy2(original.secret, other.secret)
    with pytest.raises(ReEnrolmentNeeded, match="another board"):
        other.start(fake_fingerprint("kiosk B"))
    # ...and a configured password does not paper over it: the store says no first
    with pytest.raises(ReEnrolmentNeeded):
        other.start(fake_fingerprint("kiosk B"), password="anything")


def test_editing_the_stored_fingerprint_breaks_the_seal(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    kiosk.start()
    conn = sqlite3.connect(kiosk.db)
    with conn:
        conn.execute("UPDATE terminal SET fingerprint = ?", (fake_fingerprint("forged"),))
    conn.close()
    with LocalStore(kiosk.db) as store, pytest.raises(ReEnrolmentNeeded):
        unlock(store, kiosk.secret, fake_fingerprint("forged"))


def test_the_re_enrolment_message_exists_in_both_languages() -> None:
    message = CATALOGUE["error.terminal.reenrol"]
    assert "再登録" in message.ja and "enrol" in message.en
    assert render("error.terminal.reenrol", Lang.EN) == message.en


def test_a_new_form_II_password_on_the_same_board_replaces_the_old(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    kiosk.start()
    assert kiosk.start(password="new-password").password == "new-password"
    assert kiosk.start(password="").password == "new-password"


def test_another_terminal_id_without_its_password_is_refused(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    kiosk.start()
    with pytest.raises(ReEnrolmentNeeded, match="without a password"):
        kiosk.start(terminal_id="00099999", password="")


def test_a_secret_others_can_read_is_a_configuration_problem(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    kiosk.start()
    kiosk.secret.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        kiosk.start()


def test_the_secret_is_never_replaced_once_made(tmp_path: Path) -> None:
    secret = tmp_path / "device-secret"
    assert ensure_device_secret(secret) is True
    first = secret.read_bytes()
    assert ensure_device_secret(secret) is False
    assert secret.read_bytes() == first


def test_the_password_does_not_show_in_a_repr() -> None:
    assert PASSWORD not in repr(TerminalIdentity("00052459", PASSWORD, BOARD))


def test_no_enrolment_and_no_password_is_a_setup_not_an_error(tmp_path: Path) -> None:
    kiosk = Kiosk(tmp_path / "a")
    assert kiosk.start(password="") is None
    with LocalStore(kiosk.db) as store:
        assert store.terminal_row() is None
    assert kiosk.start().password == PASSWORD  # the technician's password enrols later

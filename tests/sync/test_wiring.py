"""The sync layer as the kiosk's composition root builds it: enrolled credentials, a running
flusher whose connectivity the UI can read, and a copied database that refuses to start."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ReEnrolmentNeeded, SetupNeeded
from appliance.messages import CATALOGUE
from appliance.ports import Connectivity, DeviceState, PlatformLink
from server.demo import DEMO_TERMINAL
from tests.support.platform import REPO, PlatformServer
from ui.wiring import build_kiosk


def _config(data_dir: Path, server: PlatformServer) -> dict[str, object]:
    """A kiosk of the demo terminal on the test platform (a real URL: no default password)."""
    return {
        "data_dir": str(data_dir),
        "platform_url": server.base_url,
        "terminal_password": DEMO_TERMINAL.password,
    }


def test_the_kiosk_enrols_signs_in_and_shows_itself_online(
    tmp_path: Path, platform_server: PlatformServer
) -> None:
    kiosk = build_kiosk(load_config(_config(tmp_path / "kiosk", platform_server)))
    try:
        link: PlatformLink | None = kiosk.link
        assert link is not None
        deadline = time.monotonic() + 10
        while link.link_status().state is not Connectivity.ONLINE:
            assert time.monotonic() < deadline, link.link_status()
            time.sleep(0.05)
        assert (tmp_path / "kiosk" / "device-secret").stat().st_mode & 0o077 == 0
        assert kiosk.store.terminal_row() is not None
    finally:
        kiosk.close()


def test_a_copied_database_stops_the_kiosk_with_the_re_enrolment_message(
    tmp_path: Path, platform_server: PlatformServer
) -> None:
    original, copy = tmp_path / "original", tmp_path / "copy"
    build_kiosk(load_config(_config(original, platform_server))).close()
    copy.mkdir()
    for path in original.glob("kiosk.sqlite*"):
        shutil.copy2(path, copy / path.name)
    with pytest.raises(ReEnrolmentNeeded):
        build_kiosk(load_config(_config(copy, platform_server)))

    env = {
        **os.environ,
        "KIOSK_DATA_DIR": str(copy),
        "KIOSK_PLATFORM_URL": platform_server.base_url,
    }
    run = subprocess.run([sys.executable, "-m", "ui"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert run.returncode == 3
    message = CATALOGUE["error.terminal.reenrol"]
    assert message.ja in run.stderr and message.en in run.stderr


def test_kioskctl_enrol_replace_is_the_way_out(
    tmp_path: Path, platform_server: PlatformServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from ui.cli import main

    original, copy = tmp_path / "original", tmp_path / "copy"
    build_kiosk(load_config(_config(original, platform_server))).close()
    copy.mkdir()
    for path in original.glob("kiosk.sqlite*"):
        shutil.copy2(path, copy / path.name)
    monkeypatch.setenv("KIOSK_DATA_DIR", str(copy))
    monkeypatch.setenv("KIOSK_PLATFORM_URL", platform_server.base_url)
    monkeypatch.setenv("KIOSK_TERMINAL_PASSWORD", DEMO_TERMINAL.password)
    assert main(["enrol"]) == 3  # the technician must say --replace: it discards credentials
    assert CATALOGUE["error.terminal.reenrol"].en in capsys.readouterr().err
    assert main(["enrol", "--replace"]) == 0
    kiosk = build_kiosk(load_config(_config(copy, platform_server)))  # no longer refused
    try:
        assert kiosk.platform.status().state is DeviceState.OK  # signs in with what was sealed
    finally:
        kiosk.close()


def test_kioskctl_enrol_reads_the_password_from_stdin_and_seals_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from sync.credentials import unlock
    from sync.fingerprint import board_fingerprint
    from sync.store import LocalStore
    from ui.cli import main

    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KIOSK_TERMINAL_PASSWORD", "")  # nothing in the configuration file
    monkeypatch.setattr("sys.stdin", io.StringIO("form-II-password\n"))
    assert main(["enrol", "--password-stdin"]) == 0
    with LocalStore(tmp_path / "kiosk.sqlite") as store:
        identity = unlock(store, tmp_path / "device-secret", board_fingerprint())
    assert identity is not None and identity.password == "form-II-password"
    for path in tmp_path.glob("kiosk.sqlite*"):  # the file and its WAL
        assert b"form-II-password" not in path.read_bytes(), path


def test_a_fresh_kiosk_without_a_password_needs_setup_and_the_wizard_finishes_it(
    tmp_path: Path, platform_server: PlatformServer
) -> None:
    from tests.sync.test_registration import GOOD

    terminal = platform_server.add_terminal()  # on the ministry's list, not registered yet
    config = load_config(
        {"data_dir": str(tmp_path), "platform_url": platform_server.base_url,
         "terminal_id": terminal.terminal_id}
    )  # fmt: skip
    assert config.terminal_password == ""  # the default: nobody's password
    kiosk = build_kiosk(config)
    try:
        assert kiosk.needs_setup and kiosk.store.terminal_row() is None
        with pytest.raises(SetupNeeded) as info:
            kiosk.platform.issuers()  # nothing is sent without a password
        assert info.value.key == "error.terminal.setup"
        assert CATALOGUE[info.value.key].ja and CATALOGUE[info.value.key].en
        assert kiosk.link is not None
        deadline = time.monotonic() + 10
        while kiosk.link.link_status().state is not Connectivity.REJECTED:  # not "online"
            assert time.monotonic() < deadline, kiosk.link.link_status()
            time.sleep(0.05)
        assert kiosk.registrar is not None
        kiosk.registrar.register_terminal(terminal.terminal_id, terminal.password, GOOD)
        assert kiosk.store.terminal_row() is not None
        assert [i.issuer_id for i in kiosk.platform.issuers()] == ["000001"]  # no restart
    finally:
        kiosk.close()
    again = build_kiosk(config)  # the next start unlocks what the wizard sealed
    try:
        assert not again.needs_setup
        assert again.platform.status().state is DeviceState.OK
    finally:
        again.close()


def test_only_the_embedded_demo_has_a_password_by_default(tmp_path: Path) -> None:
    from ui.wiring import DEMO_TERMINAL_ID, DEMO_TERMINAL_PASSWORD, terminal_password

    assert (DEMO_TERMINAL_ID, DEMO_TERMINAL_PASSWORD) == tuple(DEMO_TERMINAL)  # server.demo's
    demo = load_config({"data_dir": str(tmp_path)})
    assert demo.terminal_password == "" and terminal_password(demo) == DEMO_TERMINAL.password
    real = load_config({"data_dir": str(tmp_path), "platform_url": "https://platform.example"})
    assert terminal_password(real) == ""
    other = load_config({"data_dir": str(tmp_path), "terminal_id": "12345678"})
    assert terminal_password(other) == ""  # the demo's password belongs to the demo terminal
    mine = load_config({"data_dir": str(tmp_path), "terminal_password": "pw"})
    assert terminal_password(mine) == "pw"

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
from appliance.errors import ReEnrolmentNeeded
from appliance.messages import CATALOGUE
from appliance.ports import Connectivity, DeviceState, PlatformLink
from tests.support.platform import REPO, PlatformServer
from ui.wiring import build_kiosk


def _config(data_dir: Path, server: PlatformServer) -> dict[str, object]:
    return {"data_dir": str(data_dir), "platform_url": server.base_url}


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

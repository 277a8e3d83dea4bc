"""The provisioning file's validator and importer on the shipped good and bad samples."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import ssl
import stat
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ProvisioningError
from appliance.provision import validate
from sync.credentials import open_terminal, unlock
from sync.devicesecret import adopt_inherited_secret, secret_path
from sync.fingerprint import board_fingerprint
from sync.store import LocalStore
from sync.tls import ca_path, platform_verify
from tests.support.unprivileged import run_as
from ui import provisioning
from ui.cli import main
from ui.settings import read_settings

SAMPLES = Path(__file__).parents[2] / "image" / "provision" / "samples"
PROVISION = SAMPLES.parent


def _problems(name: str) -> list[str]:
    with pytest.raises(ProvisioningError) as caught:
        provisioning.check(SAMPLES / name)
    return caught.value.problems


@pytest.mark.parametrize(
    "path",
    [SAMPLES / "good-https.toml", SAMPLES / "good-ca-file.toml", PROVISION / "smoke.toml"],
    ids=lambda p: p.name,
)
def test_good_samples_pass_and_make_a_valid_kiosk_config(path: Path) -> None:
    plan = provisioning.check(path)
    assert plan.terminal_id == "00052459" and plan.issuer == "000001"
    config = load_config({"data_dir": "/var/lib/kiosk/data", **plan.kiosk_settings()})
    assert config.platform_url == plan.platform_url and config.card_reader == "pcsc"
    if plan.platform_url.startswith("https://"):
        assert plan.platform_ca_pem.startswith("-----BEGIN CERTIFICATE-----")


def test_every_problem_is_reported_at_once_in_both_languages() -> None:
    problems = _problems("bad-everything.toml")
    where = [p.split(":", 1)[0] for p in problems]
    for expected in (
        "terminal.id",
        "terminal.password",
        "platform.url",
        "platform.ca_pem",
        "library.isuer",
        "library.issuer",
        "printer.kind",
        "printer.paper_width_dots",
        "wifi.country",
        "wifi.ssid",
        "wifi.psk",
        "[extras]",
    ):
        assert expected in where, (expected, problems)
    assert any("did you mean 'issuer'" in p for p in problems)
    for p in problems:
        ja, en = p.split(" / ", 1)
        assert any(ord(ch) > 0x3000 for ch in ja), p  # a Japanese sentence
        assert en.isascii() or "'" in en, p


def test_a_toml_syntax_error_is_one_clear_problem() -> None:
    (problem,) = _problems("bad-syntax.toml")
    assert "not valid TOML" in problem and "line 3" in problem


def test_missing_sections_and_a_missing_ca_file() -> None:
    where = {p.split(":", 1)[0] for p in _problems("bad-missing.toml")}
    assert {"[terminal]", "[library]", "platform.ca_file"} <= where


def test_an_expired_ca_is_refused(tmp_path: Path) -> None:
    shutil.copy(SAMPLES / "expired-ca.pem", tmp_path / "sample-ca.pem")
    shutil.copy(SAMPLES / "good-ca-file.toml", tmp_path / "kiosk-provision.toml")
    with pytest.raises(ProvisioningError) as caught:
        provisioning.check(tmp_path / "kiosk-provision.toml")
    assert any("expired on 2021-01-01" in p for p in caught.value.problems)


def test_http_only_for_loopback_and_psk_rules() -> None:
    base = tomllib.loads((PROVISION / "smoke.toml").read_text())
    validate(base)
    remote = {**base, "platform": {"url": "http://10.0.0.5:8765"}}
    with pytest.raises(ProvisioningError, match="https://"):
        validate(remote)
    hexkey = {**base, "wifi": {"country": "JP", "ssid": "x", "psk": "ab" * 32}}
    assert validate(hexkey).wifi is not None


def test_import_writes_the_data_dir_and_wipes_the_fat_copy(tmp_path: Path) -> None:
    fat, data, system = tmp_path / "fat", tmp_path / "data", tmp_path / "system"
    fat.mkdir()
    source = fat / "kiosk-provision.toml"
    shutil.copy(SAMPLES / "good-https.toml", source)
    (fat / provisioning.ERROR_FILE).write_text("old error")
    rc = main(["provision", "--source", str(source), "--data-dir", str(data),
               "--system-dir", str(system)])  # fmt: skip
    assert rc == 0
    assert sorted(p.name for p in fat.iterdir()) == []  # file and stale error file gone
    settings = tomllib.loads((data / "kiosk.toml").read_text())
    assert settings["terminal_password"] == "" and settings["paper_width_dots"] == 576
    assert stat.S_IMODE((data / "kiosk.toml").stat().st_mode) == 0o600
    record = json.loads((data / "provisioned.json").read_text())
    assert record["issuer"] == "000001" and "a912lkfja" not in json.dumps(record)
    assert (data / "platform-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    wpa = (system / "wpa_supplicant-wlan0.conf").read_text()
    assert 'ssid="図書館-staff"' in wpa and "country=JP" in wpa
    # wpa_passphrase's answer for this SSID and passphrase: the derived key, not the passphrase
    psk = tomllib.loads(SAMPLES.joinpath("good-https.toml").read_text())["wifi"]["psk"]
    assert "psk=" + hashlib.pbkdf2_hmac("sha1", psk.encode(), "図書館-staff".encode(), 4096,
                                         32).hex() in wpa  # fmt: skip
    assert stat.S_IMODE((system / "wpa_supplicant-wlan0.conf").stat().st_mode) == 0o600


def test_a_bad_file_imports_nothing_and_leaves_an_error_file(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    fat, data = tmp_path / "fat", tmp_path / "data"
    fat.mkdir()
    source = fat / "kiosk-provision.toml"
    shutil.copy(SAMPLES / "bad-everything.toml", source)
    rc = main(["provision", "--source", str(source), "--data-dir", str(data)])
    assert rc == 2
    assert source.exists() and not data.exists()
    error = (fat / provisioning.ERROR_FILE).read_bytes().decode()
    shown = capsys.readouterr().out
    assert "\r\n" in error  # readable in Notepad on the technician's laptop
    for text in (error, shown):
        assert "kiosk-provision.toml に誤りがあります" in text and "has problems" in text
        assert "terminal.id" in text and "wifi.psk" in text and "[extras]" in text
    assert "change-me-now" not in error or "password" in error


def test_check_only_changes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "kiosk-provision.toml"
    shutil.copy(SAMPLES / "good-ca-file.toml", source)
    shutil.copy(SAMPLES / "sample-ca.pem", tmp_path / "sample-ca.pem")
    assert main(["provision", "--check", str(source)]) == 0
    assert source.exists() and not (tmp_path / provisioning.ERROR_FILE).exists()
    assert main(["provision", "--check", str(SAMPLES / "bad-syntax.toml")]) == 2


def _provision(tmp_path: Path, sample: str = "good-https.toml") -> tuple[Path, Path, str]:
    fat, data = tmp_path / "fat", tmp_path / "data"
    fat.mkdir(exist_ok=True)
    shutil.copy(SAMPLES / sample, fat / "kiosk-provision.toml")
    password = tomllib.loads((SAMPLES / sample).read_text())["terminal"]["password"]
    rc = main(["provision", "--source", str(fat / "kiosk-provision.toml"), "--data-dir",
               str(data), "--system-dir", str(tmp_path / "system")])  # fmt: skip
    assert rc == 0
    return fat, data, password


def _files(root: Path) -> Iterator[Path]:
    return (p for p in root.rglob("*") if p.is_file())


def test_the_password_is_sealed_in_the_store_and_in_no_file_in_clear(tmp_path: Path) -> None:
    fat, data, password = _provision(tmp_path)
    assert list(fat.iterdir()) == []  # overwritten and deleted
    wifi = tomllib.loads((SAMPLES / "good-https.toml").read_text())["wifi"]["psk"]
    seen = list(_files(tmp_path))
    assert data / "kiosk.sqlite" in seen and data / "device-secret" in seen
    for path in seen:  # the store, its journal, the secret, settings, record, Wi-Fi config
        blob = path.read_bytes()
        assert password.encode() not in blob, path
        assert wifi.encode() not in blob, path
    secret = data / "device-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    with LocalStore(data / "kiosk.sqlite") as store:
        identity = unlock(store, secret, board_fingerprint())
    assert identity is not None
    assert (identity.terminal_id, identity.password) == ("00052459", password)


def test_the_kiosk_starts_from_the_sealed_store(tmp_path: Path) -> None:
    """What ui/wiring.build_kiosk does at start-up with the imported settings file."""
    _, data, password = _provision(tmp_path)
    # as /etc/default/kiosk on the image gives it to kiosk.service
    config = read_settings(None, env={"KIOSK_CONFIG": str(data / "kiosk.toml"),
                                      "KIOSK_DATA_DIR": str(data)})  # fmt: skip
    assert config.terminal_password == "" and config.platform_url.startswith("https://")
    with LocalStore(data / "kiosk.sqlite") as store:
        identity = open_terminal(
            store,
            secret_path(config.device_secret, data),
            board_fingerprint(),
            terminal_id=config.terminal_id,
            password=config.terminal_password,
        )
    assert identity.password == password and identity.terminal_id == config.terminal_id


def test_the_platform_ca_is_a_setting_relative_to_the_data_dir(tmp_path: Path) -> None:
    _, data, _ = _provision(tmp_path)
    settings = tomllib.loads((data / "kiosk.toml").read_text())
    assert (data / "platform-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert settings["platform_ca"] == "platform-ca.pem"
    config = read_settings(str(data / "kiosk.toml"), env={})
    # what the platform client verifies TLS against: the imported CA, found in the data dir
    assert ca_path(config.platform_ca, data) == data / "platform-ca.pem"
    assert platform_verify(config.platform_ca, data).verify_mode == ssl.CERT_REQUIRED


def test_a_second_import_replaces_the_enrolment(tmp_path: Path) -> None:
    _, data, _ = _provision(tmp_path)
    fat = tmp_path / "fat"
    text = (SAMPLES / "good-https.toml").read_text().replace('"a912lkfja"', '"new-pass-2026"')
    assert "new-pass-2026" in text
    (fat / "kiosk-provision.toml").write_text(text)
    assert main(["provision", "--source", str(fat / "kiosk-provision.toml"),
                 "--data-dir", str(data)]) == 0  # fmt: skip
    with LocalStore(data / "kiosk.sqlite") as store:
        identity = unlock(store, data / "device-secret", board_fingerprint())
    assert identity is not None and identity.password == "new-pass-2026"


def test_an_unusable_device_secret_imports_nothing_and_says_why(tmp_path: Path) -> None:
    fat, data = tmp_path / "fat", tmp_path / "data"
    fat.mkdir()
    data.mkdir()
    (data / "device-secret").write_bytes(b"short")  # another tool's leftover, not ours to replace
    shutil.copy(SAMPLES / "good-https.toml", fat / "kiosk-provision.toml")
    assert main(["provision", "--source", str(fat / "kiosk-provision.toml"),
                 "--data-dir", str(data)]) == 2  # fmt: skip
    error = (fat / provisioning.ERROR_FILE).read_text()
    assert "device secret" in error and (fat / "kiosk-provision.toml").exists()
    assert not (data / "kiosk.toml").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="sealing as another user needs root (CI is root)")
def test_as_root_the_secret_is_roots_and_the_store_the_kiosk_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On the image: kiosk-provision.service runs as root with /etc/default/kiosk's root-only
    KIOSK_DEVICE_SECRET, the kiosk as an unprivileged user that gets the secret on a descriptor
    (kiosk-login) and writes its own store."""
    user = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="kiosk-provision-"))
    try:
        base.chmod(0o755)  # nobody must reach the data folder
        (base / "fat").mkdir()
        shutil.copy(SAMPLES / "good-https.toml", base / "fat" / "kiosk-provision.toml")
        data, system = base / "data", base / "system"
        system.mkdir(mode=0o700)  # as customize.sh makes /var/lib/kiosk/system
        secret = system / "device-secret"
        monkeypatch.setenv("KIOSK_DEVICE_SECRET", str(secret))
        assert main(["provision", "--source", str(base / "fat" / "kiosk-provision.toml"),
                     "--data-dir", str(data), "--owner", "nobody"]) == 0  # fmt: skip
        for name in ("kiosk.sqlite", "kiosk.toml", "provisioned.json"):
            assert (data / name).stat().st_uid == user.pw_uid, name
        assert (secret.stat().st_uid, stat.S_IMODE(secret.stat().st_mode)) == (0, 0o600)
        assert not (data / "device-secret").exists()
        assert os.geteuid() == 0  # the effective IDs were given back
        settings = tomllib.loads((data / "kiosk.toml").read_text())
        assert settings["device_secret"] == str(secret)  # root's kioskctl on a shell finds it
        with LocalStore(data / "kiosk.sqlite") as store:  # root: by the path
            identity = unlock(store, secret, board_fingerprint())
        assert identity is not None and identity.password == "a912lkfja"
        fd = os.open(secret, os.O_RDONLY)

        def kiosk() -> list[str]:  # as kiosk-login starts it: the descriptor, not the file
            denied = not os.access(secret, os.R_OK)
            env = {"KIOSK_DEVICE_SECRET_FD": str(fd), "KIOSK_DEVICE_SECRET": str(secret)}
            adopt_inherited_secret(env)
            config = read_settings(str(data / "kiosk.toml"), env={"KIOSK_DATA_DIR": str(data)})
            with LocalStore(data / "kiosk.sqlite") as store:
                found = open_terminal(store, secret_path(config.device_secret, data),
                                      board_fingerprint(), terminal_id=config.terminal_id,
                                      password=config.terminal_password)  # fmt: skip
            assert found is not None
            return [str(denied), found.terminal_id, found.password]

        try:
            assert run_as("nobody", kiosk) == ["True", "00052459", "a912lkfja"]
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(base)

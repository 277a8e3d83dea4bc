"""The provisioning file's validator and importer on the shipped good and bad samples."""

from __future__ import annotations

import json
import shutil
import stat
import tomllib
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.errors import ProvisioningError
from appliance.provision import validate
from ui import provisioning
from ui.cli import main

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
    assert settings["terminal_password"] == "a912lkfja" and settings["paper_width_dots"] == 576
    assert stat.S_IMODE((data / "kiosk.toml").stat().st_mode) == 0o600
    record = json.loads((data / "provisioned.json").read_text())
    assert record["issuer"] == "000001" and "a912lkfja" not in json.dumps(record)
    assert (data / "platform-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    wpa = (system / "wpa_supplicant-wlan0.conf").read_text()
    assert 'ssid="図書館-staff"' in wpa and "country=JP" in wpa
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

"""``kioskctl offline ...``: the crew's commands, run as the CLI runs them (in-process here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.demo import demo_card_number
from tests.offline.conftest import OFFLINE_SETTINGS, Plug
from ui.cli import main

HEADER = "Version=1.0\tGenerator=koct-firefox\tGeneratorVersion=0.1"


def test_prepare_tap_resolve_export_confirm(
    tmp_path: Path, plug: Plug, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "kiosk"))
    monkeypatch.setenv("KIOSK_PLATFORM_URL", plug.base_url)
    for key, value in OFFLINE_SETTINGS.items():
        monkeypatch.setenv(f"KIOSK_{key.upper()}", value)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["offline", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    assert run("tap", "--citizen", "1", "--pin", "1234")[0] == 1  # not prepared yet
    code, out, _ = run("prepare")
    assert code == 0 and "1 CA certificate(s)" in out
    code, out, _ = run("tap", "--citizen", "1", "--pin", "1234")
    assert code == 0 and out.strip().endswith(".bin")
    code, _, err = run("tap", "--citizen", "2", "--pin", "0000")
    assert code == 1 and "Wrong PIN" in err
    code, out, _ = run("status")
    assert code == 0 and "1 pending · 0 resolved" in out
    code, out, _ = run("resolve")
    assert code == 0 and "1 resolved (0 still pending)" in out

    bad = tmp_path / "bad.koc"
    bad.write_text(f"{HEADER}\nnot a line\n", encoding="utf-8")
    usb = tmp_path / "usb"
    code, _, err = run("export", "--out", str(usb), "--koc", str(bad))
    assert code == 1 and "line 2:" in err and not usb.exists()
    code, out, _ = run("export", "--out", str(usb), "--stem", "day")
    assert code == 0 and (usb / "day.csv").exists()
    assert demo_card_number(1) in (usb / "day.csv").read_text(encoding="utf-8")
    assert demo_card_number(1) not in out
    code, out, _ = run("confirm")
    assert code == 0 and "1 record(s) deleted" in out

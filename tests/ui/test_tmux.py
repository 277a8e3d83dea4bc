"""The real kiosk app in a real terminal (tmux), driven by keystrokes like a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest


def _tmux(*args: str) -> str:
    out = subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=30)
    return out.stdout


def _wait_for(session: str, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; last screen:\n{screen}")


@pytest.mark.parametrize("term", ["xterm-256color", "linux"])
def test_a_patron_gets_a_label_in_the_real_app(tmp_path: Path, term: str) -> None:
    assert shutil.which("tmux"), "tmux is installed by `make test`"
    session = f"kiosk-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "KIOSK_DATA_DIR": str(tmp_path), "TERM": term}
    command = f"{sys.executable} -m ui"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "110", "-y", "32", command],
        check=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=30,
    )  # fmt: skip
    try:
        _wait_for(session, "Tap your My Number Card")
        _tmux("send-keys", "-t", session, "3")
        _wait_for(session, "Enter your 4-digit")
        _tmux("send-keys", "-t", session, "0", "0", "0", "0", "Enter")
        screen = _wait_for(session, "Please take your label")
        assert "0000" not in screen  # the PIN never shows
        labels = sorted(p.suffix for p in (tmp_path / "labels").iterdir())
        assert labels == [".bin", ".png"]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=30)

"""The clock-sync adapter and the flow's refusal of dated labels before NTP sync (issue 7)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from appliance.errors import ClockNotSynchronised
from appliance.messages import bilingual
from drivers.clock import AssumeSynced, TimesyncClock
from tests.appliance.test_flow import _flow
from ui.sdnotify import notify, ping_interval


def test_timesync_flag_file_decides(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    clock = TimesyncClock(flag, ask_timedatectl=False)
    assert not clock.synchronised() and clock.status().state.value == "fault"
    flag.touch()
    assert clock.synchronised() and clock.status().state.value == "ok"
    assert AssumeSynced().synchronised()


def test_the_flow_refuses_before_touching_the_card(tmp_path: Path) -> None:
    flow, parts, reader, deck = _flow()
    flag = tmp_path / "synchronized"
    flow._clock_sync = TimesyncClock(flag, ask_timedatectl=False)
    reader.slot.insert(deck.card(1))
    with pytest.raises(ClockNotSynchronised) as caught:
        flow.begin(1)
    assert "時計" in bilingual(caught.value.key) and "clock" in bilingual(caught.value.key)
    assert parts["printer"].jobs == []
    flag.touch()  # what timesyncd does on its first NTP answer
    flow.begin(1)  # the card is read now: the gate was the only thing in the way


def test_sd_notify_datagrams(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        assert notify("READY=1", {"NOTIFY_SOCKET": path})
        assert server.recv(64) == b"READY=1"
    assert not notify("READY=1", {})
    assert ping_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert ping_interval({}) == 10.0

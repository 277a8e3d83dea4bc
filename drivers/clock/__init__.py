"""Clock-sync adapters for :class:`appliance.ports.ClockSync` (image, issue 7).

The Raspberry Pi has no real-time clock: after a power cut it boots with the image's build date
(timesyncd's saved clock lives in RAM on the read-only root) until NTP answers. A same-day label
printed then would carry the wrong date, so the flow asks this port first.

``TimesyncClock`` reads ``/run/systemd/timesync/synchronized``, which systemd-timesyncd creates
(systemd >= 250) when it has synchronised the clock and which vanishes with /run at reboot; where
that file is missing it can fall back to ``timedatectl show -p NTPSynchronized --value`` (the
kernel's NTP status, needs D-Bus and timedated). ``AssumeSynced`` is for development machines
(``require_clock_sync = false``, the default outside the image).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from appliance.ports import DeviceState, DeviceStatus

TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")


class TimesyncClock:
    def __init__(self, flag: Path = TIMESYNC_FLAG, *, ask_timedatectl: bool = True) -> None:
        self._flag = flag
        self._ask = ask_timedatectl

    def synchronised(self) -> bool:
        if self._flag.exists():
            return True
        if not self._ask:
            return False
        try:
            out = subprocess.run(
                ["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                capture_output=True, text=True, timeout=3, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return False
        return out.returncode == 0 and out.stdout.strip() == "yes"

    def status(self) -> DeviceStatus:
        if self.synchronised():
            return DeviceStatus("clock", DeviceState.OK, "NTP-synchronised")
        return DeviceStatus("clock", DeviceState.FAULT, "not NTP-synchronised: labels refused")


class AssumeSynced:
    """Development machines: their clock is someone else's business."""

    def synchronised(self) -> bool:
        return True

    def status(self) -> DeviceStatus:
        return DeviceStatus("clock", DeviceState.UNKNOWN, "not checked (require_clock_sync off)")

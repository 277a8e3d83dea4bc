"""The board fingerprint the platform binds a terminal ID to.

The seed's terminals send a 32-byte SHA-256 over hardware identifiers (Windows: CPU serial,
board serial, two OS-generated values), so that a terminal ID and password copied to another
machine do not work, and replacing a broken PC means registering again. On the kiosk's board:

============================================  ==============================================
source                                        what it is
============================================  ==============================================
``/proc/cpuinfo`` ``Serial`` line              SoC serial (Raspberry Pi and most ARM boards)
``/sys/firmware/devicetree/base/serial-number``  the same serial from the device tree
``/etc/machine-id``                            OS-generated at first boot (the image must ship
                                              it empty, or every kiosk shares one)
============================================  ==============================================

A missing source counts as empty, so a PC without a device tree still has a stable value. The
fingerprint identifies the *machine*, not a person; it is still not the key for secrets at rest
(ARCHITECTURE.md: that key comes from a root-only random device secret).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
DT_SERIAL = Path("/sys/firmware/devicetree/base/serial-number")
MACHINE_ID = Path("/etc/machine-id")
_DOMAIN = b"mykey-kiosk board fingerprint v1\n"


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("ascii", "replace").strip("\0 \t\r\n")
    except OSError:
        return ""


def _cpu_serial(cpuinfo: Path) -> str:
    for line in _read(cpuinfo).splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "serial":
            return value.strip()
    return ""


def board_fingerprint(
    cpuinfo: Path = CPUINFO, dt_serial: Path = DT_SERIAL, machine_id: Path = MACHINE_ID
) -> str:
    """64 lower-case hex characters: SHA-256 over the labelled identifiers above."""
    h = hashlib.sha256(_DOMAIN)
    for label, value in (
        ("cpu-serial", _cpu_serial(cpuinfo)),
        ("dt-serial", _read(dt_serial)),
        ("machine-id", _read(machine_id)),
    ):
        h.update(f"{label}={value}\n".encode())
    return h.hexdigest()

"""systemd's notify protocol, for ``kiosk.service`` (``Type=notify``, ``WatchdogSec=``).

The kiosk sends ``READY=1`` once its first screen is mounted and ``WATCHDOG=1`` from a timer on
the Textual event loop, so systemd restarts a kiosk whose UI loop hangs, not only one that exits.
Outside systemd (``make run``, tests) ``NOTIFY_SOCKET`` is unset and every call is a no-op.

The app runs under kmscon and runuser, so it is not the unit's main PID: the unit says
``NotifyAccess=all``, and ``WATCHDOG_PID`` (kmscon's) is deliberately not checked here.
"""

from __future__ import annotations

import os
import socket

DEFAULT_PING_S = 10.0


def notify(message: str, env: dict[str, str] | None = None) -> bool:
    """Send one notify datagram; ``False`` where there is no systemd to tell (or it is gone)."""
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def ping_interval(env: dict[str, str] | None = None) -> float:
    """Seconds between watchdog pings: half of ``WATCHDOG_USEC``, as sd_watchdog_enabled advises."""
    raw = (os.environ if env is None else env).get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return DEFAULT_PING_S
    return max(0.5, usec / 2e6) if usec > 0 else DEFAULT_PING_S

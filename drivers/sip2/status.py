"""The gateway's state for the technician: counts only, never a number.

``kioskctl doctor`` runs in another process than the gateway, so the gateway writes a small JSON
status file now and then (and when it stops); :func:`read_status_file` turns it into a doctor line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from pathlib import Path

from appliance.ports import DeviceState, DeviceStatus
from appliance.sip2 import GatewayStatus

log = logging.getLogger(__name__)
PART = "sip2-gateway"


def write_status_file(path: str | Path, status: GatewayStatus) -> None:
    data = dataclasses.asdict(status)
    data["written_at"] = time.time()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("status file %s: %s", path, exc.strerror)


def device_status(status: GatewayStatus) -> DeviceStatus:
    """One ``kioskctl doctor`` line for the gateway."""
    if status.upstream_reachable is False:
        state = DeviceState.FAULT
    elif status.upstream_reachable is None:
        state = DeviceState.UNKNOWN
    else:
        state = DeviceState.OK
    return DeviceStatus(PART, state, status.summary())


def read_status_file(path: str | Path, *, max_age_s: float = 120.0) -> DeviceStatus:
    """The running gateway's state from its status file (``kioskctl doctor`` in another process)."""
    try:
        data = json.loads(Path(path).read_text())
        written_at = float(data.pop("written_at"))
        status = GatewayStatus(**data)
    except FileNotFoundError:
        return DeviceStatus(PART, DeviceState.UNKNOWN, "not running (no status file)")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        return DeviceStatus(PART, DeviceState.WARNING, f"status file unreadable: {exc}")
    age = time.time() - written_at
    if age > max_age_s:
        return DeviceStatus(
            PART, DeviceState.WARNING, f"status {age:.0f} s old: is the gateway running?"
        )
    return device_status(status)

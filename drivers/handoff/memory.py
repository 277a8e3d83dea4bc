"""The shipped fake of method C: remembers what it would have typed (unit tests, demo)."""

from __future__ import annotations

from appliance.errors import HandoffError
from appliance.ports import DeviceState, DeviceStatus


class MemoryHandoff:
    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send(self, text: str) -> None:
        if self.fail:
            raise HandoffError("memory hand-over told to fail")
        self.sent.append(text)

    def status(self) -> DeviceStatus:
        return DeviceStatus("hand-over (memory)", DeviceState.OK, f"{len(self.sent)} sent")

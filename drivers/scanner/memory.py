"""The shipped fake barcode reader: a test (or the demo) pushes what a scan would have sent."""

from __future__ import annotations

import queue

from appliance.errors import ScannerError
from appliance.ports import DeviceState, DeviceStatus


class MemoryScanner:
    def __init__(self) -> None:
        self._codes: queue.Queue[str | ScannerError] = queue.Queue()
        self.closed = False

    def push(self, code: str) -> None:
        self._codes.put(code)

    def fail(self, detail: str = "memory scanner told to fail") -> None:
        self._codes.put(ScannerError(detail))

    def read(self, timeout: float) -> str | None:
        try:
            code = self._codes.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(code, ScannerError):
            raise code
        return code

    def status(self) -> DeviceStatus:
        return DeviceStatus("barcode reader (memory)", DeviceState.OK, "in memory")

    def close(self) -> None:
        self.closed = True

"""A kiosk process that only resolves: ``python -m tests.offline._resolver DATA_DIR URL``.

The kill -9 test starts it again and again and kills it mid-resolution. It builds just the
resolution path (the kiosk's client, offline store and API, as ``ui.offline_wiring`` does) so
that each start costs little on a shared machine.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from appliance.values import LookupMatch
from server.demo import DEMO_TERMINAL
from sync.client import PlatformClient
from sync.fingerprint import board_fingerprint
from sync.offline import Assertion, OfflineApi, OfflineStore


class SlowLinkApi(OfflineApi):
    """A slow mobile link: each answer arrives 5-30 ms after the platform committed it.

    That gap (platform committed, kiosk not yet written) is where a kill hurts most; on a fast
    machine the whole resolution could otherwise finish between two polls of the test, and the
    test would prove nothing.
    """

    def send(self, key: str, assertion: Assertion) -> list[LookupMatch]:
        answer = super().send(key, assertion)
        time.sleep(random.uniform(0.005, 0.03))
        return answer


def main(data_dir: str, url: str) -> int:
    store = OfflineStore(Path(data_dir) / "offline.sqlite", Path(data_dir) / "device-secret")
    client = PlatformClient(
        url, DEMO_TERMINAL.terminal_id, DEMO_TERMINAL.password, board_fingerprint()
    )
    try:
        return 0 if store.resolve(SlowLinkApi(client)).pending == 0 else 3
    finally:
        client.close()
        store.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

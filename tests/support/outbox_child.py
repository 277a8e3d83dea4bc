"""The kiosk half of the kill -9 test (tests/sync/test_kill.py), run in a forked child.

It is what the kiosk does all day, compressed: record events through the flusher (which wakes
its background thread to deliver them) with short random pauses, until the test kills it with
SIGKILL at a random moment. Nothing here cleans up on purpose: the point is that nothing needs to.
The module is preloaded by a ``forkserver``, so each child starts in milliseconds.
"""

from __future__ import annotations

import random
import time
import uuid

import httpx

from sync.client import PlatformClient, RetryPolicy
from sync.flusher import FlushPolicy, OutboxFlusher
from sync.store import LocalStore

FAST = FlushPolicy(interval_s=0.01, backoff_initial_s=0.01, backoff_max_s=0.05, heartbeat_s=3600)
QUICK_RETRIES = RetryPolicy(attempts=3, wait_initial_s=0.005, wait_max_s=0.02, timeout_s=1.0)


_transport: httpx.HTTPTransport | None = None  # made once in the zygote, before any fork


def client(base_url: str, terminal_id: str, password: str, fingerprint: str) -> PlatformClient:
    """The kiosk's client. In a child it reuses the zygote's transport: a real socket transport
    without a connection yet, made before the fork because building its TLS context takes
    ~0.2 s, which would otherwise be most of a child's short life."""
    return PlatformClient(base_url, terminal_id, password, fingerprint, timeout=1.0,
                          transport=_transport, retry=QUICK_RETRIES)  # fmt: skip


def run(db: str, base_url: str, terminal_id: str, password: str, fingerprint: str) -> None:
    """Fill and flush the outbox until killed (or for 30 s, should the test forget us)."""
    store = LocalStore(db)
    flusher = OutboxFlusher(store, client(base_url, terminal_id, password, fingerprint), FAST)
    flusher.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        flusher.record("label_printed", issuer_id="000001", u=uuid.uuid4().hex)
        time.sleep(random.uniform(0.05, 0.25))  # a busy kiosk, not a disk benchmark


def zygote() -> None:
    """Fork children on request, so that each starts with every module already imported.

    Line protocol on stdin/stdout: ``fork ARGS-AS-JSON`` -> the child's pid (the child runs
    :func:`run` with those arguments); ``wait PID`` -> its wait status. The zygote itself runs
    no threads, so forking it is safe.
    """
    import json
    import os
    import sys

    global _transport
    _transport = httpx.HTTPTransport()
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        if command == "fork":
            args = json.loads(rest)
            pid = os.fork()
            if pid == 0:
                try:
                    run(*args)
                finally:
                    os._exit(0)
            print(pid, flush=True)
        elif command == "wait":
            _, status = os.waitpid(int(rest), 0)
            print(status, flush=True)


if __name__ == "__main__":
    zygote()

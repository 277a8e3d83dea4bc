"""The outbox delivered in the background, and the connectivity the UI shows.

:class:`OutboxFlusher` is one daemon thread: it flushes :class:`sync.store.LocalStore` through the
platform client, then sleeps; it wakes early when an event is recorded (:meth:`record` is the
``Outbox`` port, so the flow's events leave at once when the platform is up). Between failed
rounds it backs off exponentially (with jitter, capped), so a kiosk whose platform is down does
not hammer it, and a refused terminal (rate-limited sign-ins on the platform) waits the longest.
When nothing is pending for a while it records a ``heartbeat`` event, so the platform sees the
kiosk alive and the kiosk's own state is never older than ``heartbeat_s``.

The state is a :class:`appliance.ports.Connectivity` in a :class:`appliance.ports.LinkStatus`
(the ``PlatformLink`` port); the UI reads it from its own loop without blocking: it is a field
read under a lock, never a network call.

Events are never lost or doubled by this class: each keeps the idempotency key it got when it was
recorded (:mod:`sync.store`), so a round cut short (timeout, ``kill -9``, power cut) is simply
repeated by the next one.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from appliance.errors import (
    PlatformCertificateRejected,
    PlatformUnreachable,
    SetupNeeded,
    SyncError,
    TerminalRejected,
)
from appliance.ports import Connectivity, LinkStatus
from sync.store import EventSink, LocalStore

log = logging.getLogger(__name__)

# Refusals no wait can cure (a refused or not-yet-enrolled terminal, a platform certificate
# that is not the configured CA's): shown as "rejected", retried at the longest interval.
_NEEDS_A_TECHNICIAN = (TerminalRejected, SetupNeeded, PlatformCertificateRejected)


@dataclass(frozen=True)
class FlushPolicy:
    """Timing of the background delivery; every value in seconds."""

    interval_s: float = 15.0  # between rounds while the platform answers
    backoff_initial_s: float = 2.0  # after the first failed round; doubles per failure
    backoff_max_s: float = 120.0  # never longer than this between attempts
    heartbeat_s: float = 300.0  # a heartbeat event after this long without contact


class _Watch:
    """Passes events on to the real sink and remembers how the last attempt ended."""

    def __init__(self, sink: EventSink) -> None:
        self.sink = sink
        self.failure: SyncError | None = None
        self.delivered = 0

    def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None:
        try:
            self.sink.send_event(key, kind, fields)
        except SyncError as exc:
            self.failure = exc
            raise
        self.failure = None
        self.delivered += 1


class OutboxFlusher:
    """Background delivery of ``store``'s outbox to ``sink`` (the platform client)."""

    def __init__(
        self,
        store: LocalStore,
        sink: EventSink,
        policy: FlushPolicy = FlushPolicy(),  # frozen: one default shared on purpose
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._sink = sink
        self._policy = policy
        self._clock = clock
        self._state = Connectivity.CONNECTING
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._last_contact: float | None = None

    # -- the Outbox and PlatformLink ports -----------------------------------------------------

    def record(self, kind: str, **fields: str | int) -> None:
        """Queue an event durably, then wake the flusher to deliver it now."""
        self._store.record(kind, **fields)
        self._wake.set()

    def link_status(self) -> LinkStatus:
        with self._lock:
            state = self._state
        try:
            pending = self._store.pending_count()
        except SyncError:
            pending = -1  # the store itself is failing; the doctor says why
        return LinkStatus(state, pending)

    # -- the thread ----------------------------------------------------------------------------

    def start(self) -> OutboxFlusher:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-flusher", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end after its current attempt, and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def nudge(self) -> None:
        """Deliver now rather than at the next interval (e.g. the network came back)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.flush_once()
            except Exception:  # the thread must outlive any bug: log it and back off
                log.exception("outbox: flush round failed")
                self._failures += 1
            self._wake.wait(self.next_wait())
            self._wake.clear()

    # -- one round (the thread's body; tests call it directly) ---------------------------------

    def flush_once(self) -> Connectivity:
        """One delivery round: heartbeat if due, flush, update the state; returns it."""
        now = self._clock()
        since = None if self._last_contact is None else now - self._last_contact
        if (since is None or since >= self._policy.heartbeat_s) and not self._store.pending_count():
            self._store.record("heartbeat")
        watch = _Watch(self._sink)
        self._store.flush(watch)
        failure = watch.failure
        if isinstance(failure, _NEEDS_A_TECHNICIAN):
            state = Connectivity.REJECTED
        elif isinstance(failure, PlatformUnreachable):
            state = Connectivity.OFFLINE
        else:  # delivered (an event refused for its content still means the platform answered)
            state = Connectivity.ONLINE
        if state is Connectivity.ONLINE:
            self._failures = 0
            self._last_contact = now
        else:
            self._failures += 1
        with self._lock:
            changed, self._state = self._state is not state, state
        if changed:
            log.info("platform link: %s", state.value)
        return state

    def next_wait(self) -> float:
        """Seconds until the next round: the interval when up, a capped, jittered backoff when
        not, and the longest wait for a refused terminal (its sign-ins are rate-limited)."""
        policy = self._policy
        with self._lock:
            state = self._state
        if self._failures == 0:
            return policy.interval_s
        if state is Connectivity.REJECTED:
            return policy.backoff_max_s
        base = policy.backoff_initial_s * 2.0 ** min(self._failures - 1, 30)
        return min(policy.backoff_max_s, base) * random.uniform(0.5, 1.0)


class FixedLink:
    """The shipped fake of ``PlatformLink``: a state the test or demo sets."""

    def __init__(self, state: Connectivity = Connectivity.ONLINE, pending: int = 0) -> None:
        self.status = LinkStatus(state, pending)

    def link_status(self) -> LinkStatus:
        return self.status

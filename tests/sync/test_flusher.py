"""The background outbox delivery and the connectivity state the UI shows."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from appliance.errors import MalformedReply, PlatformUnreachable
from appliance.ports import Connectivity, LinkStatus, Outbox, PlatformLink
from sync.client import PlatformClient
from sync.flusher import FixedLink, FlushPolicy, OutboxFlusher
from sync.store import LocalStore
from tests.support.platform import PlatformServer, fake_fingerprint
from ui.child import free_port

FAST = FlushPolicy(interval_s=0.05, backoff_initial_s=0.05, backoff_max_s=0.4, heartbeat_s=60)


class Sink:
    """Accepts, or fails every delivery with ``fail`` while it is set."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.fail: Exception | None = None

    def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(kind)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "kiosk.sqlite") as s:
        yield s


def _server_kinds(server: PlatformServer, terminal_id: str) -> list[str]:
    conn = sqlite3.connect(server.db_path)
    try:
        rows = conn.execute(
            "SELECT kind FROM events WHERE terminal_id = ? ORDER BY event_id", (terminal_id,)
        ).fetchall()
    finally:
        conn.close()
    return [kind for (kind,) in rows]


def _eventually(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_it_serves_the_outbox_and_platform_link_ports(store: LocalStore) -> None:
    flusher = OutboxFlusher(store, Sink())
    outbox: Outbox = flusher
    link: PlatformLink = flusher
    outbox.record("label_printed", issuer_id="000001")
    assert link.link_status() == LinkStatus(Connectivity.CONNECTING, 1)


def test_events_reach_the_real_platform_in_the_background(
    store: LocalStore, platform_client: PlatformClient, platform_server: PlatformServer
) -> None:
    flusher = OutboxFlusher(store, platform_client, FAST).start()
    try:
        flusher.record("label_printed", issuer_id="000001")
        flusher.record("printer_fault", code="paper_out")
        _eventually(lambda: flusher.link_status() == LinkStatus(Connectivity.ONLINE, 0))
    finally:
        flusher.stop()
    kinds = _server_kinds(platform_server, platform_client.terminal_id)
    assert kinds.count("label_printed") == 1 and kinds.count("printer_fault") == 1


def test_an_idle_kiosk_sends_a_heartbeat(
    store: LocalStore, platform_client: PlatformClient, platform_server: PlatformServer
) -> None:
    flusher = OutboxFlusher(store, platform_client, FAST)
    assert flusher.flush_once() is Connectivity.ONLINE
    assert flusher.flush_once() is Connectivity.ONLINE  # within heartbeat_s: no second one
    assert _server_kinds(platform_server, platform_client.terminal_id) == ["heartbeat"]


def test_an_unreachable_platform_is_offline_and_keeps_the_events(store: LocalStore) -> None:
    with PlatformClient(f"http://127.0.0.1:{free_port()}", "00000001", "pw",
                        fake_fingerprint(), timeout=1.0) as nowhere:  # fmt: skip
        flusher = OutboxFlusher(store, nowhere, FAST)
        flusher.record("label_printed", issuer_id="000001")
        assert flusher.flush_once() is Connectivity.OFFLINE
    assert flusher.link_status() == LinkStatus(Connectivity.OFFLINE, 1)


def test_a_refused_terminal_is_rejected(store: LocalStore, platform_server: PlatformServer) -> None:
    wrong = platform_server.add_terminal()._replace(password="wrong")
    with platform_server.client(wrong, fake_fingerprint()) as client:
        flusher = OutboxFlusher(store, client, FAST)
        assert flusher.flush_once() is Connectivity.REJECTED
    assert flusher.next_wait() == FAST.backoff_max_s  # sign-ins are rate-limited: go slow
    assert store.pending_count() == 1  # the heartbeat waits for a working terminal


def test_the_backoff_grows_and_is_capped(store: LocalStore) -> None:
    sink = Sink()
    sink.fail = PlatformUnreachable("down")
    policy = FlushPolicy(interval_s=15, backoff_initial_s=2, backoff_max_s=60)
    flusher = OutboxFlusher(store, sink, policy)
    assert flusher.next_wait() == 15
    waits = []
    for _ in range(12):
        flusher.flush_once()
        waits.append(flusher.next_wait())
    assert 1 <= waits[0] <= 2 and 2 <= waits[1] <= 4 and 4 <= waits[2] <= 8
    assert all(w <= 60 for w in waits) and waits[-1] >= 30
    sink.fail = None
    assert flusher.flush_once() is Connectivity.ONLINE
    assert flusher.next_wait() == 15 and sink.sent  # the queued heartbeat went out


def test_an_event_refused_for_its_content_still_means_online(store: LocalStore) -> None:
    sink = Sink()
    sink.fail = MalformedReply("409 idempotency.conflict")
    flusher = OutboxFlusher(store, sink, FAST)
    flusher.record("odd")
    assert flusher.flush_once() is Connectivity.ONLINE


def test_the_thread_survives_a_bug_and_stops_when_asked(store: LocalStore) -> None:
    sink = Sink()
    sink.fail = RuntimeError("a bug in a sink")
    flusher = OutboxFlusher(store, sink, FAST).start()
    time.sleep(0.3)
    thread = flusher._thread
    assert thread is not None and thread.is_alive()
    sink.fail = None
    _eventually(lambda: store.pending_count() == 0)
    flusher.stop()
    assert not thread.is_alive()


def test_recording_wakes_the_flusher_at_once(store: LocalStore) -> None:
    sink = Sink()
    slow = FlushPolicy(interval_s=3600, heartbeat_s=3600)
    flusher = OutboxFlusher(store, sink, slow).start()
    try:
        _eventually(lambda: sink.sent == ["heartbeat"])
        flusher.record("label_printed", issuer_id="000001")
        _eventually(lambda: sink.sent == ["heartbeat", "label_printed"], timeout=5)
    finally:
        flusher.stop()


def test_the_state_is_read_without_waiting_for_the_network(store: LocalStore) -> None:
    entered, release = threading.Event(), threading.Event()

    class Hanging(Sink):
        def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None:
            entered.set()
            release.wait(5)
            raise PlatformUnreachable("timed out")

    flusher = OutboxFlusher(store, Hanging(), FAST).start()
    try:
        assert entered.wait(5)
        started = time.monotonic()
        assert flusher.link_status().state is Connectivity.CONNECTING
        assert time.monotonic() - started < 1  # not a network call
    finally:
        release.set()
        flusher.stop()


def test_the_fake_link_reports_what_it_was_given() -> None:
    assert FixedLink(Connectivity.OFFLINE, 3).link_status() == LinkStatus(Connectivity.OFFLINE, 3)


@pytest.mark.parametrize("state", list(Connectivity))
def test_every_state_has_a_status_line_in_both_languages(state: Connectivity) -> None:
    from appliance.messages import CATALOGUE

    assert CATALOGUE[state.key].ja and CATALOGUE[state.key].en

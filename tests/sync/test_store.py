"""The local store's outbox: durable, non-personal events, each delivered once with its key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from appliance.errors import MalformedReply, PlatformUnreachable, SyncError
from appliance.ports import Outbox
from sync.store import LocalStore


class Sink:
    """Records deliveries; fails on command."""

    def __init__(self, fail: dict[str, SyncError] | None = None) -> None:
        self.sent: list[tuple[str, str, dict[str, str | int]]] = []
        self.fail = fail or {}

    def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None:
        if kind in self.fail:
            raise self.fail[kind]
        self.sent.append((key, kind, dict(fields)))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "kiosk.sqlite") as s:
        yield s


def test_it_is_the_cores_outbox(store: LocalStore) -> None:
    outbox: Outbox = store
    outbox.record("label_printed", issuer_id="000001")
    (event,) = store.pending()
    assert event.kind == "label_printed" and event.fields == {"issuer_id": "000001"}


def test_each_event_gets_its_own_idempotency_key_when_recorded(store: LocalStore) -> None:
    store.record("lookup_unregistered")
    store.record("lookup_unregistered")
    keys = [e.key for e in store.pending()]
    assert len(set(keys)) == 2
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)


def test_flush_sends_each_event_once_with_its_key_in_order(store: LocalStore) -> None:
    store.record("a", n=1)
    store.record("b", n=2)
    recorded = [(e.key, e.kind, e.fields) for e in store.pending()]
    sink = Sink()
    assert store.flush(sink) == 2
    assert sink.sent == recorded
    assert store.pending() == []
    assert store.flush(sink) == 0
    assert len(sink.sent) == 2


def test_an_unreachable_platform_leaves_everything_pending(store: LocalStore) -> None:
    store.record("a")
    store.record("b")
    sink = Sink(fail={"a": PlatformUnreachable("down")})
    assert store.flush(sink) == 0
    assert [e.kind for e in store.pending()] == ["a", "b"]
    assert sink.sent == []  # stopped at the first: the rest would fail the same way


def test_an_event_the_platform_refuses_stays_pending_and_the_rest_go_on(store: LocalStore) -> None:
    store.record("odd")
    store.record("fine")
    sink = Sink(fail={"odd": MalformedReply("refused")})
    assert store.flush(sink) == 1
    assert [e.kind for e in store.pending()] == ["odd"]


def test_a_retried_delivery_reuses_the_same_key(store: LocalStore) -> None:
    store.record("a")
    (key,) = [e.key for e in store.pending()]
    store.flush(Sink(fail={"a": PlatformUnreachable("timeout after the platform stored it")}))
    sink = Sink()
    store.flush(sink)
    assert [k for k, _, _ in sink.sent] == [key]


def test_events_survive_a_restart(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "kiosk.sqlite") as first:
        first.record("a", n=1)
    with LocalStore(tmp_path / "kiosk.sqlite") as second:
        assert [(e.kind, e.fields) for e in second.pending()] == [("a", {"n": 1})]


def test_the_file_is_written_through(store: LocalStore) -> None:
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("Label Printed", {}),
        ("ok", {"Card Number": "1"}),
        ("ok", {"flag": True}),
        ("ok", {"ratio": 0.5}),
        ("ok", {"text": "x" * 201}),
    ],
)
def test_events_the_platform_would_refuse_are_refused_at_once(
    store: LocalStore, kind: str, fields: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        store.record(kind, **fields)  # type: ignore[arg-type]
    assert store.pending() == []

"""Events: every write carries an Idempotency-Key, so a terminal may always send again."""

from __future__ import annotations

import uuid

import httpx
import pytest

from server.db import connect
from tests.support.platform import PlatformServer

pytestmark = pytest.mark.both_databases


def _post(api: httpx.Client, auth: dict[str, str], key: str | None, body: object) -> httpx.Response:
    headers = dict(auth) if key is None else {**auth, "Idempotency-Key": key}
    return api.post("/v1/events", json=body, headers=headers)


def _events(platform_server: PlatformServer, kind: str) -> list[tuple[str, str]]:
    conn = connect(platform_server.db_path)
    try:
        rows = conn.execute("SELECT terminal_id, fields FROM events WHERE kind = ?", (kind,))
        return [(r[0], r[1]) for r in rows]
    finally:
        conn.close()


def test_an_event_is_accepted_and_stored(
    api: httpx.Client, auth: dict[str, str], platform_server: PlatformServer
) -> None:
    kind = f"test.{uuid.uuid4().hex[:12]}"
    r = _post(
        api, auth, uuid.uuid4().hex, {"kind": kind, "fields": {"issuer_id": "000001", "n": 3}}
    )
    assert r.status_code == 201
    assert r.json() == {"accepted": True}
    ((_terminal, fields),) = _events(platform_server, kind)
    assert fields == '{"issuer_id": "000001", "n": 3}'


def test_the_same_key_and_body_replays_the_first_answer_and_stores_once(
    api: httpx.Client, auth: dict[str, str], platform_server: PlatformServer
) -> None:
    kind, key = f"test.{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    first = _post(api, auth, key, {"kind": kind, "fields": {"n": 1}})
    again = _post(api, auth, key, {"kind": kind, "fields": {"n": 1}})
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert len(_events(platform_server, kind)) == 1


def test_the_same_key_with_another_body_is_a_conflict(
    api: httpx.Client, auth: dict[str, str], platform_server: PlatformServer
) -> None:
    kind, key = f"test.{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    assert _post(api, auth, key, {"kind": kind, "fields": {"n": 1}}).status_code == 201
    r = _post(api, auth, key, {"kind": kind, "fields": {"n": 2}})
    assert r.status_code == 409
    assert r.json()["error"] == "idempotency.conflict"
    assert len(_events(platform_server, kind)) == 1


def test_keys_belong_to_one_terminal(
    api: httpx.Client, auth: dict[str, str], platform_server: PlatformServer
) -> None:
    from tests.server.helpers import sign_in
    from tests.support.platform import fake_fingerprint

    other = sign_in(api, platform_server.add_terminal(), fake_fingerprint())
    kind, key = f"test.{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    assert _post(api, auth, key, {"kind": kind, "fields": {"n": 1}}).status_code == 201
    assert _post(api, other, key, {"kind": kind, "fields": {"n": 2}}).status_code == 201
    assert len(_events(platform_server, kind)) == 2


def test_an_event_without_an_idempotency_key_is_refused(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    r = _post(api, auth, None, {"kind": "test.nokey", "fields": {}})
    assert r.status_code == 400
    assert r.json()["error"] == "idempotency.missing"


def test_event_fields_are_flat_names_with_text_or_integer_values(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    for fields in (
        {"Bad Name": 1},
        {"n": True},
        {"n": 1.5},
        {"n": {"nested": 1}},
        {"n": "x" * 201},
    ):
        r = _post(api, auth, uuid.uuid4().hex, {"kind": "test.fields", "fields": fields})
        assert r.status_code == 400, fields
        assert r.json()["error"] == "request.invalid"

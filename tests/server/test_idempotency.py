"""The idempotency helper every keyed write goes through, on a real database and a moved clock."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

from server.api import IDEMPOTENCY_SECONDS, ApiError, body_hash, idempotent
from server.db import connect, migrate
from server.registry import add_terminal


def test_answers_errors_included_replay_until_they_age_out(tmp_path: Path) -> None:
    migrate(tmp_path / "p.sqlite")
    conn = connect(tmp_path / "p.sqlite")
    add_terminal(conn, "00000001", "pw", place="館", name="端末")
    runs: list[int] = []
    lock = threading.Lock()

    def action() -> tuple[int, dict[str, Any]]:
        runs.append(1)
        if len(runs) == 1:
            raise ApiError(409, "service_id.exists", "already")
        return 201, {"n": len(runs)}

    def call(now: float, body: object = "b") -> tuple[int, Any]:
        r = idempotent(conn, terminal_id="00000001", key="k" * 8, digest=body_hash("op", body),
                       now=now, action=action, lock=lock)  # fmt: skip
        return r.status_code, json.loads(bytes(r.body))

    assert call(0.0) == (409, {"error": "service_id.exists", "detail": "already"})
    assert call(IDEMPOTENCY_SECONDS - 1) == (
        409,
        {"error": "service_id.exists", "detail": "already"},
    )
    assert len(runs) == 1
    try:
        call(10.0, body="other")
    except ApiError as exc:
        assert exc.error == "idempotency.conflict"
    else:
        raise AssertionError("another body under the same key was accepted")
    assert call(IDEMPOTENCY_SECONDS + 1) == (201, {"n": 2})  # forgotten: acts again
    assert not conn.in_transaction
    conn.close()


def test_events_keep_the_first_releases_digest_and_other_writes_name_their_operation() -> None:
    body = {"kind": "x", "fields": {"n": "é"}}
    first_release = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert body_hash("event", body) == hashlib.sha256(first_release.encode()).hexdigest()
    assert body_hash("service-id", body) != body_hash("service-id-deletion", body)

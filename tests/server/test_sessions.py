"""Terminal sign-in: ministry-issued ID and password, bound to one board at the first login."""

from __future__ import annotations

import httpx
import pytest

from server.db import connect
from server.demo import TerminalCredentials
from tests.support.platform import PlatformServer, fake_fingerprint


def _sign_in(
    api: httpx.Client, terminal_id: str, password: str, fingerprint: str
) -> httpx.Response:
    return api.post(
        "/v1/sessions",
        json={"terminal_id": terminal_id, "password": password, "fingerprint": fingerprint},
    )


@pytest.mark.both_databases
def test_a_registered_terminal_gets_a_bearer_token(
    api: httpx.Client, terminal: TerminalCredentials
) -> None:
    r = _sign_in(api, terminal.terminal_id, terminal.password, fake_fingerprint())
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token", "expires_in"}
    assert len(body["token"]) >= 32 and body["expires_in"] > 0
    issuers = api.get("/v1/issuers", headers={"Authorization": f"Bearer {body['token']}"})
    assert issuers.status_code == 200


@pytest.mark.both_databases
def test_a_wrong_password_is_refused(api: httpx.Client, terminal: TerminalCredentials) -> None:
    r = _sign_in(api, terminal.terminal_id, "not-the-password", fake_fingerprint())
    assert r.status_code == 401
    assert r.json()["error"] == "terminal.credentials"


def test_an_unknown_terminal_gets_the_same_answer_as_a_wrong_password(api: httpx.Client) -> None:
    r = _sign_in(api, "99999999", "whatever", fake_fingerprint())
    assert r.status_code == 401
    assert r.json()["error"] == "terminal.credentials"


@pytest.mark.both_databases
def test_the_first_login_binds_the_board_and_a_later_board_is_refused(
    api: httpx.Client, terminal: TerminalCredentials
) -> None:
    first, other = fake_fingerprint("board 1"), fake_fingerprint("board 2")
    assert _sign_in(api, terminal.terminal_id, terminal.password, first).status_code == 200
    assert _sign_in(api, terminal.terminal_id, terminal.password, first.upper()).status_code == 200
    r = _sign_in(api, terminal.terminal_id, terminal.password, other)
    assert r.status_code == 409
    assert r.json()["error"] == "terminal.fingerprint"


def test_a_wrong_password_does_not_bind_the_board(
    api: httpx.Client, terminal: TerminalCredentials
) -> None:
    _sign_in(api, terminal.terminal_id, "wrong", fake_fingerprint("thief"))
    r = _sign_in(api, terminal.terminal_id, terminal.password, fake_fingerprint("owner"))
    assert r.status_code == 200


def test_every_other_endpoint_needs_a_valid_session(api: httpx.Client) -> None:
    for method, path, body in [
        ("GET", "/v1/issuers", None),
        ("POST", "/v1/challenges", {"purpose": "lookup"}),
        ("POST", "/v1/lookups", {"nonce": "AAAA", "certificate": "AAAA", "signature": "AAAA"}),
        ("POST", "/v1/events", {"kind": "x", "fields": {}}),
        ("POST", "/v1/service-ids", {"nonce": "AAAA", "certificate": "AAAA",
                                     "signature": "AAAA", "issuer_id": "000001",
                                     "card_number": "1", "address_notice": False}),
        ("POST", "/v1/service-ids/deletions", {"nonce": "AAAA", "certificate": "AAAA",
                                               "signature": "AAAA", "issuer_id": "000001"}),
    ]:  # fmt: skip
        for headers in (
            {},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": "Basic eDp5"},
        ):
            headers = {**headers, "Idempotency-Key": "k" * 16}
            r = api.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (method, path, headers)
            assert r.json()["error"] == "session.invalid"
            assert r.headers["WWW-Authenticate"] == "Bearer"


def test_health_needs_no_session(api: httpx.Client) -> None:
    r = api.get("/v1/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_a_malformed_request_lists_every_problem_at_once(api: httpx.Client) -> None:
    r = api.post("/v1/sessions", json={"terminal_id": "123", "fingerprint": "xyz", "extra": 1})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "request.invalid"
    for problem in ("terminal_id", "password", "fingerprint", "extra"):
        assert problem in body["detail"]


def test_errors_outside_the_api_keep_the_error_shape(api: httpx.Client) -> None:
    r = api.get("/v1/nowhere")
    assert r.status_code == 404
    assert r.json() == {"error": "http.404", "detail": "Not Found"}


@pytest.mark.both_databases
def test_passwords_are_stored_as_salted_scrypt_hashes(platform_server: PlatformServer) -> None:
    conn = connect(platform_server.db_path)
    try:
        hashes = [row[0] for row in conn.execute("SELECT password_hash FROM terminals")]
    finally:
        conn.close()
    assert hashes and all(h.startswith("scrypt$") for h in hashes)
    assert not any("a912lkfja" in h for h in hashes)
    assert len(set(hashes)) == len(hashes)  # same password, different salt

"""How PlatformClient reads answers it did not expect: always a SyncError, never an httpx error.

These use ``httpx.MockTransport`` to play a platform that misbehaves in ways the real one does
not (or not on demand): broken JSON, wrong types, unknown enum values, 5xx, timeouts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.errors import (
    CardRejected,
    InvalidCardNumber,
    MalformedReply,
    PlatformUnreachable,
    SyncError,
    TerminalRejected,
)
from appliance.ports import DeviceState
from appliance.values import CardProof
from sync.client import ChallengeRefused, PlatformClient
from tests.support.platform import fake_fingerprint

ISSUER = {
    "issuer_id": "000001",
    "name": "川崎市立図書館",
    "symbology": "codabar",
    "codabar_start": "A",
    "codabar_stop": "A",
    "check": "mod10w21",
    "lengths": [10],
    "handover": "D",
    "pin_required": True,
}
GOOD_NUMBER = "1800000018"  # passes mod10w21: demo citizen 2 (server.demo)
PROOF = CardProof(b"cert", b"n" * 32, b"sig")

Handler = Callable[[httpx.Request], httpx.Response]


class FakePlatform:
    """Signs in everyone; answers each API path with what the test says."""

    def __init__(self) -> None:
        self.answers: dict[str, Handler] = {}
        self.sign_ins = 0
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/sessions":
            self.sign_ins += 1
            return httpx.Response(200, json={"token": f"t{self.sign_ins}", "expires_in": 3600})
        return self.answers[request.url.path](request)

    def answer(self, path: str, status: int = 200, **kwargs: Any) -> None:
        self.answers[path] = lambda _request: httpx.Response(status, **kwargs)


@pytest.fixture
def fake() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def client(fake: FakePlatform) -> Iterator[PlatformClient]:
    with PlatformClient(
        "http://platform.test",
        "00052459",
        "pw",
        fake_fingerprint(),
        transport=httpx.MockTransport(fake),
    ) as c:
        yield c


def _matches(*, card_number: object = GOOD_NUMBER, **issuer: object) -> dict[str, object]:
    match = {"issuer": {**ISSUER, **issuer}, "card_number": card_number, "card_valid": True,
             "address_changed": False}  # fmt: skip
    return {"matches": [match]}


def test_a_well_formed_answer_parses(fake: FakePlatform, client: PlatformClient) -> None:
    fake.answer("/v1/lookups", json=_matches())
    (match,) = client.lookup(PROOF)
    assert match.number.value == GOOD_NUMBER


@pytest.mark.parametrize(
    "reply",
    [
        {"content": b"<html>proxy error</html>"},
        {"content": b"\xff\xfe not utf-8"},
        {"json": ["matches"]},
        {"json": {}},
        {"json": {"matches": "none"}},
        {"json": {"matches": [None]}},
        {"json": _matches(symbology="qr")},
        {"json": _matches(check="luhn")},
        {"json": _matches(handover="E")},
        {"json": _matches(lengths=["10"])},
        {"json": _matches(lengths=[True])},
        {"json": _matches(pin_required="yes")},
        {"json": _matches(card_number=1800000018)},
    ],
    ids=lambda reply: json.dumps(reply, default=repr)[:40],
)
def test_an_answer_that_breaks_the_contract_is_malformed_reply(
    fake: FakePlatform, client: PlatformClient, reply: dict[str, Any]
) -> None:
    fake.answer("/v1/lookups", **reply)
    with pytest.raises(MalformedReply):
        client.lookup(PROOF)


def test_a_card_number_that_breaks_the_issuers_rules_is_never_returned(
    fake: FakePlatform, client: PlatformClient
) -> None:
    fake.answer("/v1/lookups", json=_matches(card_number="1800000019"))  # wrong check digit
    with pytest.raises(InvalidCardNumber) as info:
        client.lookup(PROOF)
    assert "1800000019" not in str(info.value)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, {"error": "card.rejected", "detail": "x"}, CardRejected),
        (400, {"error": "challenge.invalid", "detail": "x"}, ChallengeRefused),
        (400, {"error": "request.invalid", "detail": "x"}, MalformedReply),
        (404, {"error": "http.404", "detail": "x"}, MalformedReply),
        (500, {"error": "server.error", "detail": "x"}, MalformedReply),
        (502, None, PlatformUnreachable),
        (503, None, PlatformUnreachable),
        (504, None, PlatformUnreachable),
        (418, None, MalformedReply),
    ],
)
def test_error_answers_become_the_matching_sync_error(
    fake: FakePlatform, client: PlatformClient, status: int, body: object, error: type[SyncError]
) -> None:
    fake.answer("/v1/lookups", status, json=body)
    with pytest.raises(error):
        client.lookup(PROOF)


@pytest.mark.parametrize(
    "exc",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
    ids=type,
)
def test_transport_failures_are_platform_unreachable(
    fake: FakePlatform, client: PlatformClient, exc: Exception
) -> None:
    def fail(_request: httpx.Request) -> httpx.Response:
        raise exc

    fake.answers["/v1/challenges"] = fail
    with pytest.raises(PlatformUnreachable) as info:
        client.challenge()
    assert info.value.__cause__ is exc


def test_a_refused_session_is_renewed_exactly_once(
    fake: FakePlatform, client: PlatformClient
) -> None:
    fake.answer("/v1/issuers", 401, json={"error": "session.invalid", "detail": "x"})
    with pytest.raises(TerminalRejected):
        client.issuers()
    assert fake.sign_ins == 2
    assert [r.url.path for r in fake.requests].count("/v1/issuers") == 2


def test_a_renewed_session_carries_the_new_token(
    fake: FakePlatform, client: PlatformClient
) -> None:
    def issuers(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer t1":
            return httpx.Response(401, json={"error": "session.invalid", "detail": "expired"})
        return httpx.Response(200, json={"issuers": [ISSUER]})

    fake.answers["/v1/issuers"] = issuers
    assert client.issuers()[0].issuer_id == "000001"
    assert fake.sign_ins == 2


def test_sign_in_is_lazy_and_reused(fake: FakePlatform, client: PlatformClient) -> None:
    assert fake.sign_ins == 0
    fake.answer("/v1/issuers", json={"issuers": [ISSUER]})
    client.issuers()
    client.issuers()
    assert fake.sign_ins == 1


def test_a_short_nonce_is_malformed(fake: FakePlatform, client: PlatformClient) -> None:
    fake.answer("/v1/challenges", json={"nonce": "AAAA", "expires_in": 120})
    with pytest.raises(MalformedReply):
        client.challenge()


def test_events_carry_their_idempotency_key(fake: FakePlatform, client: PlatformClient) -> None:
    fake.answer("/v1/events", 201, json={"accepted": True})
    client.send_event("abc123abc123", "label_printed", {"issuer_id": "000001"})
    request = fake.requests[-1]
    assert request.headers["Idempotency-Key"] == "abc123abc123"
    assert json.loads(request.content) == {
        "kind": "label_printed",
        "fields": {"issuer_id": "000001"},
    }


def test_status_reports_a_malformed_platform_as_a_warning(
    fake: FakePlatform, client: PlatformClient
) -> None:
    fake.answer("/v1/health", json={"status": "on fire"})
    assert client.status().state is DeviceState.WARNING


def test_the_password_does_not_show_in_repr() -> None:
    with PlatformClient("http://platform.test", "00052459", "a912lkfja", fake_fingerprint()) as c:
        assert "a912lkfja" not in repr(c)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 409, 422, 500, 503]),
    body=json_values | st.binary(max_size=30),
    call=st.sampled_from(["issuers", "challenge", "lookup", "send_event"]),
)
def test_whatever_the_platform_answers_only_kiosk_errors_come_out(
    fake: FakePlatform, client: PlatformClient, status: int, body: object, call: str
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    fake.answers = {p: (lambda _r: httpx.Response(status, content=content)) for p in
                    ("/v1/issuers", "/v1/challenges", "/v1/lookups", "/v1/events")}  # fmt: skip
    try:
        if call == "lookup":
            client.lookup(PROOF)
        elif call == "send_event":
            client.send_event("k" * 16, "x", {})
        else:
            getattr(client, call)()
    except (SyncError, InvalidCardNumber):
        pass

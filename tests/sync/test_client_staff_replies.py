"""The staff calls (service IDs, terminal registration) read misbehaving answers as SyncErrors.

A platform played by ``httpx.MockTransport``: well-formed refusals map to the named errors, and
whatever else comes back (wrong shapes near the real ones, random JSON, bytes) is a SyncError,
never another exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.errors import RegistrationInvalid, ServiceIdRefused, SyncError, TerminalRejected
from appliance.messages import CATALOGUE
from appliance.values import CardProof
from sync.client import PlatformClient
from tests.support.platform import fake_fingerprint

ISSUER = {
    "issuer_id": "000001", "name": "川崎市立図書館", "symbology": "codabar",
    "codabar_start": "A", "codabar_stop": "A", "check": "mod10w21", "lengths": [10],
    "handover": "D", "pin_required": True,
}  # fmt: skip
PROOF = CardProof(b"cert", b"n" * 32, b"sig")
PATHS = ("/v1/service-ids", "/v1/service-ids/deletions", "/v1/terminal-registrations")


class Platform:
    def __init__(self) -> None:
        self.status, self.content = 200, b"{}"
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v1/sessions":
            return httpx.Response(200, json={"token": "t", "expires_in": 3600})
        return httpx.Response(self.status, content=self.content)

    def answer(self, status: int, body: object) -> None:
        self.status = status
        self.content = body if isinstance(body, bytes) else json.dumps(body).encode()


@pytest.fixture
def fake() -> Platform:
    return Platform()


@pytest.fixture
def client(fake: Platform) -> Iterator[PlatformClient]:
    with PlatformClient(
        "http://platform.test", "00052459", "pw", fake_fingerprint(),
        transport=httpx.MockTransport(fake),
    ) as c:  # fmt: skip
        yield c


def _call(client: PlatformClient, which: str) -> object:
    if which == "register":
        return client.register_service_id(PROOF, "000001", "1800000018", address_notice=True)
    if which == "delete":
        return client.delete_service_id(PROOF, "000001")
    return client.register_terminal({"place": "館"}, "key-12345678")


def test_a_registration_answer_parses_and_carries_a_key_from_the_challenge(
    fake: Platform, client: PlatformClient
) -> None:
    fake.answer(201, {"issuer": ISSUER, "card_number": "1800000018", "address_notice": True})
    stored = _call(client, "register")
    assert stored == _call(client, "register")
    keys = {r.headers["Idempotency-Key"] for r in fake.requests if r.url.path in PATHS}
    assert len(keys) == 1  # the same proof, the same key: a retry replays


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("service_id.exists", "error.service_id.exists"),
        ("service_id.conflict", "error.service_id.conflict"),
        ("service_id.taken", "error.service_id.taken"),
        ("citizen.unknown", "error.service_id.no_mykey"),
        ("issuer.not_served", "error.service_id.issuer"),
    ],
)
def test_refusals_carry_their_own_message(
    fake: Platform, client: PlatformClient, code: str, key: str
) -> None:
    fake.answer(409, {"error": code, "detail": "x"})
    with pytest.raises(ServiceIdRefused) as refused:
        _call(client, "register")
    assert (refused.value.code, refused.value.key) == (code, key)
    assert key in CATALOGUE


def test_a_bad_card_number_lists_the_rules_broken(fake: Platform, client: PlatformClient) -> None:
    fake.answer(400, {"error": "card_number.invalid", "detail": "x", "problems": [
        {"field": "card_number", "code": "card_number.check_digit", "detail": "x"}]})  # fmt: skip
    with pytest.raises(ServiceIdRefused) as refused:
        _call(client, "register")
    assert refused.value.problems == ["card_number.check_digit"]


def test_a_registration_form_answer_lists_every_field(
    fake: Platform, client: PlatformClient
) -> None:
    fake.answer(400, {"error": "registration.invalid", "detail": "x", "problems": [
        {"field": "email", "code": "email.format", "detail": "x"},
        {"field": "email_again", "code": "email_again.mismatch", "detail": "x"},
        {"field": "email", "code": "email.empty", "detail": "x"}]})  # fmt: skip
    with pytest.raises(RegistrationInvalid) as invalid:
        _call(client, "terminal")
    assert invalid.value.problems == {
        "email": ["email.format", "email.empty"], "email_again": ["email_again.mismatch"],
    }  # fmt: skip
    fake.answer(401, {"error": "terminal.credentials", "detail": "x"})
    with pytest.raises(TerminalRejected):
        _call(client, "terminal")


near_misses = st.sampled_from(
    [
        {"error": "service_id.exists", "problems": 5},
        {"error": "card_number.invalid", "problems": [1, {"code": 2}, None]},
        {"error": "registration.invalid", "problems": "x"},
        {"error": "registration.invalid", "problems": [{"field": 1, "code": "c"}]},
        {"error": "registration.invalid"},
        {"issuer": "x", "card_number": 1},
        {"issuer": ISSUER, "card_number": "1800000018", "address_notice": "yes"},
        {"issuer": {**ISSUER, "check": "luhn"}, "card_number": "1", "address_notice": True},
        {"deleted": "true"},
        {"status": "maybe"},
        {"status": None},
        [],
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503]),
    body=near_misses | json_values | st.binary(max_size=24),
    which=st.sampled_from(["register", "delete", "terminal"]),
)
def test_whatever_the_platform_answers_the_staff_calls_raise_only_sync_errors(
    fake: Platform, client: PlatformClient, status: int, body: object, which: str
) -> None:
    fake.answer(status, body)
    try:
        _call(client, which)
    except SyncError:
        pass

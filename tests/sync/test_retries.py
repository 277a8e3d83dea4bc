"""The client's retry policy: bounded, only on named transient failures, never on a 4xx.

``stamina.set_testing(True, attempts=3)`` keeps the retries but makes every wait zero, so these
tests count attempts without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import stamina

from appliance.errors import MalformedReply, PlatformUnreachable, SyncError, TerminalRejected
from appliance.values import CardProof
from sync.client import ChallengeRefused, PlatformClient, RetryPolicy
from tests.support.platform import fake_fingerprint

ISSUER = {"issuer_id": "000001", "name": "川崎市立図書館", "symbology": "codabar",
          "codabar_start": "A", "codabar_stop": "A", "check": "mod10w21", "lengths": [10],
          "handover": "D", "pin_required": True}  # fmt: skip
PROOF = CardProof(b"cert", b"n" * 32, b"sig")


class Flaky:
    """A platform whose answers to one path come from a script, one per attempt."""

    def __init__(self, path: str, *script: httpx.Response | Exception) -> None:
        self.path = path
        self.script = list(script)
        self.attempts: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/sessions" and self.path != "/v1/sessions":
            return httpx.Response(200, json={"token": "t", "expires_in": 3600})
        assert request.url.path == self.path
        self.attempts.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return step


@pytest.fixture(autouse=True)
def retries_without_waiting() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3, cap=True):
        yield


def _client(platform: Flaky, policy: RetryPolicy | None = None) -> PlatformClient:
    return PlatformClient("http://platform.test", "00052459", "pw", fake_fingerprint(),
                          transport=httpx.MockTransport(platform),
                          retry=policy or RetryPolicy())  # fmt: skip


def ok_issuers() -> httpx.Response:
    return httpx.Response(200, json={"issuers": [ISSUER]})


def busy() -> httpx.Response:
    return httpx.Response(503, content=b"busy")


@pytest.mark.parametrize(
    "transient",
    [
        busy(),
        httpx.Response(502),
        httpx.Response(504),
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow SYN"),
        httpx.ReadTimeout("slow answer"),
        httpx.RemoteProtocolError("cut"),
    ],
    ids=lambda t: type(t).__name__ if isinstance(t, Exception) else str(t.status_code),
)
def test_a_transient_failure_is_retried_until_it_clears(
    transient: httpx.Response | Exception,
) -> None:
    platform = Flaky("/v1/issuers", transient, transient, ok_issuers())
    with _client(platform) as client:
        assert client.issuers()[0].issuer_id == "000001"
    assert len(platform.attempts) == 3


def test_retries_are_bounded_and_end_as_platform_unreachable() -> None:
    platform = Flaky("/v1/issuers", busy())
    with _client(platform) as client, pytest.raises(PlatformUnreachable, match="HTTP 503"):
        client.issuers()
    assert len(platform.attempts) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429])
def test_a_4xx_is_never_retried(status: int) -> None:
    platform = Flaky("/v1/challenges", httpx.Response(status, json={"error": "x", "detail": "y"}))
    with _client(platform) as client, pytest.raises(SyncError):
        client.challenge()
    assert len(platform.attempts) == 1


def test_a_500_is_not_a_transient_failure() -> None:
    platform = Flaky("/v1/issuers", httpx.Response(500, json={"error": "server.error"}))
    with _client(platform) as client, pytest.raises(MalformedReply):
        client.issuers()
    assert len(platform.attempts) == 1


def test_a_lookup_is_retried_only_when_it_never_left_the_kiosk() -> None:
    matches = httpx.Response(200, json={"matches": []})
    refused = Flaky("/v1/lookups", httpx.ConnectError("refused"), matches)
    with _client(refused) as client:
        assert client.lookup(PROOF) == []
    assert len(refused.attempts) == 2


@pytest.mark.parametrize(
    "maybe_arrived", [busy(), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")],
    ids=["503", "read-timeout", "cut"],
)  # fmt: skip
def test_a_lookup_that_may_have_spent_its_nonce_is_not_repeated(
    maybe_arrived: httpx.Response | Exception,
) -> None:
    platform = Flaky("/v1/lookups", maybe_arrived, httpx.Response(200, json={"matches": []}))
    with _client(platform) as client, pytest.raises(PlatformUnreachable):
        client.lookup(PROOF)
    assert len(platform.attempts) == 1


def test_a_challenge_refusal_is_not_retried() -> None:
    refusal = httpx.Response(400, json={"error": "challenge.invalid", "detail": "used"})
    platform = Flaky("/v1/lookups", refusal)
    with _client(platform) as client, pytest.raises(ChallengeRefused):
        client.lookup(PROOF)
    assert len(platform.attempts) == 1


def test_a_repeated_event_carries_the_same_idempotency_key() -> None:
    accepted = httpx.Response(201, json={"accepted": True})
    platform = Flaky("/v1/events", httpx.ReadTimeout("stored, answer lost"), accepted)
    with _client(platform) as client:
        client.send_event("key-1234567890ab", "label_printed", {"issuer_id": "000001"})
    keys = [r.headers["Idempotency-Key"] for r in platform.attempts]
    assert keys == ["key-1234567890ab", "key-1234567890ab"]
    assert len({r.content for r in platform.attempts}) == 1


def test_sign_in_is_retried_but_a_refused_password_is_not() -> None:
    token = httpx.Response(200, json={"token": "t", "expires_in": 3600})
    flaky = Flaky("/v1/sessions", httpx.ConnectError("refused"), token)
    with _client(flaky) as client:
        assert client.session.token() == "t"
    assert len(flaky.attempts) == 2
    refused = Flaky("/v1/sessions", httpx.Response(401, json={"error": "terminal.credentials"}))
    with _client(refused) as client, pytest.raises(TerminalRejected):
        client.session.token()
    assert len(refused.attempts) == 1


def test_one_attempt_switches_retries_off() -> None:
    platform = Flaky("/v1/issuers", busy(), ok_issuers())
    with _client(platform, RetryPolicy(attempts=1)) as client, pytest.raises(PlatformUnreachable):
        client.issuers()
    assert len(platform.attempts) == 1


def test_the_default_policy_keeps_a_patrons_worst_case_short() -> None:
    policy = RetryPolicy()
    assert policy.attempts <= 3 and policy.timeout_s <= 10 and policy.wait_max_s <= 2

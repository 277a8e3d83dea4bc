"""10,000+ malformed platform answers fed to the client: each ends as a SyncError, never as
another exception (the one deliberate exception: a looked-up card number that breaks its
issuer's rules is ``InvalidCardNumber``, see sync/client.py).

The answers come from ``httpx.MockTransport`` (this is the client's parsing, not the network),
generated from a seeded ``random.Random`` so a failure names a case that replays exactly: each
case takes a well-formed answer of one endpoint and breaks it one way (status, body bytes, JSON
shape, field types, encodings, headers, transport errors), for every call, sign-in included.
"""

from __future__ import annotations

import copy
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from appliance.errors import InvalidCardNumber, SyncError
from appliance.values import CardProof
from sync.client import PlatformClient
from tests.support.platform import fake_fingerprint

CASES = 10_200
SEED = 20261201
ISSUER = {"issuer_id": "000001", "name": "川崎市立図書館", "symbology": "codabar",
          "codabar_start": "A", "codabar_stop": "A", "check": "mod10w21", "lengths": [10],
          "handover": "D", "pin_required": True}  # fmt: skip
GOOD: dict[str, tuple[int, Any]] = {
    "/v1/sessions": (200, {"token": "tok", "expires_in": 3600}),
    "/v1/issuers": (200, {"issuers": [ISSUER]}),
    "/v1/challenges": (200, {"nonce": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=",
                             "expires_in": 120}),
    "/v1/lookups": (200, {"matches": [{"issuer": ISSUER, "card_number": "1800000018",
                                       "card_valid": True, "address_changed": False}]}),
    "/v1/events": (201, {"accepted": True}),
    "/v1/health": (200, {"status": "ok"}),
}  # fmt: skip
CALLS: dict[str, Callable[[PlatformClient], object]] = {
    "/v1/sessions": lambda c: c.issuers(),
    "/v1/issuers": lambda c: c.issuers(),
    "/v1/challenges": lambda c: c.challenge(),
    "/v1/lookups": lambda c: c.lookup(CardProof(b"cert", b"n" * 32, b"sig")),
    "/v1/events": lambda c: c.send_event("k" * 16, "label_printed", {"issuer_id": "000001"}),
    "/v1/health": lambda c: c.status(),
}
STATUSES = [200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 405, 409, 413, 422, 429,
            500, 501, 502, 503, 504, 599]  # fmt: skip
ERRORS = ["session.invalid", "terminal.credentials", "terminal.fingerprint", "card.rejected",
          "challenge.invalid", "request.invalid", "", "x" * 300]  # fmt: skip
TRANSPORT_ERRORS: list[type[httpx.HTTPError]] = [
    httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout,
    httpx.PoolTimeout, httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError,
    httpx.LocalProtocolError, httpx.ProxyError, httpx.UnsupportedProtocol, httpx.DecodingError,
    httpx.TooManyRedirects,
]  # fmt: skip


def _value(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, leaning to the ones parsers trip on."""
    choices: list[Callable[[], Any]] = [
        lambda: None, lambda: True, lambda: False, lambda: 0, lambda: -1, lambda: 2**70,
        lambda: 1.5, lambda: float("nan"), lambda: float("inf"), lambda: "", lambda: "1800000018",
        lambda: "\u0000\ud800\uffff", lambda: "ｱｲｳ" * rng.randint(1, 50), lambda: "A" * 10_000,
        lambda: "!!!not base64", lambda: "QUFB", lambda: [], lambda: {},
    ]  # fmt: skip
    if depth < 3:
        choices += [
            lambda: [_value(rng, depth + 1) for _ in range(rng.randint(1, 3))],
            lambda: {rng.choice(["issuer", "token", "x"]): _value(rng, depth + 1)},
        ]
    return rng.choice(choices)()


def _break_json(rng: random.Random, good: Any) -> Any:
    """The good answer with one thing wrong somewhere inside it."""
    body = copy.deepcopy(good)
    spots: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                spots.append((node, key))
                walk(child)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                spots.append((node, index))
                walk(child)

    walk(body)
    if not spots:
        return _value(rng)
    parent, key = rng.choice(spots)
    how = rng.randrange(4)
    if how == 0 and isinstance(parent, dict):
        del parent[key]
    elif how == 1 and isinstance(parent, dict):
        parent[f"{key}_extra"] = _value(rng)
        parent[key] = _value(rng)
    else:
        parent[key] = _value(rng)
    return body


def _answer(rng: random.Random, path: str) -> tuple[str, Callable[[httpx.Request], httpx.Response]]:
    status, good = GOOD[path]
    kind = rng.choice(["json", "json", "json", "status", "bytes", "deep", "encoding", "error",
                       "transport", "headers"])  # fmt: skip
    headers: dict[str, str | bytes] = {}
    if kind == "json":
        content = json.dumps(_break_json(rng, good), ensure_ascii=rng.random() < 0.5).encode(
            "utf-8",
            "surrogatepass",  # a lone surrogate becomes bytes that are not UTF-8
        )
    elif kind == "status":
        status = rng.choice(STATUSES)
        content = json.dumps(rng.choice([good, _break_json(rng, good), _value(rng)])).encode()
    elif kind == "bytes":
        raw = json.dumps(good).encode()
        content = rng.choice([
            b"", raw[: rng.randrange(len(raw))], bytes(rng.randrange(256) for _ in range(40)),
            b"\xef\xbb\xbf" + raw, raw.replace(b'"', b"'"), b"<html>502 Bad Gateway</html>",
            raw + b"garbage", raw.decode().encode("utf-16"), b"\xff\xfe\xfd",
        ])  # fmt: skip
    elif kind == "deep":
        depth = rng.choice([100, 1_000, 100_000])
        opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
        content = opener * depth + b"1" + closer * depth
    elif kind == "encoding":
        headers["Content-Encoding"] = rng.choice(["gzip", "deflate", "br", "zstd", "bogus"])
        content = json.dumps(good).encode()
    elif kind == "error":
        status = rng.choice([400, 401, 403, 409, 422, 429, 500])
        error = {"error": rng.choice(ERRORS), "detail": _value(rng)}
        content = json.dumps(rng.choice([error, {"error": _value(rng)}, [error]])).encode()
    elif kind == "headers":
        headers["Content-Type"] = rng.choice(
            ["text/html", "application/json; charset=latin-1", "application/octet-stream",
             "ä/ö".encode("latin-1")]
        )  # fmt: skip
        content = json.dumps(_break_json(rng, good), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
    else:
        error_type = rng.choice(TRANSPORT_ERRORS)

        def fail(request: httpx.Request) -> httpx.Response:
            raise error_type("injected", request=request)

        return kind, fail
    return kind, lambda _request: httpx.Response(status, content=content, headers=headers)


def test_ten_thousand_malformed_answers_end_as_sync_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="sync")  # 10,000 refusals need no log lines
    rng = random.Random(SEED)
    broken: dict[str, Callable[[httpx.Request], httpx.Response]] = {}

    def platform(request: httpx.Request) -> httpx.Response:
        if request.url.path in broken:
            return broken[request.url.path](request)
        status, good = GOOD[request.url.path]
        return httpx.Response(status, json=good)

    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    with PlatformClient("http://platform.test", "00052459", "pw", fake_fingerprint(),
                        transport=httpx.MockTransport(platform)) as client:  # fmt: skip
        for case in range(CASES):
            path = rng.choice(list(GOOD))
            kind, handler = _answer(rng, path)
            broken = {path: handler}
            kinds[kind] += 1
            if path == "/v1/sessions":  # sign in only if that is the fuzzed answer
                client.session.forget_token()
            try:
                CALLS[path](client)
            except (SyncError, InvalidCardNumber) as exc:
                outcomes[type(exc).__name__] += 1
            except Exception as exc:  # the defect this test exists to find
                raise AssertionError(f"case {case} ({path}, {kind}): {exc!r}") from exc
            else:
                outcomes["accepted"] += 1
    assert sum(outcomes.values()) == CASES >= 10_000
    assert set(kinds) >= {"json", "status", "bytes", "deep", "encoding", "error", "transport"}
    # the mutations really were malformed: most answers are refused, in several ways
    refused = CASES - outcomes["accepted"]
    assert refused > CASES * 0.6, outcomes
    assert {"MalformedReply", "PlatformUnreachable", "TerminalRejected"} <= set(outcomes)
    print(f"\n{CASES} malformed answers: {dict(outcomes)}")

"""Malformed requests, derived from the platform's own OpenAPI document.

Why not schemathesis: it would pull in a large dependency tree for what is, here, a few dozen
lines, and its per-case overhead would not fit 10,000 cases in the suite's time budget. This
generator is seeded (a failure names its case number and replays exactly) and every mutation it
makes is *invalid by construction*, so the only right answers are 4xx:

- the body: not JSON, truncated JSON, not an object, a required field removed, an unknown field
  added (requests forbid extras), a field of the wrong type (lists and objects fit no scalar
  field), a string far past its ``maxLength`` / ``pattern``, or text with control characters and
  lone surrogates (which must not reach an ``encode()`` unguarded) on top of an otherwise
  failing body;
- the envelope: a wrong method, an unknown path, a wrong content type, an Idempotency-Key that
  breaks its pattern, no or a forged bearer token.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

# Bodies whose every field is well-formed but which fail on their merits (unknown challenge,
# wrong password, ...), so a mutation that happens to keep the shape valid still gets a 4xx.
BASES: dict[str, dict[str, Any]] = {
    "/v1/sessions": {"terminal_id": "00052459", "password": "wrong", "fingerprint": "a" * 64},
    "/v1/terminal-registrations": {
        "terminal_id": "00052459", "password": "wrong", "fingerprint": "b" * 64,
        "place": "館", "name": "端末", "issuer_id": "000001", "person": "",
        "postal_code": "2130001", "address": "川崎市", "phone": "044-000-0000",
        "email": "a@example.jp", "email_again": "a@example.jp",
    },
    "/v1/challenges": {"purpose": "lookup"},
    "/v1/lookups": {"nonce": "AAAA", "certificate": "AAAA", "signature": "AAAA"},
    "/v1/events": {"kind": "fuzz", "fields": {"n": 1}},
    "/v1/service-ids": {
        "nonce": "AAAA", "certificate": "AAAA", "signature": "AAAA", "issuer_id": "000001",
        "card_number": "1800000008", "address_notice": False,
    },
    "/v1/service-ids/deletions": {
        "nonce": "AAAA", "certificate": "AAAA", "signature": "AAAA", "issuer_id": "000001",
    },
}  # fmt: skip
CHAOS = ["\x00", "\ud800", "\udfff", "\u202e", "\x7f", "'; DROP TABLE terminals; --", "é" * 3]


@dataclass
class Case:
    number: int
    method: str
    path: str
    mutation: str
    headers: dict[str, str | bytes] = field(default_factory=dict)
    content: bytes | None = None


@dataclass
class Fuzzer:
    doc: dict[str, Any]
    token: str
    rng: random.Random

    def schema(self, path: str) -> dict[str, Any]:
        ref = self.doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        name = ref["schema"]["$ref"].rsplit("/", 1)[1]
        schema: dict[str, Any] = self.doc["components"]["schemas"][name]
        return schema

    def case(self, number: int) -> Case:
        rng = self.rng
        path = rng.choice([*BASES, "/v1/issuers"])
        op = self.doc["paths"][path]
        method = "get" if "get" in op else "post"
        secured = "security" in op
        keyed = any(p["name"] == "Idempotency-Key" for p in op[method].get("parameters", []))
        headers: dict[str, str | bytes] = {"content-type": "application/json"}
        if keyed:
            headers["Idempotency-Key"] = f"fuzz-{number:08d}"
        if secured:
            headers["Authorization"] = f"Bearer {self.token}"
        envelope = ["method", "path", "auth"] + (["key"] if keyed else [])
        if method == "post":
            envelope.append("content-type")
        kinds = envelope if method == "get" else envelope + ["body"] * 6
        kind = rng.choice(kinds)
        if method == "get" and not secured:
            kind = rng.choice(["method", "path"])
        content = None if method == "get" else json.dumps(BASES[path]).encode()
        mutation = kind
        if kind == "method":
            method = rng.choice(["put", "delete", "patch"] + (["post"] if method == "get" else []))
            if path == "/v1/issuers" and method == "post":
                method = "put"
        elif kind == "path":
            path = rng.choice(
                [path + "/x", path.upper(), "/v1/" + "a" * rng.randint(1, 300),
                 "/v2" + path[3:], path + "%00", "/v1/service-ids/%2e%2e"]
            )  # fmt: skip
        elif kind == "auth":
            if not secured:
                return self.case(number)  # nothing to break there; draw again
            forged = rng.choice(
                ["", "Bearer", "Bearer x", f"Bearer {self.token}x", "Basic eDp5",
                 "Bearer " + "A" * 5000, f"bearer  {self.token[:-1]}"]
            )  # fmt: skip
            headers["Authorization"] = forged
            if not forged:
                del headers["Authorization"]
        elif kind == "key":
            bad_key = rng.choice(
                ["", "short", "k" * 65, "bad key!", "ключ-1234567".encode(), "x\ty" * 4]
            )
            headers["Idempotency-Key"] = bad_key
        elif kind == "content-type":
            headers["content-type"] = rng.choice(
                ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
            )
            content = rng.choice([b"a=1&b=2", b"", b"--x\r\n"])
        else:
            mutation, content = self.body(path)
        return Case(number, method.upper(), path, mutation, headers, content)

    def body(self, path: str) -> tuple[str, bytes]:
        rng = self.rng
        schema = self.schema(path)
        props: dict[str, Any] = schema.get("properties", {})
        body = dict(BASES[path])
        choice = rng.choice(["json", "shape", "missing", "extra", "type", "long", "chaos"])
        if choice == "missing" and not schema.get("required"):
            choice = "type"  # every field has a default: take another mutation
        if choice == "json":
            text = json.dumps(body)
            cut = rng.randrange(0, len(text))
            return choice, rng.choice([text[:cut].encode(), b"\xff\xfe{", b"{'a': 1}", b"{,}"])
        if choice == "shape":
            return choice, json.dumps(rng.choice([[], [body], 1, "x", None, True])).encode()
        if choice == "missing":
            del body[rng.choice(schema["required"])]
        elif choice == "extra":
            body[rng.choice(["mykey_id", "x", "Password", "__proto__"])] = rng.choice(
                [1, "x", None]
            )
        elif choice == "type":
            name = rng.choice(list(props))
            body[name] = rng.choice([[], [1, "x"], [None]] + ([] if _is_object(props[name]) else
                                    [{"nested": {"deep": [None]}}]))  # fmt: skip
        elif choice == "long":
            names = [n for n, p in props.items() if _bounded_string(p)]
            body[rng.choice(names)] = rng.choice(["9", "A", "あ"]) * rng.randint(20_000, 70_000)
        else:  # chaos text in any string field, the rest still failing on its merits
            names = [n for n, p in props.items() if _is_string(p)] or list(props)
            body[rng.choice(names)] = "".join(rng.choice(CHAOS) for _ in range(rng.randint(1, 9)))
            return choice, json.dumps(body, ensure_ascii=True).encode()  # \\ud800 escapes
        return choice, json.dumps(body).encode()


def _alternatives(p: dict[str, Any]) -> list[dict[str, Any]]:
    return list(p.get("anyOf", [p]))


def _is_object(p: dict[str, Any]) -> bool:
    return any(a.get("type") == "object" for a in _alternatives(p))


def _is_string(p: dict[str, Any]) -> bool:
    return any(a.get("type") == "string" for a in _alternatives(p))


def _bounded_string(p: dict[str, Any]) -> bool:
    return (
        any(
            a.get("type") == "string" and ("maxLength" in a or "pattern" in a)
            for a in _alternatives(p)
        )
        or "enum" in p
        or "const" in p
    )

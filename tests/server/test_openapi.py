"""The published contract: /openapi.json describes every route, and no schema names a MyKey ID."""

from __future__ import annotations

import json

import httpx


def test_the_document_lists_the_v1_api(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    routes = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == {
        ("/v1/health", "get"),
        ("/v1/terminal-registrations", "post"),
        ("/v1/sessions", "post"),
        ("/v1/issuers", "get"),
        ("/v1/challenges", "post"),
        ("/v1/lookups", "post"),
        ("/v1/events", "post"),
        ("/v1/offline/trust", "get"),
        ("/v1/offline/assertions", "post"),
        ("/v1/service-ids", "post"),
        ("/v1/service-ids/deletions", "post"),
    }
    # Every write that changes lasting state takes an Idempotency-Key; sessions, challenges and
    # lookups do not (a stored answer would be a token, or a record of who looked up what).
    # A bookmobile's offline assertion is a write too (its nonce is spent), so it takes one.
    keyed = {"/v1/events", "/v1/terminal-registrations", "/v1/service-ids",
             "/v1/service-ids/deletions", "/v1/offline/assertions"}  # fmt: skip
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            headers = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "header"}
            if path in keyed:
                assert headers["Idempotency-Key"]["required"] is True, path
            else:
                assert "Idempotency-Key" not in headers, path
            assert "422" not in op["responses"], path  # errors are 4XX with the Error shape
            if path not in ("/v1/health", "/v1/sessions", "/v1/terminal-registrations"):
                assert op["security"] == [{"HTTPBearer": []}], path
            else:
                assert "security" not in op, (path, method)


def test_no_schema_has_a_place_for_the_mykey_id(api: httpx.Client) -> None:
    text = json.dumps(api.get("/openapi.json").json()["components"]).lower()
    assert "mykey_id" not in text and "mykeyid" not in text

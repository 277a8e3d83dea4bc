"""The published contract: /openapi.json describes every route, and no schema names a MyKey ID."""

from __future__ import annotations

import json

import httpx


def test_the_document_lists_the_v1_api(api: httpx.Client) -> None:
    doc = api.get("/openapi.json").json()
    routes = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert routes == {
        ("/v1/health", "get"),
        ("/v1/sessions", "post"),
        ("/v1/issuers", "get"),
        ("/v1/challenges", "post"),
        ("/v1/lookups", "post"),
        ("/v1/events", "post"),
        ("/v1/offline/trust", "get"),
        ("/v1/offline/assertions", "post"),
    }
    events = doc["paths"]["/v1/events"]["post"]
    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= (
        events["parameters"][0].items()
    )
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "422" not in op["responses"], path  # errors are 4XX with the Error shape
            if path not in ("/v1/health", "/v1/sessions"):
                assert op["security"] == [{"HTTPBearer": []}], path


def test_no_schema_has_a_place_for_the_mykey_id(api: httpx.Client) -> None:
    text = json.dumps(api.get("/openapi.json").json()["components"]).lower()
    assert "mykey_id" not in text and "mykeyid" not in text

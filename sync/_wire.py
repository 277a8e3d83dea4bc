"""Parsing the platform's JSON answers into the core's values, strictly.

Anything that is not exactly what the OpenAPI document promises (wrong type, unknown enum value,
missing field, not JSON at all) is a :class:`MalformedReply`; the message names the field, never
its value, because values may be card numbers.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import httpx

from appliance.errors import MalformedReply
from appliance.values import (
    CardNumber,
    CheckScheme,
    Handover,
    Issuer,
    LookupMatch,
    NumberDisplay,
    Symbology,
)

T = TypeVar("T")


def json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # deep nesting: a bomb
        raise MalformedReply(f"HTTP {response.status_code}: body is not JSON") from exc
    if not isinstance(body, dict):
        raise MalformedReply(f"HTTP {response.status_code}: body is not a JSON object")
    return body


def error_code(response: httpx.Response) -> str:
    """The ``error`` of an error answer, or "" when the body has none."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def field(obj: dict[str, Any], name: str, kind: type[T]) -> T:
    value = obj.get(name)
    # bool is an int to Python, never to the contract.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedReply(f"field {name!r}: expected {kind.__name__}")
    return value


def b64_field(obj: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(field(obj, name, str), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedReply(f"field {name!r}: not base64") from exc


def optional(obj: dict[str, Any], name: str, kind: type[T], default: T) -> T:
    """A field a platform of an earlier release does not send: absent = ``default``."""
    return default if name not in obj else field(obj, name, kind)


def issuer(obj: object) -> Issuer:
    """An issuer. ``alphabet`` and ``number_display`` came with issue 4's label rules; an older
    platform omits them and its issuers keep the defaults (any characters, masked number)."""
    if not isinstance(obj, dict):
        raise MalformedReply("issuer: expected an object")
    lengths = field(obj, "lengths", list)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in lengths):
        raise MalformedReply("field 'lengths': expected integers")
    try:
        return Issuer(
            issuer_id=field(obj, "issuer_id", str),
            name=field(obj, "name", str),
            symbology=Symbology(field(obj, "symbology", str)),
            codabar_start=field(obj, "codabar_start", str),
            codabar_stop=field(obj, "codabar_stop", str),
            check=CheckScheme(field(obj, "check", str)),
            lengths=tuple(lengths),
            handover=Handover(field(obj, "handover", str)),
            pin_required=field(obj, "pin_required", bool),
            alphabet=optional(obj, "alphabet", str, ""),
            number_display=NumberDisplay(optional(obj, "number_display", str, "masked")),
        )
    except ValueError as exc:  # an enum value this kiosk does not know
        raise MalformedReply(f"issuer: {exc}") from exc


def match(obj: object) -> LookupMatch:
    """One lookup match. A number that breaks its issuer's rules raises InvalidCardNumber."""
    if not isinstance(obj, dict):
        raise MalformedReply("match: expected an object")
    return LookupMatch(
        number=CardNumber(issuer(obj.get("issuer")), field(obj, "card_number", str)),
        card_valid=field(obj, "card_valid", bool),
        address_changed=field(obj, "address_changed", bool),
    )

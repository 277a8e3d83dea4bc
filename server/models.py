"""The wire format of ``/v1``: every request and answer body, as pydantic models.

These models *are* the contract: FastAPI turns them into ``/openapi.json``, which the kiosk's
client is tested against. Requests forbid unknown fields, so a typo in a client is an error
rather than a silently ignored value. Binary values travel as standard base64 (``format: byte``).
No model has a field for the MyKey ID.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints

B64_PATTERN = r"^[A-Za-z0-9+/]*={0,2}$"


def _b64(max_length: int, description: str) -> object:
    return Field(
        pattern=B64_PATTERN,
        min_length=4,
        max_length=max_length,
        description=description,
        json_schema_extra={"format": "byte"},
    )


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionRequest(_Request):
    terminal_id: str = Field(pattern=r"^[0-9]{8}$", description="From the ministry's list")
    password: str = Field(min_length=1, max_length=128)
    fingerprint: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$",
        description="SHA-256 (hex) over the board's identifiers; bound at the first login",
    )


class Session(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`")
    expires_in: int = Field(description="Seconds")


class Issuer(BaseModel):
    """An ID-issuer (library) with its card-number and hand-over rules."""

    issuer_id: str = Field(pattern=r"^[0-9]{6}$")
    name: str
    symbology: Literal["codabar", "code39", "code128"]
    codabar_start: str = Field(pattern=r"^[A-D]$")
    codabar_stop: str = Field(pattern=r"^[A-D]$")
    check: Literal["none", "mod10w21", "7dr", "7dsr"]
    lengths: list[int] = Field(description="Allowed card-number lengths; empty = any")
    handover: Literal["A", "B", "C", "D"] = Field(
        description="A: on screen, B: barcode on screen, C: automatic input, D: label"
    )
    pin_required: bool


class IssuerList(BaseModel):
    issuers: list[Issuer]


class ChallengeRequest(_Request):
    purpose: Literal["lookup"]


class Challenge(BaseModel):
    nonce: str = Field(description="32 random bytes, base64", json_schema_extra={"format": "byte"})
    expires_in: int = Field(description="Seconds; single use, bound to terminal and purpose")


class LookupRequest(_Request):
    nonce: Annotated[str, _b64(64, "The challenge's nonce, base64")]
    certificate: Annotated[str, _b64(16384, "User-authentication certificate, DER, base64")]
    signature: Annotated[
        str,
        _b64(
            2048,
            "RSA PKCS#1 v1.5 signature over SHA-256(nonce || terminal ID || purpose), base64",
        ),
    ]


class LookupMatch(BaseModel):
    """One library card linked to the card, at an issuer this terminal serves."""

    issuer: Issuer
    card_number: str
    card_valid: bool
    address_changed: bool


class LookupResult(BaseModel):
    matches: list[LookupMatch] = Field(
        description="Empty when the card is valid but not linked at this terminal's issuers"
    )


FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
FieldValue = Annotated[StrictStr, StringConstraints(max_length=200)] | StrictInt


class EventRequest(_Request):
    """A non-personal event (counts, faults, ids). Never a card number, certificate or PIN."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,63}$")
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=32)


class EventAccepted(BaseModel):
    accepted: Literal[True]


class Health(BaseModel):
    status: Literal["ok"]


class Error(BaseModel):
    """Every error answer: a stable code for programs, a sentence for people."""

    error: str = Field(
        description=(
            "request.invalid, terminal.credentials, terminal.fingerprint, session.invalid, "
            "challenge.invalid, card.rejected, idempotency.missing, idempotency.conflict, "
            "http.<status>, server.error"
        )
    )
    detail: str

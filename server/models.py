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


def b64_field(max_length: int, description: str) -> object:
    """A base64 string field of at most ``max_length`` characters (OpenAPI format byte)."""
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
    check: Literal["none", "mod10w21", "7dr", "7dsr", "mod11", "mod16"] = Field(
        description="Check character: mod16 is NW-7's, over start + number + stop (Codabar only)"
    )
    lengths: list[int] = Field(description="Allowed card-number lengths; empty = any")
    handover: Literal["A", "B", "C", "D"] = Field(
        description="A: on screen, B: barcode on screen, C: automatic input, D: label"
    )
    pin_required: bool
    # Added after the first release: a kiosk that lacks them reads the defaults.
    alphabet: str = Field(
        "", description="Characters a card number may use; empty = any the symbology encodes"
    )
    number_display: Literal["full", "masked", "hidden"] = Field(
        "masked", description="The human-readable number on a label: whole, last 3, or none"
    )


class IssuerList(BaseModel):
    issuers: list[Issuer]


class ChallengeRequest(_Request):
    purpose: Literal["lookup", "register", "unregister"] = Field(
        description="lookup: a visit; register / unregister: the staff's service-ID flows"
    )


class Challenge(BaseModel):
    nonce: str = Field(description="32 random bytes, base64", json_schema_extra={"format": "byte"})
    expires_in: int = Field(description="Seconds; single use, bound to terminal and purpose")


class LookupRequest(_Request):
    nonce: Annotated[str, b64_field(64, "The challenge's nonce, base64")]
    certificate: Annotated[str, b64_field(16384, "User-authentication certificate, DER, base64")]
    signature: (
        Annotated[
            str,
            b64_field(
                2048,
                "RSA PKCS#1 v1.5 signature over SHA-256(nonce || terminal ID || purpose), base64."
                " Omitted (or null) for a certificate-only proof: then only issuers whose"
                " `pin_required` is false answer.",
            ),
        ]
        | None
    ) = None


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


class Problem(BaseModel):
    """One thing wrong with one field of a form; a form's answer lists every one at once."""

    field: str
    code: str = Field(description="Stable, for the terminal's own bilingual message")
    detail: str


class Error(BaseModel):
    """Every error answer: a stable code for programs, a sentence for people."""

    error: str = Field(
        description=(
            "request.invalid, terminal.credentials, terminal.fingerprint, terminal.unregistered,"
            " signin.throttled, registration.invalid, session.invalid, challenge.invalid,"
            " card.rejected, card.pin_required, issuer.not_served, card_number.invalid,"
            " citizen.unknown, service_id.exists, service_id.conflict, service_id.taken,"
            " service_id.unknown, idempotency.missing, idempotency.conflict, http.<status>,"
            " server.error"
        )
    )
    detail: str
    problems: list[Problem] = Field(
        default_factory=list, description="Per-field problems of a form (form 10, card number)"
    )


_Text = Annotated[str, StringConstraints(max_length=200)]


class TerminalRegistration(_Request):
    """Form 10: a terminal registers with its ministry credentials and its contact details.

    Every field is checked by the platform and *all* problems come back together (``problems``
    of a 400 ``registration.invalid``), so the fields are plain bounded strings here.
    """

    terminal_id: _Text = ""
    password: _Text = ""
    fingerprint: _Text = Field("", description="SHA-256 (hex, 64) over the board's identifiers")
    place: _Text = Field("", description="Installation place (required)")
    name: _Text = Field("", description="Terminal name (required)")
    issuer_id: _Text = Field("", description="ID-issuer (kind ア only, required there)")
    person: _Text = Field("", description="Person in charge (optional)")
    postal_code: _Text = Field("", description="7 digits, with or without the hyphen")
    address: _Text = Field("", description="Required")
    phone: _Text = Field("", description="Digits and hyphens, 10 or 11 digits")
    email: _Text = Field("", description="Required")
    email_again: _Text = Field("", description="Typed again; must equal `email`")


class RegistrationAccepted(BaseModel):
    terminal_id: str
    status: Literal["registered", "re-registered", "updated"] = Field(
        description="re-registered: a new board replaced the old one, whose sessions ended"
    )
    contact_confirmed: bool = Field(description="False until the municipality confirms")


class _CardProof(_Request):
    nonce: Annotated[str, b64_field(64, "The challenge's nonce, base64")]
    certificate: Annotated[str, b64_field(16384, "User-authentication certificate, DER, base64")]
    signature: Annotated[
        str,
        b64_field(2048, "RSA PKCS#1 v1.5 signature over SHA-256(nonce || terminal ID || purpose)"),
    ]
    issuer_id: str = Field(pattern=r"^[0-9]{6}$", description="An issuer this terminal serves")


class ServiceIdRequest(_CardProof):
    """Service-ID registration at the counter: the patron's card proof (purpose ``register``)
    and the library card number staff typed or read."""

    card_number: str = Field(min_length=1, max_length=64)
    address_notice: bool = Field(description="The patron asked for address-change notices")


class ServiceIdDeletion(_CardProof):
    """Deleting a registration; the patron's card proof (purpose ``unregister``) consents."""


class ServiceId(BaseModel):
    """What is now stored, for the staff's confirmation screen."""

    issuer: Issuer
    card_number: str
    address_notice: bool


class ServiceIdDeleted(BaseModel):
    issuer_id: str
    deleted: Literal[True]

"""Frozen values that travel between the layers.

Secrets (PIN, card number) hide themselves from ``repr`` so that a stray ``log.debug(obj)`` or a
traceback cannot leak them (DEVELOPERS.md: no card number, certificate or PIN in clear in a log).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from appliance.errors import InvalidCardNumber, IssuerRecordInvalid

_E = TypeVar("_E", bound=Enum)


class Symbology(Enum):
    CODABAR = "codabar"  # NW-7, the Japanese library norm
    CODE39 = "code39"
    CODE128 = "code128"


class CheckScheme(Enum):
    NONE = "none"
    MOD10_W21 = "mod10w21"  # modulus 10, weights 2-1 from the right (Luhn)
    MOD7_DR = "7dr"  # check digit = number mod 7
    MOD7_DSR = "7dsr"  # check digit = 7 - (number mod 7), 7 written as 0
    MOD11 = "mod11"  # modulus 11, weights 2-7 from the right, 10 and 11 written as 0
    MOD16 = "mod16"  # the NW-7 check character over start + data + stop (Codabar only)


class NumberDisplay(Enum):
    """How the human-readable card number appears on a label (per issuer; masked by default)."""

    MASKED = "masked"  # all but the last 3 characters as *
    FULL = "full"  # the whole number (some self-checkouts' staff key it in by hand)
    HIDDEN = "hidden"  # no number under the barcode at all


class Handover(Enum):
    """How a looked-up card number reaches the library system (the seed's methods A-D)."""

    SCREEN = "A"
    SCREEN_BARCODE = "B"
    AUTO_INPUT = "C"
    LABEL = "D"


@dataclass(frozen=True)
class Pin:
    """A 4-digit user-authentication PIN. Its digits never show in ``repr`` or ``str``."""

    digits: str = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.digits) != 4 or not self.digits.isascii() or not self.digits.isdigit():
            raise ValueError("a PIN is exactly 4 digits")

    def __str__(self) -> str:
        return "Pin(****)"

    __repr__ = __str__


@dataclass(frozen=True)
class Issuer:
    """An ID-issuer (a library) this terminal serves, with its card-number rules."""

    issuer_id: str
    name: str
    symbology: Symbology = Symbology.CODABAR
    codabar_start: str = "A"
    codabar_stop: str = "A"
    check: CheckScheme = CheckScheme.NONE
    lengths: tuple[int, ...] = ()
    handover: Handover = Handover.LABEL
    pin_required: bool = True
    alphabet: str = ""  # characters a card number may use; "" = any the symbology can encode
    number_display: NumberDisplay = NumberDisplay.MASKED  # the number under the barcode


def issuer_record(issuer: Issuer) -> dict[str, Any]:
    """``issuer`` as JSON-able data: the one serialisation of an issuer kept on this kiosk.

    The label-job store, the bookmobile trust cache and the SIP2 token store all keep issuers
    (their label rules travel with what they store); one pair of functions means a new field
    cannot be dropped by one of them again (``alphabet`` and ``number_display`` once were).
    """
    return {
        "issuer_id": issuer.issuer_id,
        "name": issuer.name,
        "symbology": issuer.symbology.value,
        "codabar_start": issuer.codabar_start,
        "codabar_stop": issuer.codabar_stop,
        "check": issuer.check.value,
        "lengths": list(issuer.lengths),
        "handover": issuer.handover.value,
        "pin_required": issuer.pin_required,
        "alphabet": issuer.alphabet,
        "number_display": issuer.number_display.value,
    }


def issuer_from_record(record: Mapping[str, object]) -> Issuer:
    """The issuer :func:`issuer_record` wrote; ``IssuerRecordInvalid`` naming every bad field.

    Strict on types (a number where text belongs is damage, not something to coerce). Records
    written before ``alphabet`` and ``number_display`` existed read with their defaults (any
    character, masked); keys this kiosk does not know are ignored, so a record from a newer
    version still reads.
    """
    if not isinstance(record, Mapping):
        raise IssuerRecordInvalid("issuer record: not an object")
    found: list[str] = []

    def text(key: str, default: str | None = None) -> str:
        value = record.get(key, default)
        if not isinstance(value, str):
            found.append(f"{key}: expected text")
            return ""
        return value

    def choice(kind: type[_E], key: str, default: str | None = None) -> _E | None:
        value = record.get(key, default)
        try:
            return kind(value)
        except ValueError:
            found.append(f"{key}: unknown value")  # never the value: names are not secrets,
            return None  # but the record may be damaged anywhere

    issuer_id, name = text("issuer_id"), text("name")
    start, stop, alphabet = text("codabar_start"), text("codabar_stop"), text("alphabet", "")
    symbology = choice(Symbology, "symbology")
    check = choice(CheckScheme, "check")
    handover = choice(Handover, "handover")
    display = choice(NumberDisplay, "number_display", NumberDisplay.MASKED.value)
    lengths = record.get("lengths")
    if not isinstance(lengths, list | tuple) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in lengths
    ):
        found.append("lengths: expected a list of positive whole numbers")
        lengths = []
    pin_required = record.get("pin_required")
    if not isinstance(pin_required, bool):
        found.append("pin_required: expected true or false")
    if found or symbology is None or check is None or handover is None or display is None:
        raise IssuerRecordInvalid("issuer record: " + "; ".join(found))
    return Issuer(
        issuer_id=issuer_id,
        name=name,
        symbology=symbology,
        codabar_start=start,
        codabar_stop=stop,
        check=check,
        lengths=tuple(lengths),
        handover=handover,
        pin_required=bool(pin_required),
        alphabet=alphabet,
        number_display=display,
    )


@dataclass(frozen=True)
class CardNumber:
    """A library card number, checked against its issuer's rules on creation."""

    issuer: Issuer
    value: str = field(repr=False)

    def __post_init__(self) -> None:
        from appliance.checkdigits import problems

        found = problems(self.value, self.issuer)
        if found:
            raise InvalidCardNumber("; ".join(found))

    def masked(self) -> str:
        """What may be shown or logged: all but the last 3 characters hidden."""
        return "*" * max(0, len(self.value) - 3) + self.value[-3:]

    def label_text(self) -> str:
        """The human-readable number printed under the barcode, as the issuer configured it."""
        display = self.issuer.number_display
        if display is NumberDisplay.FULL:
            return self.value
        return self.masked() if display is NumberDisplay.MASKED else ""

    def barcode_data(self) -> str:
        """The data the barcode encodes, with Codabar's start/stop characters where they apply."""
        if self.issuer.symbology is Symbology.CODABAR:
            return f"{self.issuer.codabar_start}{self.value}{self.issuer.codabar_stop}"
        return self.value

    def __str__(self) -> str:
        return f"CardNumber({self.issuer.issuer_id}, {self.masked()})"

    __repr__ = __str__


@dataclass(frozen=True)
class CardRead:
    """What the kiosk learnt from the card without a PIN."""

    certificate: bytes = field(repr=False)
    pin_tries_left: int


@dataclass(frozen=True)
class CardProof:
    """Certificate + signature over the platform's challenge: what the platform checks."""

    certificate: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    signature: bytes = field(repr=False)


@dataclass(frozen=True)
class Challenge:
    """A single-use platform nonce, bound to this terminal and purpose."""

    nonce: bytes = field(repr=False)
    terminal_id: str
    purpose: str = "lookup"


@dataclass(frozen=True)
class LookupMatch:
    """One linked library card at an issuer this terminal serves. Never carries the MyKey ID."""

    number: CardNumber
    card_valid: bool = True
    address_changed: bool = False


@dataclass(frozen=True)
class LabelJob:
    """A same-day label waiting to be printed."""

    job_id: str
    number: CardNumber
    issued_on: str  # ISO date, the only day the label is valid
    provisional: bool = False
    valid_hours: str = ""  # a day-token label's validity, e.g. "2026-12-01 10:32–20:00"
    stop: str = ""  # bookmobile stop printed on a provisional label (appliance/offline.py)


@dataclass(frozen=True)
class PrintedLabel:
    """Where the printer put what it printed (the virtual printer writes files)."""

    job_id: str
    artifacts: tuple[str, ...] = ()

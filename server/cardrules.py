"""An issuer's card-number rules, checked by the platform at service-ID registration.

The kiosk checks the same rules (``appliance/checkdigits.py``) before it prints; the platform may
not import the kiosk, so the rules are written out again here, and
``tests/server/test_service_ids.py`` checks that both agree on every scheme. Each problem is a
(code, sentence) pair, all of them at once.

:func:`issuer_problems` checks an issuer's own rules when one is added, so the platform never
serves rules the kiosk would refuse (``mod16`` is the NW-7 check character: Codabar only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

_CODABAR_DATA = "0123456789-$:/.+"
_CODABAR_VALUES = {ch: i for i, ch in enumerate(_CODABAR_DATA + "ABCD")}
_CODE39_DATA = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
SCHEMES = ("none", "mod10w21", "7dr", "7dsr", "mod11", "mod16")
NUMBER_DISPLAYS = ("full", "masked", "hidden")
SYMBOLOGIES = ("codabar", "code39", "code128")


class _Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class Rules:
    """What of an issuer's row the card-number check needs (``lengths`` as stored: "8,10")."""

    symbology: str
    check_scheme: str
    lengths: str = ""
    alphabet: str = ""
    codabar_start: str = "A"
    codabar_stop: str = "A"

    @classmethod
    def of(cls, row: _Row) -> Rules:
        """From an ``issuers`` row (a database row by column name)."""
        return cls(row["symbology"], row["check_scheme"], row["lengths"], row["alphabet"],
                   row["codabar_start"], row["codabar_stop"])  # fmt: skip


def check_digit(body: str, scheme: str, *, start: str = "", stop: str = "") -> str:
    """The check character for ``body`` under ``scheme`` (``start``/``stop``: mod16's frame)."""
    if scheme == "mod16":  # NW-7: start + data + stop sum to a multiple of 16
        chars = f"{start}{body}{stop}"
        if not chars or any(ch not in _CODABAR_VALUES for ch in chars):
            raise ValueError("mod16 needs Codabar characters")
        return _CODABAR_DATA[-sum(_CODABAR_VALUES[ch] for ch in chars) % 16]
    if scheme == "mod10w21":  # Luhn-style: weights 2,1 from the right, digit sums
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch) * (2 if i % 2 == 0 else 1)
            total += d // 10 + d % 10
        return str((10 - total % 10) % 10)
    if scheme == "7dr":  # remainder of 7
        return str(int(body) % 7)
    if scheme == "7dsr":  # 7 minus the remainder of 7
        return str((7 - int(body) % 7) % 7)
    if scheme == "mod11":  # weights 2-7 repeating from the right; 10 and 11 written as 0
        total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(body)))
        check = 11 - total % 11
        return "0" if check >= 10 else str(check)
    raise ValueError(f"unknown check scheme {scheme}")


def problems(value: str, rules: Rules) -> list[tuple[str, str]]:
    """Every way ``value`` breaks the issuer's rules (empty = valid)."""
    if not value:
        return [("card_number.empty", "the card number is empty")]
    found: list[tuple[str, str]] = []
    if not value.isascii() or not value.isprintable():
        found.append(("card_number.characters", "only printable ASCII characters are allowed"))
    elif rules.symbology == "codabar" and any(ch not in _CODABAR_DATA for ch in value):
        found.append(("card_number.characters", "characters outside the NW-7 data set"))
    elif rules.symbology == "code39" and any(ch not in _CODE39_DATA for ch in value):
        found.append(("card_number.characters", "characters outside the Code39 set"))
    if rules.alphabet and any(ch not in rules.alphabet for ch in value):
        found.append(("card_number.alphabet", "characters outside the library's alphabet"))
    allowed = [int(n) for n in rules.lengths.split(",") if n]
    if allowed and len(value) not in allowed:
        found.append(("card_number.length", f"length {len(value)}, allowed {allowed}"))
    scheme = rules.check_scheme
    if scheme == "mod16":
        if rules.symbology != "codabar":
            found.append(("card_number.scheme", "mod16 is the NW-7 check: Codabar issuers only"))
        elif len(value) < 2 or any(ch not in _CODABAR_DATA for ch in value):
            found.append(("card_number.digits", "the mod16 check needs NW-7 data characters"))
        else:
            try:
                check = check_digit(
                    value[:-1], scheme, start=rules.codabar_start, stop=rules.codabar_stop
                )
            except ValueError:
                found.append(("card_number.scheme", "the library's start/stop must be A-D"))
            else:
                if check != value[-1]:
                    found.append(("card_number.check_digit", "the check character does not match"))
    elif scheme != "none":
        if not value.isascii() or not value.isdigit() or len(value) < 2:
            found.append(("card_number.digits", f"the {scheme} check needs digits only"))
        elif check_digit(value[:-1], scheme) != value[-1]:
            found.append(("card_number.check_digit", "the check digit does not match"))
    return found


def issuer_problems(rules: Rules, number_display: str = "masked") -> list[str]:
    """Every way an issuer's own rules are inconsistent (empty = it may be served)."""
    found: list[str] = []
    if rules.symbology not in SYMBOLOGIES:
        found.append(f"symbology {rules.symbology!r} is not one of {SYMBOLOGIES}")
    if rules.check_scheme not in SCHEMES:
        found.append(f"check scheme {rules.check_scheme!r} is not one of {SCHEMES}")
    if number_display not in NUMBER_DISPLAYS:
        found.append(f"number display {number_display!r} is not one of {NUMBER_DISPLAYS}")
    if rules.check_scheme == "mod16" and rules.symbology != "codabar":
        found.append("mod16 is the NW-7 check character: Codabar issuers only")
    frame = {rules.codabar_start, rules.codabar_stop}
    if rules.symbology == "codabar" and not frame <= set("ABCD"):
        found.append("Codabar start and stop characters are A-D")
    alphabet = rules.alphabet
    if alphabet and (not alphabet.isascii() or not alphabet.isprintable()):
        found.append("the alphabet is printable ASCII only")
    elif alphabet and rules.symbology == "codabar" and set(alphabet) - set(_CODABAR_DATA):
        found.append("the alphabet has characters NW-7 cannot encode")
    elif alphabet and rules.symbology == "code39" and set(alphabet) - _CODE39_DATA:
        found.append("the alphabet has characters Code39 cannot encode")
    for n in rules.lengths.split(","):
        if n and (not n.isdigit() or int(n) < 1):
            found.append(f"length {n!r} is not a positive number")
    return found

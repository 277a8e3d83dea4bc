"""An issuer's card-number rules, checked by the platform at service-ID registration.

The kiosk checks the same rules (``appliance/checkdigits.py``) before it prints; the platform may
not import the kiosk, so the rules are written out again here, and
``tests/server/test_service_ids.py`` checks that both agree on every scheme. Each problem is a
(code, sentence) pair, all of them at once.
"""

from __future__ import annotations

_CODABAR_DATA = frozenset("0123456789-$:/.+")


def check_digit(body: str, scheme: str) -> str:
    """The check character for the digits ``body`` under ``scheme``."""
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
    raise ValueError(f"unknown check scheme {scheme}")


def problems(
    value: str, *, symbology: str, check_scheme: str, lengths: str
) -> list[tuple[str, str]]:
    """Every way ``value`` breaks the issuer's rules (empty = valid)."""
    if not value:
        return [("card_number.empty", "the card number is empty")]
    found: list[tuple[str, str]] = []
    if not value.isascii() or not value.isprintable():
        found.append(("card_number.characters", "only printable ASCII characters are allowed"))
    elif symbology == "codabar" and any(ch not in _CODABAR_DATA for ch in value):
        found.append(("card_number.characters", "characters outside the NW-7 data set"))
    allowed = [int(n) for n in lengths.split(",") if n]
    if allowed and len(value) not in allowed:
        found.append(("card_number.length", f"length {len(value)}, allowed {allowed}"))
    if check_scheme != "none":
        if not value.isascii() or not value.isdigit() or len(value) < 2:
            found.append(("card_number.digits", f"the {check_scheme} check needs digits only"))
        elif check_digit(value[:-1], check_scheme) != value[-1]:
            found.append(("card_number.check_digit", "the check digit does not match"))
    return found

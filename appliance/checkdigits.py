"""Card-number rules per issuer: alphabet, length and check digit.

A number that fails these rules is never printed (LABELS.md): a label that scans but names the
wrong account is worse than no label. The rules are checked when a :class:`CardNumber` is made,
so a number that reached a label job has passed them.

The schemes Japanese libraries use (LABELS.md), each over the number without its check character:

- ``mod10w21``: modulus 10, weights 2-1 from the right, digit sums (Luhn).
- ``7dr``: check digit = number mod 7.
- ``7dsr``: check digit = 7 - (number mod 7), 7 written as 0.
- ``mod11``: modulus 11, weights 2-7 repeating from the right, check = 11 - (sum mod 11); 10 and
  11 are written as 0 (the usual Japanese convention; it keeps the check a digit).
- ``mod16``: the NW-7/Codabar check character (JIS X 0503, AIM): every character's value *with
  the start and stop characters* (0-9 = 0-9, ``- $ : / . +`` = 10-15, ``A B C D`` = 16-19) is
  summed, and the check character brings the sum to a multiple of 16. It may be one of
  ``- $ : / . +``, so it only fits Codabar issuers, and the frame is part of the number's rule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.values import Issuer

_CODABAR_DATA = "0123456789-$:/.+"
_CODABAR_VALUES = {ch: i for i, ch in enumerate(_CODABAR_DATA + "ABCD")}
_CODE39_DATA = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%")
# Schemes whose check character is always a digit (the others need an alphabet that has it).
DIGIT_SCHEMES = frozenset({"mod10w21", "7dr", "7dsr", "mod11"})


def compute(body: str, scheme_value: str, *, start: str = "", stop: str = "") -> str:
    """The check character for ``body`` under the scheme named by ``scheme_value``.

    ``start``/``stop`` are the Codabar frame, used by ``mod16`` only. ``ValueError`` if ``body``
    is not in the scheme's alphabet (digits; for ``mod16`` the Codabar data characters).
    """
    if scheme_value == "mod16":
        chars = f"{start}{body}{stop}"
        if not chars or any(ch not in _CODABAR_VALUES for ch in chars):
            raise ValueError("mod16 needs Codabar characters")
        return _CODABAR_DATA[-sum(_CODABAR_VALUES[ch] for ch in chars) % 16]
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f"{scheme_value} needs digits")
    if scheme_value == "mod10w21":
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch) * (2 if i % 2 == 0 else 1)
            total += d // 10 + d % 10
        return str((10 - total % 10) % 10)
    if scheme_value == "7dr":
        return str(int(body) % 7)
    if scheme_value == "7dsr":
        return str((7 - int(body) % 7) % 7)
    if scheme_value == "mod11":
        total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(body)))
        check = 11 - total % 11
        return "0" if check >= 10 else str(check)
    raise ValueError(f"unknown check scheme {scheme_value}")


def problems(value: str, issuer: Issuer) -> list[str]:
    """Every problem with ``value`` for ``issuer`` at once (empty list = valid). Never quotes it."""
    found: list[str] = []
    if not value:
        return ["empty card number"]
    if not value.isascii() or not value.isprintable():
        found.append("non-printable or non-ASCII characters")
    symbology = issuer.symbology.value
    if symbology == "codabar" and any(ch not in _CODABAR_DATA for ch in value):
        found.append("characters outside the NW-7 data set")
    if symbology == "code39" and any(ch not in _CODE39_DATA for ch in value):
        found.append("characters outside the Code39 set (0-9, A-Z, - . space $ / + %)")
    if issuer.alphabet and any(ch not in issuer.alphabet for ch in value):
        found.append("characters outside the issuer's card-number alphabet")
    if issuer.lengths and len(value) not in issuer.lengths:
        found.append(f"length {len(value)} not in {issuer.lengths}")
    scheme = issuer.check.value
    if scheme == "mod16":
        if symbology != "codabar":
            found.append("mod16 is the NW-7 check character: Codabar issuers only")
        elif len(value) < 2 or any(ch not in _CODABAR_DATA for ch in value):
            found.append("mod16 needs at least 2 NW-7 data characters")
        else:
            try:
                check = compute(
                    value[:-1], scheme, start=issuer.codabar_start, stop=issuer.codabar_stop
                )
            except ValueError:
                found.append("the issuer's start/stop characters must be A-D")
            else:
                if check != value[-1]:
                    found.append("check character does not match")
    elif scheme != "none":
        if not value.isascii() or not value.isdigit() or len(value) < 2:
            found.append("check-digit scheme needs digits only")
        elif compute(value[:-1], scheme) != value[-1]:
            found.append("check digit does not match")
    return found

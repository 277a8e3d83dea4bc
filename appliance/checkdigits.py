"""Card-number rules per issuer: alphabet, length and check digit.

A number that fails these rules is never printed (LABELS.md): a label that scans but names the
wrong account is worse than no label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.values import Issuer

_CODABAR_DATA = set("0123456789-$:/.+")


def compute(body: str, scheme_value: str) -> str:
    """The check character for ``body`` under the scheme named by ``scheme_value``."""
    n = int(body)
    if scheme_value == "mod10w21":
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch) * (2 if i % 2 == 0 else 1)
            total += d // 10 + d % 10
        return str((10 - total % 10) % 10)
    if scheme_value == "7dr":
        return str(n % 7)
    if scheme_value == "7dsr":
        return str((7 - n % 7) % 7)
    raise ValueError(f"unknown check scheme {scheme_value}")


def problems(value: str, issuer: Issuer) -> list[str]:
    """Every problem with ``value`` for ``issuer`` at once (empty list = valid)."""
    found: list[str] = []
    if not value:
        return ["empty card number"]
    if any(ch not in _CODABAR_DATA for ch in value) and issuer.symbology.value == "codabar":
        found.append("characters outside the NW-7 data set")
    if not value.isascii() or not value.isprintable():
        found.append("non-printable characters")
    if issuer.lengths and len(value) not in issuer.lengths:
        found.append(f"length {len(value)} not in {issuer.lengths}")
    scheme = issuer.check.value
    if scheme != "none":
        if not value.isdigit() or len(value) < 2:
            found.append("check-digit scheme needs digits only")
        elif compute(value[:-1], scheme) != value[-1]:
            found.append("check digit does not match")
    return found

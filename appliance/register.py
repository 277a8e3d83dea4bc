"""Service-ID registration at the counter (staff flow): link a library card number to a card.

Staff type (or scan) the number and pick the library; the number is checked against the
issuer's rules *before* the patron is asked for anything; the patron taps the card (+PIN where
the issuer requires one), which proves it over a challenge of purpose ``register`` (or
``unregister``); staff confirm the number on screen; then the platform stores it. The PIN goes to
the card once per action: a wrong PIN ends the action, nothing here tries it again.

What is wrong with a typed number comes back as message keys (ja + en), one per kind of
problem, so staff see *what* to fix (length, check digit, characters), never just "invalid".
"""

from __future__ import annotations

import logging
import unicodedata

from appliance.checkdigits import problems
from appliance.flow import PendingTap, prove_tap, read_card
from appliance.ports import CardReader, RegisteredServiceId, ServiceIds
from appliance.values import CardNumber, CardProof, Issuer, Pin, Symbology

log = logging.getLogger(__name__)

_CODABAR_FRAME = "ABCD"


def clean_number(typed: str, issuer: Issuer) -> str:
    """The number as the issuer's rules see it: full-width typing (an IME) folded to ASCII,
    spaces dropped, and the NW-7 start/stop characters a reader may send stripped."""
    value = "".join(unicodedata.normalize("NFKC", typed).split())
    if issuer.symbology is Symbology.CODABAR and len(value) > 2:
        first, last = value[0].upper(), value[-1].upper()
        if first in _CODABAR_FRAME and last in _CODABAR_FRAME:
            value = value[1:-1]
    return value


def number_problems(value: str, issuer: Issuer) -> list[tuple[str, dict[str, object]]]:
    """Every kind of problem with ``value`` for ``issuer``, as (message key, params); [] = valid.

    Mirrors :func:`appliance.checkdigits.problems` (the rules the label and the platform use),
    translated into what staff can act on.
    """
    found: list[tuple[str, dict[str, object]]] = []
    for problem in problems(value, issuer):
        if problem.startswith("empty"):
            item: tuple[str, dict[str, object]] = ("register.number.empty", {})
        elif problem.startswith("length"):
            lengths = "/".join(str(n) for n in issuer.lengths)
            item = ("register.number.length", {"length": len(value), "lengths": lengths})
        elif problem.startswith("check-digit scheme needs digits"):
            item = ("register.number.digits", {})
        elif problem.startswith(("check digit", "check character")):
            item = ("register.number.check", {})
        elif problem.startswith(("non-printable", "characters outside")):
            item = ("register.number.chars", {})
        else:  # the issuer's own rules are inconsistent (mod16 on Code39, a bad frame)
            item = ("register.number.rules", {})
        if item not in found:
            found.append(item)
    return found


class ServiceIdFlow:
    """The card and platform steps of a registration or deletion. Blocking: run off the UI loop."""

    def __init__(self, reader: CardReader, platform: ServiceIds) -> None:
        self._reader = reader
        self._platform = platform

    def begin(self, purpose: str, pin_required: bool, timeout: float = 5.0) -> PendingTap:
        """Read the card (no PIN yet) and fetch a challenge of ``purpose`` (register/unregister)."""
        session = self._reader.connect(timeout)
        try:
            read = read_card(session, pin_required)
            challenge = self._platform.challenge(purpose)
        except BaseException:
            session.close()
            raise
        return PendingTap(session, read, challenge, pin_required)

    def prove(self, pending: PendingTap, pin: Pin | None) -> CardProof:
        """Send the PIN to the card once (where required) and sign; the tap is wiped either way."""
        try:
            return prove_tap(pending, pin)
        finally:
            pending.wipe()

    def register(
        self, proof: CardProof, number: CardNumber, *, address_notice: bool
    ) -> RegisteredServiceId:
        stored = self._platform.register_service_id(
            proof, number.issuer.issuer_id, number.value, address_notice=address_notice
        )
        log.info("service ID registered at issuer %s", number.issuer.issuer_id)
        return stored

    def delete(self, proof: CardProof, issuer: Issuer) -> None:
        self._platform.delete_service_id(proof, issuer.issuer_id)
        log.info("service ID deleted at issuer %s", issuer.issuer_id)

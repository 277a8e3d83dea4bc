"""Bookmobile lending without a network, and without a table that links cards to card numbers.

At a stop the kiosk cannot ask the platform for the patron's library card number, and it must not
carry a list that would tell it (a stolen bookmobile kiosk must reveal nothing about who uses the
library). So the tap is *deferred*:

1. ``begin``: read the certificate (no PIN), the tries left, and make the nonce here, on the kiosk:
   terminal ID (8 ASCII digits) || signing time (8 bytes, big-endian Unix seconds) || 16 random
   bytes. The platform reads terminal and time back out of it (``server/offline.py``).
2. ``finish``: VERIFY the PIN **once**, have the card sign ``DigestInfo(SHA-256(nonce || terminal
   ID || "offline"))`` (the online digest with its own purpose, so an online signature is never
   an offline one), check chain, validity, revocation and the revocation list's age locally
   (:class:`OfflineVerifier`), draw a provisional token from the issuer's reserved range
   (:class:`appliance.daytokens.TokenPolicy`, the same rules as day tokens), keep the signed
   :class:`Assertion` encrypted in the outbox, and print the label marked 「仮 / provisional」
   with the stop and the date.

The crew's circulation system records the loans against the token. Back online the outbox sends
each assertion and learns the card number (``sync/offline.py``). The assertion is stored *before*
the label is printed: a label whose token cannot be resolved would be a loan nobody can trace.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from appliance.daytokens import TokenPolicy
from appliance.errors import TrustMissing
from appliance.flow import PendingTap, prove_tap, read_card, refuse_unsynchronised
from appliance.ports import CardReader, ClockSync, LabelPrinter, Outbox
from appliance.proof import challenge_digest
from appliance.values import CardNumber, Challenge, LabelJob, Pin, PrintedLabel

log = logging.getLogger(__name__)

OFFLINE_PURPOSE = "offline"
NONCE_RANDOM_BYTES = 16
NONCE_BYTES = 8 + 8 + NONCE_RANDOM_BYTES
_DRAWS = 20  # attempts at a token not yet used today before giving up


def make_nonce(terminal_id: str, at: dt.datetime, random_part: bytes) -> bytes:
    """The offline nonce: terminal ID || Unix seconds (8 bytes BE) || 16 random bytes."""
    if len(terminal_id) != 8 or not terminal_id.isascii() or not terminal_id.isdigit():
        raise ValueError("a terminal ID is 8 digits")
    if len(random_part) != NONCE_RANDOM_BYTES:
        raise ValueError(f"the random part is {NONCE_RANDOM_BYTES} bytes")
    if at.tzinfo is None:
        raise ValueError("the signing time must be timezone-aware")
    seconds = int(at.timestamp())
    return terminal_id.encode("ascii") + seconds.to_bytes(8, "big") + random_part


def read_nonce(nonce: bytes) -> tuple[str, dt.datetime]:
    """(terminal ID, signing time in UTC) of an offline nonce; ``ValueError`` if it is not one."""
    if len(nonce) != NONCE_BYTES:
        raise ValueError("an offline nonce is 32 bytes")
    terminal_id = nonce[:8].decode("ascii", errors="replace")
    if not terminal_id.isdigit():
        raise ValueError("an offline nonce starts with the terminal ID")
    seconds = int.from_bytes(nonce[8:16], "big")
    return terminal_id, dt.datetime.fromtimestamp(seconds, dt.UTC)


def offline_digest(nonce: bytes) -> bytes:
    """SHA-256(nonce || terminal ID || "offline"): what the card signs at a stop."""
    terminal_id, _ = read_nonce(nonce)
    return challenge_digest(Challenge(nonce, terminal_id, OFFLINE_PURPOSE))


@dataclass(frozen=True)
class Assertion:
    """One offline tap: what the platform needs to name the card, and the token it stands for.

    Personal (certificate, and with the answer, the token's card number): it only ever exists
    encrypted at rest, and nothing of it shows in ``repr``.
    """

    certificate: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    token: str = field(repr=False)
    issuer_id: str
    signed_at: dt.datetime
    stop: str = ""

    @property
    def day(self) -> dt.date:
        return self.signed_at.astimezone().date()


class OfflineVerifier(Protocol):
    """The local check of a card's proof (``sync.offline_trust.LocalVerifier``)."""

    def check(self, certificate: bytes, digest: bytes, signature: bytes, now: dt.datetime) -> None:
        """Raise ``TrustMissing``, ``TrustStale``, ``CertificateRevoked`` or
        ``OfflineProofInvalid`` unless the proof holds at ``now``."""
        ...


class AssertionOutbox(Protocol):
    """Where assertions wait, encrypted, for the network (``sync.offline.AssertionStore``)."""

    def add(self, assertion: Assertion) -> bool:
        """Keep ``assertion`` durably; False (and nothing kept) if its token is already used."""
        ...


@dataclass(frozen=True)
class ProvisionalOutcome:
    job: LabelJob
    printed: PrintedLabel


class OfflineTapFlow:
    """The offline tap for one patron action. Blocking: run it off the UI loop."""

    def __init__(
        self,
        *,
        reader: CardReader,
        verifier: OfflineVerifier,
        outbox: AssertionOutbox,
        printer: LabelPrinter,
        events: Outbox,
        policy: TokenPolicy | None,
        terminal_id: str,
        stop: str,
        now: Callable[[], dt.datetime],
        pin_required: bool = True,
        randbytes: Callable[[int], bytes] = secrets.token_bytes,
        randbelow: Callable[[int], int] = secrets.randbelow,
        clock_sync: ClockSync | None = None,
    ) -> None:
        self._reader = reader
        self._verifier = verifier
        self._outbox = outbox
        self._printer = printer
        self._events = events
        self._policy = policy
        self._terminal_id = terminal_id
        self._stop = stop
        self._now = now
        self._pin_required = pin_required
        self._randbytes = randbytes
        self._randbelow = randbelow
        self._clock_sync = clock_sync

    def begin(self, timeout: float = 5.0) -> PendingTap:
        """Read what needs no PIN and make the nonce; the session stays open for the PIN."""
        if self._policy is None:
            raise TrustMissing("no provisional token range for this terminal's library")
        # The nonce carries the signing time and the label the date; the revocation list's age
        # is judged against the same clock. A bookmobile must have synced once since boot.
        refuse_unsynchronised(self._clock_sync)
        session = self._reader.connect(timeout)
        try:
            read = read_card(session, self._pin_required)
        except BaseException:
            session.close()
            raise
        nonce = make_nonce(self._terminal_id, self._now(), self._randbytes(NONCE_RANDOM_BYTES))
        challenge = Challenge(nonce, self._terminal_id, OFFLINE_PURPOSE)
        return PendingTap(session, read, challenge, self._pin_required)

    def finish(self, pending: PendingTap, pin: Pin | None) -> ProvisionalOutcome:
        """PIN once, signature, local check, token, stored assertion, provisional label."""
        try:
            proof = prove_tap(pending, pin, lambda challenge: offline_digest(challenge.nonce))
            certificate, nonce, signature = proof.certificate, proof.nonce, proof.signature
        finally:
            pending.wipe()
        _, signed_at = read_nonce(nonce)
        self._verifier.check(certificate, offline_digest(nonce), signature, self._now())
        policy = self._policy
        if policy is None:  # checked in begin; kept for the type checker
            raise TrustMissing("no provisional token range")
        day = signed_at.astimezone().date()
        for _ in range(_DRAWS):
            token = policy.draw(day, self._randbelow)
            assertion = Assertion(
                certificate, nonce, signature, token, policy.issuer.issuer_id, signed_at, self._stop
            )
            if self._outbox.add(assertion):
                break
        else:
            raise TrustMissing("no unused provisional token left today")
        job = LabelJob(
            job_id=secrets.token_hex(8),
            number=CardNumber(policy.issuer, token),
            issued_on=day.isoformat(),
            provisional=True,
            stop=self._stop,
        )
        printed = self._printer.print_label(job)
        self._events.record("offline_label_printed", issuer_id=policy.issuer.issuer_id)
        log.info("provisional label %s printed for issuer %s", job.job_id, policy.issuer.issuer_id)
        return ProvisionalOutcome(job, printed)

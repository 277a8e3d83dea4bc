"""The patron's tap → label flow (Method D), as two steps the UI can put a PIN pad between.

``begin`` reads what needs no PIN (certificate, tries left) and fetches the platform's challenge;
``finish`` sends the PIN to the card **once**, has the card sign the challenge, asks the platform
for the linked card number and prints the label. A wrong PIN ends the attempt: the patron decides
whether to try again, the kiosk never retries a PIN on their behalf (3 wrong = city office).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.errors import CardNotRegistered, ClockNotSynchronised, PinBlocked
from appliance.ports import (
    CardReader,
    CardSession,
    Clock,
    ClockSync,
    DayTokens,
    LabelJobs,
    LabelPrinter,
    Outbox,
    Platform,
)
from appliance.proof import challenge_digest, digest_info
from appliance.spool import LabelSpool, MemoryJobs
from appliance.values import (
    CardProof,
    CardRead,
    Challenge,
    LabelJob,
    LookupMatch,
    Pin,
    PrintedLabel,
)

log = logging.getLogger(__name__)


@dataclass
class PendingTap:
    """A card on the reader, read without a PIN, waiting for the patron's PIN.

    Mutable only so that :meth:`wipe` can drop what the patron left behind.
    """

    session: CardSession | None
    read: CardRead | None = field(repr=False)
    challenge: Challenge | None = field(repr=False)
    pin_required: bool = True

    @property
    def tries_left(self) -> int:
        return self.read.pin_tries_left if self.read else 0

    def wipe(self) -> None:
        """Close the card session and forget certificate and challenge (idle timeout, removal)."""
        if self.session is not None:
            self.session.close()
        self.session = None
        self.read = None
        self.challenge = None


def read_card(session: CardSession, pin_required: bool) -> CardRead:
    """What needs no PIN: the certificate, and the tries left (without spending one).

    A blocked card is refused here, before any PIN pad is shown. Shared by the online and the
    bookmobile (offline) flows; the caller closes ``session`` if this raises.
    """
    certificate = session.read_certificate()
    tries = session.pin_tries_left() if pin_required else 0
    if pin_required and tries == 0:
        raise PinBlocked("no PIN tries left")
    return CardRead(certificate, tries)


@dataclass(frozen=True)
class TapOutcome:
    match: LookupMatch
    printed: PrintedLabel


def prove_tap(
    pending: PendingTap,
    pin: Pin | None,
    digest: Callable[[Challenge], bytes] = challenge_digest,
) -> CardProof:
    """The PIN to the card once (where the issuer requires it), then the card's signature over
    ``digest(challenge)``: the one place every flow (lookup, registration, bookmobile) spends
    the patron's PIN, so "once per action, never retried" holds in one piece of code.

    Does not wipe ``pending``: the caller does, whatever happens (its ``finally``).
    """
    if pending.session is None or pending.read is None or pending.challenge is None:
        raise ValueError("this tap was already used or wiped")
    if pending.pin_required:
        if pin is None:
            raise ValueError("this issuer requires a PIN")
        pending.session.verify_pin(pin)  # exactly once, whatever happens next
    signature = pending.session.sign(digest_info(digest(pending.challenge)))
    return CardProof(pending.read.certificate, pending.challenge.nonce, signature)


def refuse_unsynchronised(clock_sync: ClockSync | None) -> None:
    """Refuse a dated label before the card is touched (no PIN spent) while the clock is not
    NTP-synchronised: the Pi has no RTC, so before sync the date may be any day.

    ``clock_sync`` None = not checked (development). Shared by the online and the bookmobile
    flows: a provisional label's date and its assertion's signing time matter just as much.
    """
    if clock_sync is not None and not clock_sync.synchronised():
        raise ClockNotSynchronised("clock not NTP-synchronised; dated labels refused")


class TapFlow:
    """Wires the ports for one patron action. Blocking: run it off the UI loop."""

    def __init__(
        self,
        *,
        reader: CardReader,
        platform: Platform,
        printer: LabelPrinter,
        outbox: Outbox,
        clock: Clock,
        pin_required: bool = True,
        tokens: DayTokens | None = None,
        jobs: LabelJobs | None = None,
        clock_sync: ClockSync | None = None,
    ) -> None:
        self._reader = reader
        self._tokens = tokens
        self._platform = platform
        self._printer = printer
        self._outbox = outbox
        self._clock = clock
        self._pin_required = pin_required
        # Every label goes through the spool: kept until printed, never printed twice. Without
        # a durable store (unit tests) the jobs live in memory.
        self.spool = LabelSpool(printer, jobs if jobs is not None else MemoryJobs(), clock)
        self._clock_sync = clock_sync

    @property
    def clock_sync(self) -> ClockSync | None:
        """The clock gate, for the other flows built on this kiosk (the bookmobile's)."""
        return self._clock_sync

    def begin(self, timeout: float = 5.0) -> PendingTap:
        refuse_unsynchronised(self._clock_sync)
        session = self._reader.connect(timeout)
        try:
            read = read_card(session, self._pin_required)
            challenge = self._platform.challenge("lookup")
        except BaseException:
            session.close()
            raise
        return PendingTap(session, read, challenge, self._pin_required)

    def finish(self, pending: PendingTap, pin: Pin | None) -> TapOutcome:
        """Look up and print the first match: the one-library case (``kioskctl tap``)."""
        return self.print_match(self.lookup(pending, pin)[0])

    def lookup(self, pending: PendingTap, pin: Pin | None) -> list[LookupMatch]:
        """Prove the card (PIN once) and fetch every linked card at the issuers served here.

        Separate from printing so that the UI can let a patron linked to several libraries
        choose one, and so that staff can hand a number over without a label (methods A-C).
        """
        try:
            proof = prove_tap(pending, pin)
        finally:
            pending.wipe()
        matches = self._platform.lookup(proof)
        if not matches:
            self._outbox.record("lookup_unregistered")
            raise CardNotRegistered("no library card linked for this terminal's issuers")
        return matches

    def print_match(self, match: LookupMatch) -> TapOutcome:
        """Print the same-day label (method D) for one looked-up card."""
        job = self._job(match)
        printed = self.spool.submit(job)  # PrinterError: the job is kept and prints on resume
        kind = "token" if job.valid_hours else "card"
        self._outbox.record("label_printed", issuer_id=match.number.issuer.issuer_id, label=kind)
        log.info("%s label %s printed for issuer %s", kind, job.job_id, job.number.issuer.issuer_id)
        return TapOutcome(match, printed)

    def _job(self, match: LookupMatch) -> LabelJob:
        """The label to print: a day token where the issuer chose token labels, else the number.

        A token label carries no real card number at all: the SIP2 gateway swaps the token for
        it at the self-checkout, today and within the printed hours only.
        """
        token = self._tokens.token_for(match.number) if self._tokens is not None else None
        return LabelJob(
            job_id=secrets.token_hex(8),
            number=token.label_number() if token else match.number,
            issued_on=self._clock.today().isoformat(),
            valid_hours=token.hours_text() if token else "",
        )

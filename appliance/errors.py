"""One exception tree for the whole kiosk.

Every failure a patron, staff member or technician can meet is a :class:`KioskError` carrying a
*message key* (rendered from :mod:`appliance.messages` in Japanese and English) and technical
detail for the log. Adapters translate vendor exceptions at their boundary (``raise CardError(...)
from exc``), so nothing from pyscard, escpos, httpx or sqlite reaches the UI.

::

    KioskError
    ├── ConfigError                      broken or incomplete configuration
    │   ├── ProvisioningError            kiosk-provision.toml has problems (every one listed)
    │   └── PlatformCaInvalid            platform_ca: the file is unreadable or not PEM
    ├── CardError                        anything between reader and card (keeps SW / PC/SC code)
    │   ├── NoCard                       nothing on the reader
    │   ├── ReaderUnavailable            reader unplugged / pcscd down
    │   ├── CardRemoved                  card pulled away mid-command
    │   ├── NotJpkiCard                  not a My Number Card (JPKI AP missing, or foreign token)
    │   ├── PhoneCertificate             JPKI on a phone, refused unless configured
    │   ├── WrongPin                     wrong PIN, ``tries_left`` kept
    │   ├── PinBlocked                   no tries left: city office
    │   ├── UnexpectedStatus             any other status word
    │   └── MalformedAnswer              short, too long, bad DER
    ├── LabelError                       a label cannot be made
    │   ├── InvalidCardNumber            number fails the issuer's rules: never printed
    │   └── LabelJobUnreadable           a kept label job does not unseal here: never printed
    ├── IssuerRecordInvalid              a stored issuer record is damaged (every field named)
    ├── PrinterError                     printer fault, job kept (``maybe_printed``: bytes went out)
    │   ├── PaperOut
    │   ├── CoverOpen
    │   ├── PrinterOffline
    │   └── PrintUncertain               the link broke mid-label: staff check, never auto-resent
    ├── SyncError                        anything between kiosk and platform
    │   ├── PlatformUnreachable          network / server down (transient)
    │   ├── TerminalRejected             credentials or fingerprint refused
    │   ├── PlatformCertificateRejected  TLS: the platform's certificate is not the CA's
    │   ├── SetupNeeded                  not enrolled, no password: the setup wizard first
    │   ├── CardNotRegistered            card valid, but no library card linked here
    │   ├── CardRejected                 certificate / signature refused by the platform
    │   ├── MalformedReply               the platform answered something we cannot parse
    │   ├── ReEnrolmentNeeded            stored credentials do not unlock on this board
    │   ├── ServiceIdRefused             staff registration refused (``code``: exists, taken, ...)
    │   ├── RegistrationInvalid          terminal registration form: ``problems``, every one
    │   └── AssertionRefused             bookmobile: the platform refused an offline assertion
    ├── OfflineError                     bookmobile: a card cannot be accepted offline
    │   ├── TrustMissing                 no CA/revocation list cached, or no provisional range
    │   ├── TrustStale                   the cached revocation list is older than the limit
    │   ├── CertificateRevoked           the card's certificate is on the revocation list
    │   └── OfflineProofInvalid          chain, validity or signature fails the local check
    ├── KocError                         an offline-circulation (.koc) file is malformed
    ├── HandoffError                     method C: the keyboard gadget / serial wedge failed
    ├── ScannerError                     the counter's barcode reader failed (staff type instead)
    └── ClockNotSynchronised             no NTP sync yet: dated labels would carry a wrong date
"""

from __future__ import annotations

from typing import ClassVar


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose.

    ``key`` selects the patron-facing message; ``detail`` is for the log only and must never hold
    a PIN, a card number or a certificate.
    """

    key = "error.unexpected"

    def __init__(self, detail: str = "", **params: object) -> None:
        super().__init__(detail or self.key)
        self.detail = detail
        self.params = params


class ConfigError(KioskError):
    """The configuration is broken; ``problems`` lists every problem at once."""

    key = "error.config"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class CardError(KioskError):
    """A card or reader failure; ``sw`` (status word) or ``pcsc_code`` keep the raw code."""

    key = "error.card.unreadable"

    def __init__(
        self, detail: str = "", *, sw: int | None = None, pcsc_code: int | None = None
    ) -> None:
        super().__init__(detail)
        self.sw = sw
        self.pcsc_code = pcsc_code

    def __str__(self) -> str:
        code = f" sw={self.sw:04X}" if self.sw is not None else ""
        if self.pcsc_code is not None:
            code += f" pcsc=0x{self.pcsc_code & 0xFFFFFFFF:08X}"
        return f"{self.detail or self.key}{code}"


class NoCard(CardError):
    key = "error.card.none"


class ReaderUnavailable(CardError):
    key = "error.card.reader"


class CardRemoved(CardError):
    key = "error.card.removed"


class NotJpkiCard(CardError):
    key = "error.card.foreign"


class PhoneCertificate(CardError):
    key = "error.card.phone"


class WrongPin(CardError):
    """The card refused the PIN; the patron may try again *by their own action*."""

    key = "error.pin.wrong"

    def __init__(self, tries_left: int, *, sw: int | None = None) -> None:
        super().__init__(f"wrong PIN, {tries_left} tries left", sw=sw)
        self.tries_left = tries_left
        self.params = {"tries_left": tries_left}


class PinBlocked(CardError):
    key = "error.pin.blocked"


class UnexpectedStatus(CardError):
    key = "error.card.unreadable"


class MalformedAnswer(CardError):
    key = "error.card.unreadable"


class LabelError(KioskError):
    key = "error.label"


class InvalidCardNumber(LabelError):
    key = "error.label.number"


# -- labels (issue 4): sealed label jobs and stored issuer records ------------------------------


class LabelJobUnreadable(LabelError):
    """A kept label job does not decrypt with this device's key (the database was copied from
    another kiosk, or a row was altered or swapped). It is never printed; staff cancel it.
    ``job_id`` names it for the staff list and the log; the message does not (a screen shows
    no technical text)."""

    key = "error.label.job_unreadable"

    def __init__(self, job_id: str, detail: str = "") -> None:
        super().__init__(detail or f"label job {job_id} cannot be unsealed")
        self.job_id = job_id


class IssuerRecordInvalid(KioskError):
    """A stored issuer record (label jobs, trust cache, token store) is damaged or malformed."""

    key = "error.issuer.record"


class PrinterError(KioskError):
    """A printer fault. ``maybe_printed`` is True when some of the label's bytes reached the
    printer, so resending could print it twice (the job then waits for staff). ``job_id`` is
    set by the spool to the job that was held, so a screen can tell when that label prints."""

    key = "error.printer"
    maybe_printed = False
    job_id = ""


class PaperOut(PrinterError):
    key = "error.printer.paper"


class CoverOpen(PrinterError):
    key = "error.printer.cover"


class PrinterOffline(PrinterError):
    key = "error.printer"


class PrintUncertain(PrinterError):
    key = "error.printer.uncertain"
    maybe_printed = True


class SyncError(KioskError):
    key = "error.platform.down"


class PlatformUnreachable(SyncError):
    key = "error.platform.down"


class TerminalRejected(SyncError):
    key = "error.platform.terminal"


class CardNotRegistered(SyncError):
    key = "error.platform.unregistered"


class CardRejected(SyncError):
    key = "error.platform.card"


class MalformedReply(SyncError):
    key = "error.platform.down"


class ReEnrolmentNeeded(SyncError):
    """The local store's terminal credentials do not unlock here: another device secret or board
    fingerprint (the database was copied, or the board replaced). Only a technician's explicit
    enrolment fixes it; the kiosk never re-enrols silently."""

    key = "error.terminal.reenrol"


# --- UI (issue 6): hand-over method C -------------------------------------------------------


class HandoffError(KioskError):
    """The number could not be typed into the library system (gadget absent, wedge unplugged)."""

    key = "error.handoff"


class ScannerError(KioskError):
    """The counter's barcode reader (serial) cannot be read: unplugged, wrong port or speed."""

    key = "error.scanner"


# -- bookmobile (offline) lending, issue 9 --------------------------------------------------------


class AssertionRefused(SyncError):
    """The platform refused an offline assertion; ``code`` is its stable error code."""

    key = "error.offline.refused"

    def __init__(self, detail: str = "", *, code: str = "") -> None:
        super().__init__(detail)
        self.code = code


class OfflineError(KioskError):
    key = "error.offline"


class TrustMissing(OfflineError):
    key = "error.offline.trust"


class TrustStale(OfflineError):
    key = "error.offline.stale"


class CertificateRevoked(OfflineError):
    key = "error.offline.revoked"


class OfflineProofInvalid(OfflineError):
    key = "error.offline.proof"


class KocError(KioskError):
    """A .koc file cannot be rewritten; ``problems`` has one entry per bad line."""

    key = "error.offline.koc"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))
        self.problems = list(problems)


# -- server / sync area: service-ID registration and terminal registration (issue 5) -----------


class ServiceIdRefused(SyncError):
    """The platform refused a service-ID registration or deletion; ``code`` says why.

    Staff-facing: the message says what to do (delete the old link first, check the number,
    create a MyKey ID first). ``problems`` lists the card-number rules broken, if any.
    """

    key = "error.service_id.refused"
    KEYS: ClassVar[dict[str, str]] = {
        "service_id.exists": "error.service_id.exists",
        "service_id.conflict": "error.service_id.conflict",
        "service_id.taken": "error.service_id.taken",
        "service_id.unknown": "error.service_id.unknown",
        "citizen.unknown": "error.service_id.no_mykey",
        "card_number.invalid": "error.service_id.number",
        "issuer.not_served": "error.service_id.issuer",
    }

    def __init__(self, code: str, detail: str = "", problems: list[str] | None = None) -> None:
        super().__init__(detail or code)
        self.code = code
        self.key = self.KEYS.get(code, type(self).key)
        self.problems = list(problems or [])


class RegistrationInvalid(SyncError):
    """The terminal registration form (form 10) has problems; ``problems`` maps field -> codes."""

    key = "error.registration.invalid"

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{f}: {', '.join(c)}" for f, c in problems.items()))
        self.problems = problems


# --- image (issue 7): provisioning and the clock gate ---------------------------------------
class ProvisioningError(ConfigError):
    """The technician's ``kiosk-provision.toml`` is wrong; ``problems`` lists each, ja / en."""

    key = "error.provision"


class ClockNotSynchronised(KioskError):
    """The clock is not NTP-synchronised (the Pi has no RTC): a dated label could be wrong."""

    key = "error.clock.unsynced"


# --- sync (issue 5): the platform's TLS certificate, the configured CA, a kiosk not set up ----


class PlatformCaInvalid(ConfigError):
    """``platform_ca`` names a file that cannot be read or holds no PEM certificate."""

    key = "error.config.platform_ca"


class PlatformCertificateRejected(SyncError):
    """The platform's TLS certificate does not verify against the configured CA (or names
    another host). Never retried and never answered by switching verification off."""

    key = "error.platform.tls"


class SetupNeeded(SyncError):
    """No enrolled credentials and no configured password: the setup wizard must register the
    terminal first (``Kiosk.needs_setup``). Raised by a call that would have to sign in."""

    key = "error.terminal.setup"

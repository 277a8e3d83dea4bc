"""One exception tree for the whole kiosk.

Every failure a patron, staff member or technician can meet is a :class:`KioskError` carrying a
*message key* (rendered from :mod:`appliance.messages` in Japanese and English) and technical
detail for the log. Adapters translate vendor exceptions at their boundary (``raise CardError(...)
from exc``), so nothing from pyscard, escpos, httpx or sqlite reaches the UI.

::

    KioskError
    ├── ConfigError                      broken or incomplete configuration
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
    │   └── InvalidCardNumber            number fails the issuer's rules: never printed
    ├── PrinterError                     printer fault (job kept)
    │   ├── PaperOut
    │   ├── CoverOpen
    │   └── PrinterOffline
    └── SyncError                        anything between kiosk and platform
        ├── PlatformUnreachable          network / server down (transient)
        ├── TerminalRejected             credentials or fingerprint refused
        ├── CardNotRegistered            card valid, but no library card linked here
        ├── CardRejected                 certificate / signature refused by the platform
        └── MalformedReply               the platform answered something we cannot parse

    (image, issue 7)
    KioskError
    ├── ConfigError
    │   └── ProvisioningError            kiosk-provision.toml has problems (every one listed)
    └── ClockNotSynchronised             no NTP sync yet: dated labels would carry a wrong date
"""

from __future__ import annotations


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


class PrinterError(KioskError):
    key = "error.printer"


class PaperOut(PrinterError):
    key = "error.printer.paper"


class CoverOpen(PrinterError):
    key = "error.printer.cover"


class PrinterOffline(PrinterError):
    key = "error.printer"


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


# --- image (issue 7): provisioning and the clock gate ---------------------------------------
class ProvisioningError(ConfigError):
    """The technician's ``kiosk-provision.toml`` is wrong; ``problems`` lists each, ja / en."""

    key = "error.provision"


class ClockNotSynchronised(KioskError):
    """The clock is not NTP-synchronised (the Pi has no RTC): a dated label could be wrong."""

    key = "error.clock.unsynced"

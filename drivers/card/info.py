"""What a technician may learn from a JPKI card without its PIN: token, certificate, tries left.

Only the steps every JPKI card answers the same way (OpenSC's driver uses the same ones): SELECT
the JPKI AP, read the token, read the user-authentication certificate by its DER length, VERIFY
with no data for the tries left. No PIN is ever sent, so nothing can be spent, and the card's
ATR is never used to decide anything (readers synthesise different ATRs for the same card).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

from appliance.errors import MalformedAnswer
from drivers.card.jpki import TOKEN_CARD, TOKEN_PHONE, JpkiSession

TOKEN_KINDS = {
    TOKEN_CARD: "マイナンバーカード / My Number Card",
    TOKEN_PHONE: "スマートフォン用電子証明書 / phone certificate (Android)",
}


@dataclass(frozen=True)
class CardInfo:
    token: str
    serial: int  # of the user-authentication certificate
    not_before: dt.datetime
    not_after: dt.datetime
    pin_tries_left: int

    @property
    def kind(self) -> str:
        return TOKEN_KINDS.get(self.token, self.token)

    def lines(self) -> list[str]:
        """Tab-separated ``name value`` lines: easy to read, easy to ``cut``."""
        tries = f"{self.pin_tries_left}" + (" (blocked)" if self.pin_tries_left == 0 else "")
        return [
            f"token\t{self.token}\t{self.kind}",
            f"serial\t{self.serial:X}",
            f"not_before\t{self.not_before:%Y-%m-%d %H:%M:%S} UTC",
            f"not_after\t{self.not_after:%Y-%m-%d %H:%M:%S} UTC",
            f"pin_tries_left\t{tries}",
        ]


def read_card_info(session: JpkiSession) -> CardInfo:
    """``session`` is already open (AP selected, token checked). Sends no PIN."""
    der = session.read_certificate()
    try:
        cert = x509.load_der_x509_certificate(der)
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        serial = cert.serial_number
    except ValueError as exc:  # read_certificate already parsed it; a card cannot get here
        raise MalformedAnswer("certificate is not valid DER") from exc
    return CardInfo(session.token, serial, not_before, not_after, session.pin_tries_left())

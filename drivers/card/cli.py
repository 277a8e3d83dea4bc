"""``kioskctl card-info``: what is on the reader, read without a PIN.

Wire it with ``add_parser(subparsers)``. Prints the token kind, the user-authentication
certificate's serial number (hex), its validity and the PIN tries left. Exit codes follow
``kioskctl``: 0 read, 1 a card that is not a JPKI card (or answers nonsense), 3 no card on the
reader, or no reader / pcscd.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from appliance.errors import CardError, NoCard, NotJpkiCard, ReaderUnavailable
from appliance.messages import bilingual


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``card-info`` on ``kioskctl``'s subparsers; returns the new parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "card-info",
        help="token, certificate serial and validity, PIN tries left (no PIN needed)",
        description=__doc__,
    )
    p.add_argument(
        "--reader",
        help="substring of the PC/SC reader name (default: reader_name from the settings, "
        "the first virtual reader when card_reader = vpcd, else the first reader)",
    )
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for a card")
    p.set_defaults(func=cmd_card_info)
    return p


def _reader_name(args: argparse.Namespace) -> str:
    if args.reader is not None:
        return str(args.reader)
    from ui.settings import read_settings
    from ui.wiring import VPCD_READER

    config = read_settings(args.config)
    if config.reader_name:
        return config.reader_name
    return VPCD_READER if config.card_reader == "vpcd" else ""


def cmd_card_info(args: argparse.Namespace) -> int:
    from drivers.card.info import read_card_info
    from drivers.card.pcsc import PcscReader

    # accept_phone: a technician wants to know *what* the token is, even one the kiosk refuses
    reader = PcscReader(_reader_name(args), accept_phone=True)
    try:
        session = reader.connect(args.timeout)
        try:
            info = read_card_info(session)
        finally:
            session.close()
    except (NoCard, ReaderUnavailable) as exc:
        _fail("cardinfo.none" if isinstance(exc, NoCard) else exc.key, exc)
        return 3
    except NotJpkiCard as exc:
        _fail("cardinfo.foreign", exc)
        return 1
    except CardError as exc:
        _fail(exc.key, exc)
        return 1
    for line in info.lines():
        print(line)
    return 0


def _fail(key: str, exc: CardError) -> None:
    print(bilingual(key), file=sys.stderr)
    print(f"({type(exc).__name__}: {exc})", file=sys.stderr)

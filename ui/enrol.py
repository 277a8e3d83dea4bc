"""``kioskctl enrol``: seal this kiosk's terminal ID and password into its local store, on this
board. The way out of "re-enrolment needed" (sync/credentials.py), and the way to enrol without
leaving the password in the configuration file.

Wire it with ``add_parser(subparsers)``. Exit codes follow ``kioskctl``: 0 enrolled, 2 no
password or bad configuration, 3 credentials from another board or secret are in the way and
``--replace`` was not given (the technician must say so: it discards them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from appliance.errors import ReEnrolmentNeeded
from appliance.messages import bilingual


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``enrol`` on ``kioskctl``'s subparsers; returns the new parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "enrol", help="store the terminal ID and password (form II), sealed, for this board"
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else: terminal_password)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="discard credentials that do not unlock here (copied database, new board)",
    )
    p.set_defaults(func=cmd_enrol)
    return p


def cmd_enrol(args: argparse.Namespace) -> int:
    from sync.credentials import TerminalIdentity, enrol, unlock
    from sync.devicesecret import ensure_device_secret, secret_path
    from sync.fingerprint import board_fingerprint
    from sync.store import LocalStore
    from ui.settings import read_settings

    config = read_settings(args.config)  # a ConfigError is reported by kioskctl's main()
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else ""
    password = password or config.terminal_password
    if not password:
        print("no password: give --password-stdin or terminal_password", file=sys.stderr)
        return 2
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secret_path(config.device_secret, data_dir)
    ensure_device_secret(secret)
    fingerprint = board_fingerprint()
    with LocalStore(data_dir / "kiosk.sqlite") as store:
        try:
            unlock(store, secret, fingerprint)
        except ReEnrolmentNeeded as exc:
            if not args.replace:
                print(bilingual(exc.key), file=sys.stderr)
                print(f"({exc})", file=sys.stderr)
                return 3
        enrol(store, TerminalIdentity(config.terminal_id, password, fingerprint), secret)
    print(f"terminal {config.terminal_id} enrolled on this board")
    if config.terminal_password and config.terminal_password != password:
        # open_terminal() takes a configured password as the technician's newer word
        print('set terminal_password = "" in the configuration, or the configured one replaces '
              "this at the next start")  # fmt: skip
    print("(a new board must also be registered again on the platform)")
    return 0

"""``mykey-platform mykey``: the operator's side of MyKey IDs (what My Page does for a citizen).

::

    mykey-platform mykey create --db DB --certificate CARD.pem [--redraw N | --propose ID ...]
    mykey-platform mykey change --db DB OLD_ID NEW_ID
    mykey-platform mykey renew --db DB --ca "CN=..." --old-serial HEX --new-serial HEX

``create`` follows the seed's rules (:mod:`server.mykey`): automatic generation by default,
``--redraw N`` asks for N more draws (at most 2: the third offer is taken); ``--propose`` tries
the citizen's own IDs in order, each duplicate-checked, and after 3 failed checks automatic
generation takes over. The accepted ID is printed: the operator hands it to the citizen. (The
kiosk never sees a MyKey ID; nothing here is reachable from a terminal.) ``renew`` records a
re-issued card: the citizen moves to the new certificate at its first use. Exit codes: 0 done,
1 refused by the rules (the reason's code printed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from cryptography import x509

_HEX = re.compile(r"[0-9A-Fa-f]+")


def _certificate(path: str) -> x509.Certificate:
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _serial(value: str) -> str:
    if not _HEX.fullmatch(value):
        raise argparse.ArgumentTypeError("a certificate serial in hex, e.g. 030D45")
    return value.upper()


def cmd_create(args: argparse.Namespace) -> int:
    from server import mykey
    from server.db import operator_connection

    try:
        certificate = _certificate(args.certificate)
    except (OSError, ValueError) as exc:
        print(f"{args.certificate}: not a certificate: {exc}", file=sys.stderr)
        return 1
    with operator_connection(args.db) as conn:
        try:
            choice = mykey.IdChoice(conn)
            for proposal in args.propose or ():
                if choice.mode is mykey.Mode.AUTOMATIC:
                    break
                if choice.propose(proposal):
                    break
                print(f"{proposal}: taken", file=sys.stderr)
            if args.propose and choice.offer is None:  # fewer than 3 tries, all taken
                raise mykey.MyKeyError("mykey.taken", "every proposed ID is taken: propose others")
            if choice.offer is None:
                choice.draw()
            for _ in range(args.redraw):
                choice.draw()
            how = "chosen" if choice.mode is mykey.Mode.CHOOSING else f"drawn ({choice.draws} of 3)"
            mykey_id = choice.accept()
            mykey.create(conn, mykey_id, certificate)
        except mykey.MyKeyError as exc:
            print(f"refused: {exc.code}: {exc}", file=sys.stderr)
            return 1
    print(f"{mykey_id}\t{how}")
    return 0


def cmd_change(args: argparse.Namespace) -> int:
    from server import mykey
    from server.db import operator_connection

    with operator_connection(args.db) as conn:
        try:
            conn.execute("BEGIN IMMEDIATE")  # the duplicate check and the change as one
            try:
                mykey.change(conn, args.old, args.new)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except mykey.MyKeyError as exc:
            print(f"refused: {exc.code}: {exc}", file=sys.stderr)
            return 1
    print(f"{args.old} -> {args.new}")
    return 0


def cmd_renew(args: argparse.Namespace) -> int:
    from server.db import operator_connection
    from server.registry import add_successor

    with operator_connection(args.db) as conn:
        add_successor(conn, args.ca, args.old_serial, args.new_serial)
    print(f"{args.ca}: {args.new_serial} replaces {args.old_serial} at its first use")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``mykey`` under ``mykey-platform``'s subcommands."""
    from server.cli import database

    p = sub.add_parser("mykey", help="create or change MyKey IDs, record card renewals")
    verbs = p.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="a new MyKey ID for a card's certificate")
    create.add_argument("--db", required=True, type=database)
    create.add_argument("--certificate", required=True, help="user-authentication cert, PEM/DER")
    how = create.add_mutually_exclusive_group()
    how.add_argument("--redraw", type=int, choices=[0, 1, 2], default=0,
                     help="ask for N more automatic draws (the third offer is final)")  # fmt: skip
    how.add_argument("--propose", nargs="+", metavar="ID", help="the citizen's own IDs, in order")
    create.set_defaults(func=cmd_create)
    change = verbs.add_parser("change", help="give a citizen another MyKey ID")
    change.add_argument("--db", required=True, type=database)
    change.add_argument("old")
    change.add_argument("new")
    change.set_defaults(func=cmd_change)
    renew = verbs.add_parser("renew", help="record that a re-issued card replaces a certificate")
    renew.add_argument("--db", required=True, type=database)
    renew.add_argument("--ca", required=True, help="the CA's subject, RFC 4514 (as stored)")
    renew.add_argument("--old-serial", required=True, type=_serial)
    renew.add_argument("--new-serial", required=True, type=_serial)
    renew.set_defaults(func=cmd_renew)

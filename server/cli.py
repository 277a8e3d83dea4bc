"""``mykey-platform``: run the reference platform and the municipality's tools.

::

    mykey-platform serve --db platform.sqlite --host 127.0.0.1 --port 8080 [--demo]
    mykey-platform demo-data --db platform.sqlite
    mykey-platform import-terminals --db platform.sqlite FORM_II.csv
    mykey-platform contacts --db platform.sqlite [--unconfirmed] [--confirm ID ...]
    mykey-platform add-crl --db platform.sqlite CRL_FILE
    mykey-platform add-issuer --db platform.sqlite --id 000002 --name NAME [rules...]
    mykey-platform mykey create|change|renew --db platform.sqlite ...   (server/cli_mykey.py)

``serve`` logs "Uvicorn running on http://HOST:PORT" once it accepts connections; callers that
start it as a child process poll ``GET /v1/health`` instead of parsing that line. With
``--demo`` (demo data, never on the internet) an unregistered terminal may bind its board at its
first sign-in (``--open-enrolment``); otherwise terminals register first (form 10).

Exit codes: 0 done, 1 the input was refused (every problem printed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def database(value: str) -> str:
    """``--db``: a SQLite file (a path or ``sqlite:///path``) or a PostgreSQL URL
    (``postgresql://user:password@host:port/dbname``, or ``postgresql:///dbname?host=/socket/dir``
    for a local socket; libpq's ``PG*`` environment variables fill in what is left out).
    """
    from server.dbapi import POSTGRES_SCHEMES

    if value.startswith("sqlite:///"):
        return value.removeprefix("sqlite:///") or ":memory:"
    if value.startswith(POSTGRES_SCHEMES):
        return value
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise argparse.ArgumentTypeError(
            f"{scheme}:// databases are not supported; give a SQLite file (or sqlite:///path)"
            " or a postgresql:// URL"
        )
    return value


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.api import Settings
    from server.app import create_app
    from server.demo import load_demo_data

    if args.demo:
        load_demo_data(args.db)
    settings = Settings(
        open_enrolment=args.open_enrolment or args.demo,
        max_failures_per_terminal=args.max_failures_per_terminal,
        max_failures_per_address=args.max_failures_per_address,
        failure_window=args.failure_window,
        offline_window_s=args.offline_window_s,
    )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(args.db, settings=settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from server.demo import DEMO_TERMINAL, load_demo_data

    load_demo_data(args.db)
    print(f"demo data in {args.db}; terminal {DEMO_TERMINAL.terminal_id}")
    return 0


def cmd_import_terminals(args: argparse.Namespace) -> int:
    from server.db import operator_connection
    from server.formii import FormError, import_terminals

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    with operator_connection(args.db) as conn:
        try:
            report = import_terminals(conn, data)
        except FormError as exc:
            print(f"{args.file}: not imported, {len(exc.problems)} problem(s):", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
    print(
        f"{args.file} ({report.encoding}): {len(report.added)} added, {len(report.updated)}"
        f" updated, {len(report.deleted)} deleted, {len(report.unchanged)} unchanged"
    )
    for name in sorted(report.unknown_issuers):
        print(f"  note: ID-issuer {name!r} is not on this platform yet; its terminals serve none")
    return 0


def cmd_contacts(args: argparse.Namespace) -> int:
    from server.db import operator_connection
    from server.enrolment import confirm, contacts

    with operator_connection(args.db) as conn:
        if args.confirm:
            unknown = confirm(conn, args.confirm, time.time())
            for tid in unknown:
                print(f"{tid}: no registered terminal with this ID", file=sys.stderr)
            print(f"confirmed {len(args.confirm) - len(unknown)} terminal(s)")
            return 1 if unknown else 0
        listed = contacts(conn, unconfirmed_only=args.unconfirmed)
    columns = ("terminal_id", "kind", "confirmed", "place", "name", "issuer_id", "person",
               "postal_code", "address", "phone", "email")  # fmt: skip
    print("\t".join(columns))
    for c in listed:
        print("\t".join("yes" if c[k] is True else "no" if c[k] is False else str(c[k])
                        for k in columns))  # fmt: skip
    return 0


def cmd_add_crl(args: argparse.Namespace) -> int:
    from server.db import operator_connection
    from server.registry import add_crl

    with operator_connection(args.db) as conn:
        try:
            subject = add_crl(conn, Path(args.file).read_bytes(), now=time.time())
        except (OSError, ValueError) as exc:
            print(f"{args.file}: not loaded: {exc}", file=sys.stderr)
            return 1
    print(f"revocation list of {subject} loaded")
    return 0


def cmd_add_issuer(args: argparse.Namespace) -> int:
    from server.db import operator_connection
    from server.registry import add_issuer

    with operator_connection(args.db) as conn:
        try:
            if conn.execute("SELECT 1 FROM issuers WHERE issuer_id = ?", (args.id,)).fetchone():
                print(f"issuer {args.id} exists already; nothing changed", file=sys.stderr)
                return 1
            add_issuer(
                conn, args.id, args.name, symbology=args.symbology, codabar_start=args.start,
                codabar_stop=args.stop, check_scheme=args.check, lengths=args.lengths,
                handover=args.handover, pin_required=not args.no_pin, alphabet=args.alphabet,
                number_display=args.number_display,
            )  # fmt: skip
        except ValueError as exc:
            print(f"not added: {exc}", file=sys.stderr)
            return 1
    print(f"issuer {args.id} added")
    return 0


def _lengths(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(n) for n in value.split(",") if n)
    except ValueError:
        raise argparse.ArgumentTypeError("comma-separated numbers, e.g. 8,10") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mykey-platform", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument(
        "--db",
        required=True,
        type=database,
        help="SQLite file, sqlite:///path or postgresql://... URL (migrated)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--demo", action="store_true", help="load the demo data first")
    serve.add_argument(
        "--open-enrolment", action="store_true",
        help="let an unregistered terminal bind its board at first sign-in (implied by --demo)",
    )  # fmt: skip
    serve.add_argument("--max-failures-per-terminal", type=int, default=5, metavar="N")
    serve.add_argument("--max-failures-per-address", type=int, default=30, metavar="N")
    serve.add_argument("--failure-window", type=float, default=900.0, metavar="SECONDS")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--offline-window-s",
        type=int,
        default=None,
        help="seconds after signing that a bookmobile assertion is accepted (default 7 days)",
    )
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo-data", help="add the demo CA, library, terminal and citizens")
    demo.add_argument("--db", required=True, type=database)
    demo.set_defaults(func=cmd_demo_data)
    imp = sub.add_parser("import-terminals", help="import the ministry's form II list (CSV)")
    imp.add_argument("--db", required=True, type=database)
    imp.add_argument("file", help="UTF-8 or Shift_JIS CSV")
    imp.set_defaults(func=cmd_import_terminals)
    con = sub.add_parser("contacts", help="list registered terminals' contact details")
    con.add_argument("--db", required=True, type=database)
    con.add_argument("--unconfirmed", action="store_true", help="only those not yet confirmed")
    con.add_argument("--confirm", nargs="+", metavar="TERMINAL_ID", help="mark confirmed")
    con.set_defaults(func=cmd_contacts)
    crl = sub.add_parser("add-crl", help="load a CA's certificate revocation list (PEM/DER)")
    crl.add_argument("--db", required=True, type=database)
    crl.add_argument("file")
    crl.set_defaults(func=cmd_add_crl)
    iss = sub.add_parser("add-issuer", help="add an ID-issuer (library) and its card-number rules")
    iss.add_argument("--db", required=True, type=database)
    iss.add_argument("--id", required=True, help="6 digits")
    iss.add_argument("--name", required=True)
    iss.add_argument("--symbology", default="codabar", choices=["codabar", "code39", "code128"])
    iss.add_argument("--start", default="A", help="Codabar start character (A-D)")
    iss.add_argument("--stop", default="A", help="Codabar stop character (A-D)")
    iss.add_argument(
        "--check", default="none", choices=["none", "mod10w21", "7dr", "7dsr", "mod11", "mod16"]
    )
    iss.add_argument("--lengths", type=_lengths, default=(), help="allowed lengths, e.g. 8,10")
    iss.add_argument("--alphabet", default="", help="characters a number may use ('' = any)")
    iss.add_argument("--number-display", default="masked", choices=["full", "masked", "hidden"])
    iss.add_argument("--handover", default="D", choices=["A", "B", "C", "D"])
    iss.add_argument("--no-pin", action="store_true", help="certificate-only lookups allowed")
    iss.set_defaults(func=cmd_add_issuer)
    from server.cli_mykey import add_parser as add_mykey_parser

    add_mykey_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    import sqlite3

    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except sqlite3.OperationalError as exc:  # either database: unreachable, locked, no access
        print(f"database: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

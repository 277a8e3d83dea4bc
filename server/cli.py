"""``mykey-platform``: run the reference platform, or put its demo data into a database.

::

    mykey-platform serve --db platform.sqlite --host 127.0.0.1 --port 8080 [--demo]
    mykey-platform demo-data --db platform.sqlite

``serve`` logs "Uvicorn running on http://HOST:PORT" once it accepts connections; callers that
start it as a child process poll ``GET /v1/health`` instead of parsing that line.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.demo import load_demo_data

    if args.demo:
        load_demo_data(args.db)
    app = create_app(args.db, offline_window_s=args.offline_window_s)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from server.demo import DEMO_TERMINAL, load_demo_data

    load_demo_data(args.db)
    print(f"demo data in {args.db}; terminal {DEMO_TERMINAL.terminal_id}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mykey-platform", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--db", required=True, help="SQLite file (created and migrated)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--demo", action="store_true", help="load the demo data first")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--offline-window-s",
        type=int,
        default=None,
        help="seconds after signing that a bookmobile assertion is accepted (default 7 days)",
    )
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser("demo-data", help="add the demo CA, library, terminal and citizens")
    demo.add_argument("--db", required=True)
    demo.set_defaults(func=cmd_demo_data)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

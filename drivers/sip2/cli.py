"""``kioskctl sip2-gateway``: run the SIP2 gateway in the foreground (systemd runs it the same way).

Wire it with ``add_parser(subparsers)``; exit codes follow ``kioskctl``: 0 stopped cleanly, 2 bad
usage or configuration, 3 the token store or the listening port is not usable.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.errors import ConfigError, KioskError
from appliance.sip2 import WireOptions

if TYPE_CHECKING:
    from drivers.sip2.gateway import Sip2Gateway

DEFAULT_SECRET = "/etc/mykey-kiosk/device-secret"  # noqa: S105 - a path, not a secret
DEFAULT_STORE = "/var/lib/mykey-kiosk/sip2-tokens.bin"
DEFAULT_STATUS = "/run/mykey-kiosk/sip2-status.json"


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) for argparse."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``sip2-gateway`` on ``kioskctl``'s subparsers; returns the new parser."""
    env = os.environ
    p: argparse.ArgumentParser = subparsers.add_parser(
        "sip2-gateway",
        help="run the SIP2 gateway between self-checkout machines and the library system",
        description=__doc__,
    )
    p.add_argument("--listen", type=host_port, required=True, metavar="HOST:PORT")
    p.add_argument("--upstream", type=host_port, required=True, metavar="HOST:PORT")
    p.add_argument("--tls", action="store_true", help="TLS toward the library system")
    p.add_argument("--cafile", help="CA bundle for the library system's certificate (with --tls)")
    p.add_argument("--crlf", action="store_true", help="messages end in CR LF, not CR")
    p.add_argument("--encoding", default="utf-8", help="text encoding of SIP2 fields")
    p.add_argument(
        "--no-checksum", action="store_true", help="accept SC messages without AZ checksum"
    )
    p.add_argument(
        "--store",
        default=env.get("KIOSK_SIP2_STORE", DEFAULT_STORE),
        help="encrypted token store shared with the kiosk ($KIOSK_SIP2_STORE)",
    )
    p.add_argument(
        "--secret",
        default=env.get("KIOSK_DEVICE_SECRET", DEFAULT_SECRET),
        help="root-only device-secret file the store key comes from ($KIOSK_DEVICE_SECRET)",
    )
    p.add_argument(
        "--status-file",
        default=env.get("KIOSK_SIP2_STATUS", DEFAULT_STATUS),
        help="counts-only status for kioskctl doctor ($KIOSK_SIP2_STATUS)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log each connection")
    p.set_defaults(func=cmd_sip2_gateway)
    return p


def cmd_sip2_gateway(args: argparse.Namespace) -> int:
    from drivers.sip2.gateway import GatewayConfig, Sip2Gateway
    from drivers.sip2.store import TokenStore

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = GatewayConfig(
        upstream_host=args.upstream[0],
        upstream_port=args.upstream[1],
        listen_host=args.listen[0],
        listen_port=args.listen[1],
        tls=args.tls,
        cafile=args.cafile,
        wire=WireOptions(
            terminator=b"\r\n" if args.crlf else b"\r",
            encoding=args.encoding,
            require_checksum=not args.no_checksum,
        ),
        status_path=args.status_file or None,
    )
    try:
        store = TokenStore(Path(args.store), Path(args.secret))
        gateway = Sip2Gateway(config, store=store)
    except ConfigError as exc:
        print("sip2-gateway: configuration problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except KioskError as exc:
        print(f"sip2-gateway: {exc}", file=sys.stderr)
        return 3
    try:
        asyncio.run(_run(gateway))
    except OSError as exc:
        print(f"sip2-gateway: cannot listen on {args.listen}: {exc.strerror}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        pass
    return 0


async def _run(gateway: Sip2Gateway) -> None:
    host, port = await gateway.start()
    print(
        f"sip2 gateway on {host}:{port} -> {gateway.config.upstream_host}:"
        f"{gateway.config.upstream_port}; Ctrl-C to stop",
        flush=True,
    )
    try:
        await gateway.serve_forever()
    finally:
        await gateway.stop()

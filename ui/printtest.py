"""``kioskctl print-test``: a test label with a known barcode, on the configured printer.

``kioskctl print-test`` prints the built-in test label (issuer ``test``, NW-7 ``A1234567897A``)
so a technician can check the printer and scan the result at a self-checkout. With ``--number N
--issuer ID`` it prints that number under that issuer's rules (fetched from the platform, or the
embedded one on the default setup); the number is validated first and never printed if it fails.
With ``--out DIR`` nothing is printed: ``DIR/label.bin`` gets exactly the bytes the configured
printer would receive, and ``DIR/label.png`` the rendered label.

Register with ``add_parser(subparsers)``. Exit codes follow ``kioskctl``: 0 ok, 1 the printer
refused (paper out, cover open...), 2 bad number or issuer, 3 printer or platform not reachable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
from pathlib import Path
from typing import Any

from appliance.config import KioskConfig
from appliance.errors import InvalidCardNumber, KioskError, PrinterOffline, SyncError
from appliance.messages import bilingual
from appliance.values import CardNumber, CheckScheme, Issuer, LabelJob, NumberDisplay, Symbology

TEST_ISSUER = Issuer(
    "test", "テスト印刷 / Test print", symbology=Symbology.CODABAR, codabar_start="A",
    codabar_stop="A", check=CheckScheme.MOD10_W21, lengths=(10,),
    number_display=NumberDisplay.FULL,
)  # fmt: skip
TEST_NUMBER = "1234567897"  # mod 10 weights 2-1: 123456789 -> 7


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``print-test`` on ``kioskctl``'s subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "print-test", help="print a test label (or write its bytes and image with --out)"
    )
    p.add_argument("--number", help=f"card number to print (default: the test {TEST_NUMBER})")
    p.add_argument("--issuer", default="test", help="issuer ID whose rules apply (default: test)")
    p.add_argument("--out", type=Path, help="write DIR/label.bin and DIR/label.png; print nothing")
    p.set_defaults(func=cmd_print_test)
    return p


def cmd_print_test(args: argparse.Namespace) -> int:
    from drivers.printer.render import render_label
    from drivers.printer.setup import printer_from_config
    from ui.settings import read_settings

    config = read_settings(args.config)
    try:
        issuer = TEST_ISSUER if args.issuer == "test" else _platform_issuer(config, args.issuer)
    except SyncError as exc:
        return _fail(exc, 3)
    if issuer is None:
        print(f"issuer {args.issuer!r} is not served by this terminal / 発行者が見つかりません",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        number = CardNumber(issuer, args.number if args.number is not None else TEST_NUMBER)
    except InvalidCardNumber as exc:
        return _fail(exc, 2)
    job = LabelJob(f"test-{secrets.token_hex(4)}", number, dt.date.today().isoformat())
    printer = printer_from_config(config, Path(config.data_dir) / "labels")
    try:
        if args.out is not None:
            data = printer.label_bytes(job)
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "label.bin").write_bytes(data)
            render_label(job, printer.layout).save(args.out / "label.png")
            print(args.out / "label.bin")
            print(args.out / "label.png")
        else:
            printed = printer.print_label(job)
            for path in printed.artifacts:
                print(path)
    except PrinterOffline as exc:
        return _fail(exc, 3)
    except KioskError as exc:
        return _fail(exc, 1)
    print(f"barcode ({issuer.symbology.value}): {number.barcode_data()}")
    return 0


def _platform_issuer(config: KioskConfig, issuer_id: str) -> Issuer | None:
    """The issuer's rules from the platform (the embedded reference one on the default setup)."""
    from sync.client import PlatformClient
    from sync.fingerprint import board_fingerprint
    from sync.tls import platform_verify
    from ui.wiring import EmbeddedPlatform, terminal_password

    embedded = None
    base_url = config.platform_url
    if not base_url:
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
        embedded = EmbeddedPlatform(Path(config.data_dir))
        base_url = embedded.start()
    verify = platform_verify(config.platform_ca, Path(config.data_dir))
    client = PlatformClient(
        base_url, config.terminal_id, terminal_password(config), board_fingerprint(), verify=verify
    )
    try:
        return next((i for i in client.issuers() if i.issuer_id == issuer_id), None)
    finally:
        client.close()
        if embedded is not None:
            embedded.stop()


def _fail(exc: KioskError, code: int) -> int:
    print(bilingual(exc.key, **exc.params), file=sys.stderr)
    print(f"({type(exc).__name__}: {exc})", file=sys.stderr)
    return code

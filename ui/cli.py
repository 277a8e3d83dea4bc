"""``kioskctl``: the technician's command line, running the same flows as the screens.

Exit codes: 0 ok, 1 a patron-level failure (wrong PIN, unknown card, printer fault...), 2 bad
usage or configuration, 3 a device or the platform not ready.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from appliance.errors import ConfigError, KioskError
from appliance.messages import bilingual
from appliance.ports import DeviceState
from appliance.values import Pin


def _settings(args: argparse.Namespace) -> object:
    from ui.settings import read_settings

    return read_settings(args.config)


def cmd_tap(args: argparse.Namespace) -> int:
    from ui.wiring import build_kiosk

    try:
        pin = Pin(args.pin) if args.pin is not None else None
    except ValueError:
        print("PIN は数字4桁です / A PIN is exactly 4 digits", file=sys.stderr)
        return 2
    kiosk = build_kiosk(_settings(args))  # type: ignore[arg-type]
    try:
        if kiosk.demo is None:
            print("tap needs a virtual reader (card_reader = virtual or vpcd)", file=sys.stderr)
            return 2
        kiosk.demo.tap(args.citizen)
        pending = kiosk.flow.begin(kiosk.config.card_timeout_s)
        outcome = kiosk.flow.finish(pending, pin)
        for path in outcome.printed.artifacts:
            print(path)
        return 0
    except KioskError as exc:
        print(bilingual(exc.key, **exc.params), file=sys.stderr)
        print(f"({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    finally:
        kiosk.close()


def cmd_doctor(args: argparse.Namespace) -> int:
    from ui.wiring import build_kiosk

    config = _settings(args)  # a ConfigError is reported by main() with every problem
    try:
        kiosk = build_kiosk(config)  # type: ignore[arg-type]
    except KioskError as exc:
        print(f"platform\tfault\t{exc}")
        return 3
    try:
        worst = 0
        for status in kiosk.statuses():
            print(f"{status.part}\t{status.state.value}\t{status.detail}")
            if status.state is DeviceState.FAULT:
                worst = 3
        return worst
    finally:
        kiosk.close()


def cmd_demo_citizens(args: argparse.Namespace) -> int:
    from drivers.card.virtual.demo import DEMO_CITIZENS
    from server.demo import barcode_data, demo_registrations

    linked = {number: (issuer, card) for number, issuer, card in demo_registrations()}
    for citizen in DEMO_CITIZENS:
        issuer, card = linked.get(citizen.number, ("-", "-"))
        data = barcode_data(issuer, card) if card != "-" else "-"
        print(f"{citizen.number}\t{citizen.pin}\t{issuer}\t{data}")
    return 0


def cmd_virtual_card(args: argparse.Namespace) -> int:
    from drivers.card.virtual.inprocess import CardDeck
    from drivers.card.virtual.vpcd import VpcdBridge

    bridge = VpcdBridge(CardDeck().card(args.citizen), port=args.port)
    print(f"virtual card of demo citizen {args.citizen} on vpcd port {args.port}; Ctrl-C to remove")
    try:
        bridge.serve_forever()
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"vpcd not reachable on port {args.port}: {exc} (is pcscd running?)", file=sys.stderr)
        return 3
    finally:
        bridge.remove()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kioskctl", description=__doc__)
    p.add_argument("--config", help="TOML settings file (default: $KIOSK_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)
    tap = sub.add_parser("tap", help="run the patron flow for a demo citizen, print label paths")
    tap.add_argument("--citizen", type=int, required=True)
    tap.add_argument("--pin", help="the 4-digit PIN (omit where the issuer needs none)")
    tap.set_defaults(func=cmd_tap)
    sub.add_parser("doctor", help="each device's and the platform's state").set_defaults(
        func=cmd_doctor
    )
    sub.add_parser(
        "demo-citizens", help="number, PIN, issuer ID, barcode data (tab-separated)"
    ).set_defaults(func=cmd_demo_citizens)
    vc = sub.add_parser("virtual-card", help="plug a demo citizen's card into pcscd via vpcd")
    vc.add_argument("--citizen", type=int, required=True)
    vc.add_argument("--port", type=int, default=35963)
    vc.set_defaults(func=cmd_virtual_card)
    from drivers.sip2.cli import add_parser as add_sip2_gateway

    add_sip2_gateway(sub)
    from ui.enrol import add_parser as add_enrol

    add_enrol(sub)
    from ui.labeljobs import add_parser as add_label_jobs
    from ui.printtest import add_parser as add_print_test

    add_print_test(sub)
    add_label_jobs(sub)
    from ui.offline_cli import add_parser as add_offline

    add_offline(sub)
    from drivers.card.cli import add_parser as add_card_info

    add_card_info(sub)
    from ui.provisioning import add_parser as add_provision  # image (issue 7)

    add_provision(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from sync.devicesecret import adopt_inherited_secret

    args = parser().parse_args(argv)
    try:
        adopt_inherited_secret()  # the image's root-only secret, passed on a descriptor
        return int(args.func(args))
    except ConfigError as exc:
        print(bilingual(exc.key), file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

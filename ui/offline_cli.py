"""``kioskctl offline ...``: the bookmobile crew's and staff's commands (issue 9).

::

    kioskctl offline prepare                  before departure: cache CA certificates + CRLs
    kioskctl offline status                   freshness of the cache, counts of assertions
    kioskctl offline tap --citizen N --pin P  an offline tap with a demo card (virtual readers)
    kioskctl offline resolve                  back online: send the assertions, learn the cards
    kioskctl offline export --out DIR [--koc FILE]   CSV (+ the .koc rewritten), all or nothing
    kioskctl offline confirm                  the library system took it: delete everything settled

Exit codes follow ``kioskctl``: 0 ok, 1 a refusal (card, PIN, malformed file), 2 bad usage or
configuration, 3 the platform or a device not ready. Output names counts and files, never a card
number, token or certificate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.errors import KioskError, KocError, PlatformUnreachable, TerminalRejected
from appliance.messages import bilingual
from appliance.values import Pin


def _with_kit(run: Callable[[Any, argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from ui.cli import _settings
        from ui.offline_wiring import build_offline
        from ui.wiring import build_kiosk

        kiosk = build_kiosk(_settings(args))  # type: ignore[arg-type]
        kit = None
        try:
            kit = build_offline(kiosk)
            return run(kit, args)
        except KocError as exc:
            print(bilingual(exc.key), file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
            return 1
        except (PlatformUnreachable, TerminalRejected) as exc:
            print(bilingual(exc.key, **exc.params), file=sys.stderr)
            print(f"({type(exc).__name__}: {exc})", file=sys.stderr)
            return 3
        except KioskError as exc:
            print(bilingual(exc.key, **{"code": "-", **exc.params}), file=sys.stderr)
            print(f"({type(exc).__name__}: {exc})", file=sys.stderr)
            return 1
        finally:
            if kit is not None:
                kit.close()
            kiosk.close()

    return command


def _print_status(kit: Any) -> None:
    from sync.offline import State
    from sync.offline_trust import human_age

    status = kit.status()
    print(
        bilingual(
            "offline.trust",
            cas=status.cas,
            age=human_age(status.crl_age),
            limit=human_age(status.limit),
        )
    )
    counts = kit.store.counts()
    print(
        bilingual(
            "offline.pending",
            pending=counts[State.PENDING],
            resolved=counts[State.RESOLVED],
            refused=counts[State.REFUSED] + counts[State.UNLINKED],
        )
    )


def _prepare(kit: Any, args: argparse.Namespace) -> int:
    kit.prepare()
    _print_status(kit)
    return 0


def _status(kit: Any, args: argparse.Namespace) -> int:
    _print_status(kit)
    return 0 if kit.status().fresh else 3


def _tap(kit: Any, args: argparse.Namespace) -> int:
    from drivers.card.virtual.card import CardKind

    if kit.kiosk.demo is None:
        print("tap needs a virtual reader (card_reader = virtual or vpcd)", file=sys.stderr)
        return 2
    try:
        pin = Pin(args.pin) if args.pin is not None else None
    except ValueError:
        print("PIN は数字4桁です / A PIN is exactly 4 digits", file=sys.stderr)
        return 2
    kit.kiosk.demo.tap(args.citizen, CardKind.PHONE if args.phone else CardKind.MY_NUMBER)
    flow = kit.flow()
    pending = flow.begin(kit.kiosk.config.card_timeout_s)
    outcome = flow.finish(pending, pin)
    for path in outcome.printed.artifacts:
        print(path)
    return 0


def _resolve(kit: Any, args: argparse.Namespace) -> int:
    report = kit.resolve()
    print(bilingual("offline.resolve.done", resolved=report.resolved, pending=report.pending))
    if report.unlinked or report.refused:
        print(f"unlinked {report.unlinked}, refused {report.refused}")
    return 0 if report.pending == 0 else 3


def _export(kit: Any, args: argparse.Namespace) -> int:
    from sync.offline_export import export

    stem = args.stem or f"provisional-{dt.date.today().isoformat()}"
    result = export(
        kit.store.mappings(),
        Path(args.out),
        stem=stem,
        koc=Path(args.koc) if args.koc else None,
        policy=kit.policy(),
    )
    for path in result.paths:
        print(path)
    print(f"{result.mappings} token(s); {result.koc_replaced} .koc line(s) rewritten")
    print(bilingual("offline.export.done"))
    return 0


def _confirm(kit: Any, args: argparse.Namespace) -> int:
    print(bilingual("offline.confirmed", deleted=kit.store.confirm_export()))
    return 0


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``offline`` on ``kioskctl``'s subparsers; returns the new parser."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "offline", help="bookmobile lending: prepare, tap, resolve, export", description=__doc__
    )
    sub = p.add_subparsers(dest="offline_command", required=True)
    sub.add_parser("prepare", help="cache CA certificates and revocation lists").set_defaults(
        func=_with_kit(_prepare)
    )
    sub.add_parser("status", help="cache freshness and assertion counts").set_defaults(
        func=_with_kit(_status)
    )
    tap = sub.add_parser("tap", help="an offline tap with a demo citizen's virtual card")
    tap.add_argument("--citizen", type=int, required=True)
    tap.add_argument("--pin")
    tap.add_argument("--phone", action="store_true", help="the citizen's phone, not the card")
    tap.set_defaults(func=_with_kit(_tap))
    sub.add_parser("resolve", help="send pending assertions to the platform").set_defaults(
        func=_with_kit(_resolve)
    )
    ex = sub.add_parser("export", help="write the token -> card mapping (CSV, rewritten .koc)")
    ex.add_argument("--out", required=True, help="folder to write into (e.g. the USB stick)")
    ex.add_argument("--koc", help="the crew's Koha offline circulation file to rewrite")
    ex.add_argument("--stem", help="CSV file name without .csv (default provisional-<date>)")
    ex.set_defaults(func=_with_kit(_export))
    sub.add_parser("confirm", help="delete every exported assertion and mapping").set_defaults(
        func=_with_kit(_confirm)
    )
    return p

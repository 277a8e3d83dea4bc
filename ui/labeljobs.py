"""``kioskctl label-jobs``: the label jobs waiting for the printer, and what staff may do.

A held job (paper out, cover open, offline) prints by itself once the printer is back; a job
whose printing was cut off part-way is *uncertain* and never resent automatically, because it may
have printed. Staff look at the printer and decide: ``--reprint ID`` if no label came out,
``--cancel ID`` if it did (or the patron left). ``--resume`` prints the held jobs now.

Lists show the masked number only. Register with ``add_parser(subparsers)``; exit codes follow
``kioskctl``: 0 ok, 1 the printer refused, 2 no such job or not in a state that allows it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from appliance.errors import KioskError
from appliance.messages import bilingual
from appliance.ports import JobState


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "label-jobs", help="label jobs waiting for the printer; reprint, cancel or resume them"
    )
    action = p.add_mutually_exclusive_group()
    action.add_argument("--cancel", metavar="ID", help="give up a held or uncertain job")
    action.add_argument("--reprint", metavar="ID", help="send an uncertain job again, once")
    action.add_argument("--resume", action="store_true", help="print the held jobs now")
    p.set_defaults(func=cmd_label_jobs)
    return p


def cmd_label_jobs(args: argparse.Namespace) -> int:
    from appliance.spool import LabelSpool
    from drivers.printer.setup import printer_from_config
    from sync.devicesecret import secret_path
    from sync.jobs import JobStore
    from ui.settings import read_settings
    from ui.wiring import SystemClock

    config = read_settings(args.config)
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    printer = printer_from_config(config, data_dir / "labels")
    secret = secret_path(config.device_secret, data_dir)
    with JobStore(data_dir / "kiosk.sqlite", secret) as jobs:
        spool = LabelSpool(printer, jobs, SystemClock())
        try:
            if args.cancel:
                if jobs.state(args.cancel) not in (JobState.PENDING, JobState.SENDING):
                    return _no_job(args.cancel)
                spool.cancel(args.cancel)
                print(f"{args.cancel}\tcancelled")
            elif args.reprint:
                if jobs.state(args.reprint) is not JobState.SENDING:
                    return _no_job(args.reprint, "uncertain")
                printed = spool.reprint(args.reprint)
                print(f"{args.reprint}\tprinted\t" + " ".join(printed.artifacts))
            elif args.resume:
                for printed in spool.resume():
                    print(f"{printed.job_id}\tprinted")
            spool.expire()
            for state, listed in (("held", jobs.pending()), ("uncertain", jobs.uncertain())):
                for job in listed:
                    number = job.number
                    print(f"{job.job_id}\t{state}\t{job.issued_on}\t"
                          f"{number.issuer.issuer_id}\t{number.masked()}")  # fmt: skip
        except KioskError as exc:
            print(bilingual(exc.key, **exc.params), file=sys.stderr)
            print(f"({type(exc).__name__}: {exc})", file=sys.stderr)
            return 1
    return 0


def _no_job(job_id: str, state: str = "held or uncertain") -> int:
    print(
        f"no {state} label job {job_id!r} / 該当する印刷待ちのラベルがありません", file=sys.stderr
    )
    return 2

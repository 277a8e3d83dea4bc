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
from typing import TYPE_CHECKING, Any

from appliance.errors import KioskError
from appliance.messages import bilingual
from appliance.ports import JobState, LabelJobs

if TYPE_CHECKING:
    from appliance.spool import LabelSpool
    from appliance.values import LabelJob, PrintedLabel

# What staff may do with a job, by its state: the CLI and the staff screen (ui/jobs_screen.py)
# both go through these, so they cannot disagree.
CANCELLABLE = (JobState.PENDING, JobState.SENDING)


def waiting(jobs: LabelJobs) -> list[tuple[str, LabelJob]]:
    """Held jobs (they print by themselves), then uncertain ones (staff decide), oldest first."""
    return [("held", job) for job in jobs.pending()] + [
        ("uncertain", job) for job in jobs.uncertain()
    ]


def cancel_job(spool: LabelSpool, jobs: LabelJobs, job_id: str) -> bool:
    """Give up a held or uncertain job; False if it is neither (printed, cancelled, unknown)."""
    if jobs.state(job_id) not in CANCELLABLE:
        return False
    spool.cancel(job_id)
    return True


def reprint_job(spool: LabelSpool, jobs: LabelJobs, job_id: str) -> PrintedLabel | None:
    """Send an *uncertain* job again, one attempt; None if the job is not uncertain. Staff
    call it only after looking at the printer (it may have printed already)."""
    if jobs.state(job_id) is not JobState.SENDING:
        return None
    return spool.reprint(job_id)


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
                if not cancel_job(spool, jobs, args.cancel):
                    return _no_job(args.cancel)
                print(f"{args.cancel}\tcancelled")
            elif args.reprint:
                printed = reprint_job(spool, jobs, args.reprint)
                if printed is None:
                    return _no_job(args.reprint, "uncertain")
                print(f"{args.reprint}\tprinted\t" + " ".join(printed.artifacts))
            elif args.resume:
                for printed in spool.resume():
                    print(f"{printed.job_id}\tprinted")
            spool.expire()
            for state, job in waiting(jobs):
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

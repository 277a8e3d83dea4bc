"""Label jobs between the flow and the printer: never lost, never printed twice.

Every job is persisted (:class:`~appliance.ports.LabelJobs`) *before* the printer sees it. One
attempt claims the job (``PENDING`` -> ``SENDING``), sends it, and records the outcome:

- printed: ``PRINTED``, card number wiped;
- refused before anything printed (paper out, cover open, offline, unplugged: the printer adapter
  checks real-time status first and sends nothing): back to ``PENDING``; the patron is told the
  label is kept, and :meth:`LabelSpool.resume` prints it once the printer is back;
- the link broke while bytes were going out (``PrinterError.maybe_printed``): left ``SENDING``.
  Resending could print the label twice, so the job waits for staff (reprint or cancel) instead;
- the label cannot be drawn at all (``LabelError``: a symbol too wide for the paper): cancelled,
  so it does not block the labels behind it.

Older pending jobs print before a new one, so labels come out in the order patrons tapped, and
a job from an earlier day is never printed: :meth:`expire` cancels it and wipes its number (a
same-day label is worthless tomorrow, and the number must not outlive the day).

What a screen needs (the UI): a ``PrinterError`` raised for a job carries its ``job_id``, so the
patron screen can remember the held job and say "your held label has printed" when a listener
(:meth:`LabelSpool.add_listener`, called from the printing thread, once per printed label) sees
that ID; :meth:`LabelSpool.entries` is the staff job list (masked numbers, unreadable jobs with
their ``LabelJobUnreadable``).

Blocking (it talks to the printer): run it off the UI loop. One spool per printer; its lock
keeps two workers from printing at once (STYLE.md 9).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.errors import LabelError, LabelJobUnreadable, PrinterError
from appliance.ports import Clock, JobEntry, JobState, LabelJobs, LabelPrinter
from appliance.values import LabelJob, PrintedLabel

log = logging.getLogger(__name__)


class LabelSpool:
    """The one way labels reach the printer."""

    def __init__(self, printer: LabelPrinter, jobs: LabelJobs, clock: Clock) -> None:
        self._printer = printer
        self._jobs = jobs
        self._clock = clock
        self._lock = threading.Lock()
        self._listeners: list[Callable[[PrintedLabel], None]] = []

    def add_listener(self, listener: Callable[[PrintedLabel], None]) -> None:
        """Call ``listener(printed)`` after every label printed, from the printing thread (the
        resume loop's, for a held label): a Textual app hands it on with ``call_from_thread``.
        A listener that raises is logged; printing goes on."""
        self._listeners.append(listener)

    def entries(self) -> list[JobEntry]:
        """The staff job list: held and uncertain jobs, oldest first, masked numbers."""
        return self._jobs.entries()

    def submit(self, job: LabelJob) -> PrintedLabel:
        """Keep ``job``, print what is waiting, then ``job``; ``PrinterError`` = kept, not printed.

        Raises ``PrinterError`` (``PaperOut``, ``CoverOpen``...) when ``job`` could not be
        printed now: it stays pending and prints at the next :meth:`resume`.
        """
        with self._lock:
            self._jobs.add(job)
            self.expire()
            for older in self._jobs.pending():
                if older.job_id == job.job_id:
                    continue
                try:
                    self._attempt(older)
                except LabelError:
                    continue  # cancelled by _attempt; not this patron's problem
                except PrinterError as exc:
                    exc.job_id = job.job_id  # this patron's job is the one held now
                    raise
            return self._attempt(job)

    def resume(self) -> list[PrintedLabel]:
        """Print every pending job of today, oldest first; stop at the first printer fault."""
        printed: list[PrintedLabel] = []
        with self._lock:
            self.expire()
            for job in self._jobs.pending():
                try:
                    printed.append(self._attempt(job))
                except PrinterError as exc:
                    log.info("spool: %d printed, then held: %s", len(printed), exc.key)
                    break
        return printed

    def cancel(self, job_id: str) -> None:
        """Staff gave up on a job (pending or uncertain): it will not print; number wiped."""
        with self._lock:
            self._jobs.cancel(job_id)

    def reprint(self, job_id: str) -> PrintedLabel:
        """Staff checked that an uncertain job did *not* print: send it again, once."""
        with self._lock:
            if self._jobs.state(job_id) is not JobState.SENDING:
                raise ValueError("only an uncertain job can be reprinted")
            job = next((j for j in self._jobs.uncertain() if j.job_id == job_id), None)
            if job is None:  # uncertain, but it does not unseal here: it never prints
                raise LabelJobUnreadable(job_id)
            self._jobs.release(job_id)
            return self._attempt(job)

    def expire(self) -> int:
        """Cancel and wipe jobs of earlier days; how many were never printed."""
        dropped = self._jobs.expire(self._clock.today())
        if dropped:
            log.warning("spool: %d label job(s) of an earlier day cancelled unprinted", dropped)
        return dropped

    def _attempt(self, job: LabelJob) -> PrintedLabel:
        if not self._jobs.claim(job.job_id):
            raise ValueError(f"label job {job.job_id} is not pending")
        try:
            printed = self._printer.print_label(job)
        except LabelError:
            self._jobs.cancel(job.job_id)  # it can never print: do not let it block the queue
            log.warning("spool: job %s cannot be drawn; cancelled", job.job_id)
            raise
        except PrinterError as exc:
            exc.job_id = job.job_id  # the screen waits for this one to print
            if not exc.maybe_printed:
                self._jobs.release(job.job_id)
            log.warning("spool: job %s held: %s (%s)", job.job_id, exc.key, type(exc).__name__)
            raise
        except BaseException:
            self._jobs.release(job.job_id)  # a bug before any byte went out: keep the job
            raise
        self._jobs.printed(job.job_id)
        log.info("spool: job %s printed", job.job_id)
        for listener in self._listeners:
            try:
                listener(printed)
            except Exception:
                log.exception("spool: a printed-label listener failed")
        return printed


class ResumeLoop:
    """Retries held labels every ``interval_s`` in a daemon thread, so a held label prints as
    soon as staff reload the paper, without waiting for the next patron. Stop it on shutdown."""

    def __init__(self, spool: LabelSpool, interval_s: float) -> None:
        self._spool = spool
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="label-resume", daemon=True)

    def start(self) -> ResumeLoop:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._spool.resume()
            except Exception:
                log.exception("spool: resume failed")


@dataclass
class _Row:
    job: LabelJob | None  # None once printed or cancelled (the number is wiped)
    state: JobState
    issued_on: str


@dataclass
class MemoryJobs:
    """The shipped in-memory ``LabelJobs`` fake (unit tests, the demo). Not durable."""

    rows: dict[str, _Row] = field(default_factory=dict)

    def add(self, job: LabelJob) -> None:
        if job.job_id in self.rows:
            raise ValueError(f"label job {job.job_id} exists")
        self.rows[job.job_id] = _Row(job, JobState.PENDING, job.issued_on)

    def pending(self) -> list[LabelJob]:
        return [r.job for r in self.rows.values() if r.state is JobState.PENDING and r.job]

    def claim(self, job_id: str) -> bool:
        row = self.rows.get(job_id)
        if row is None or row.state is not JobState.PENDING:
            return False
        row.state = JobState.SENDING
        return True

    def release(self, job_id: str) -> None:
        row = self.rows[job_id]
        if row.state is JobState.SENDING:
            row.state = JobState.PENDING

    def printed(self, job_id: str) -> None:
        self._finish(job_id, JobState.PRINTED)

    def cancel(self, job_id: str) -> None:
        self._finish(job_id, JobState.CANCELLED)

    def uncertain(self) -> list[LabelJob]:
        return [r.job for r in self.rows.values() if r.state is JobState.SENDING and r.job]

    def state(self, job_id: str) -> JobState | None:
        row = self.rows.get(job_id)
        return row.state if row else None

    def entries(self) -> list[JobEntry]:
        return [
            JobEntry(k, r.state, r.issued_on, r.job.number.issuer.issuer_id, r.job.number.masked())
            for k, r in self.rows.items()
            if r.job is not None
        ]

    def expire(self, today: dt.date) -> int:
        old = [k for k, r in self.rows.items() if r.issued_on < today.isoformat()]
        dropped = sum(1 for k in old if self.rows[k].state in (JobState.PENDING, JobState.SENDING))
        for k in old:
            del self.rows[k]
        return dropped

    def _finish(self, job_id: str, state: JobState) -> None:
        row = self.rows[job_id]
        if row.state in (JobState.PENDING, JobState.SENDING):
            row.state, row.job = state, None

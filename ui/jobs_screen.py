"""Staff screens for labels: the jobs waiting for the printer, and a reprint of the last label.

The list is ``kioskctl label-jobs`` on screen and goes through the same functions
(:mod:`ui.labeljobs`): held jobs print by themselves once the printer is back (or now, with
"print now"); an *uncertain* job (cut off part-way) may have printed, so it is reprinted only
after staff confirm they looked at the printer, one attempt per confirmation. Numbers are masked.

The last label staff printed in this staff session (:class:`ui.lastlabel.LastLabel`, memory
only, wiped at idle) can be reprinted if it jammed or tore. Every store and printer call runs
in a worker.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Static

from appliance.errors import KioskError
from appliance.values import LookupMatch
from ui.footer import KioskFooter
from ui.labeljobs import cancel_job, reprint_job, waiting
from ui.screens import TimedScreen, both


class LabelJobsScreen(TimedScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]

    def __init__(self, timeout_s: float = 120.0) -> None:
        super().__init__(timeout_s)
        self.states: dict[str, str] = {}  # job ID -> "held" / "uncertain", as listed
        self.armed = ""  # the uncertain job whose reprint staff are asked to confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("jobs.title"), id="title")
            yield DataTable(id="jobs", cursor_type="row")
            yield Static(self.say("jobs.held"), classes="para")
            yield Static(self.say("jobs.uncertain"), classes="para")
            yield Static("", id="jobs-state")
            with Horizontal(id="options"):
                yield Button(both("jobs.reprint"), id="reprint-job")
                yield Button(both("jobs.cancel"), id="cancel-job")
                yield Button(both("jobs.resume"), id="resume")
                yield Button(both("ui.done"), id="done")
            yield self.countdown()
        yield KioskFooter()

    def on_mount(self) -> None:
        self.query_one("#jobs", DataTable).add_columns(
            "ID", "状態 / state", "日付 / date", "図書館 / library", "番号 / number"
        )
        self._run("list", "")

    def _selected(self) -> str:
        table = self.query_one("#jobs", DataTable)
        if not table.row_count:
            return ""
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _say_state(self, key: str) -> None:
        self.query_one("#jobs-state", Static).update(self.say(key) if key else "")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.touched()
        job_id, button = self._selected(), event.button.id
        if button == "done":
            self.app.action_to_idle()  # type: ignore[attr-defined]
        elif button == "resume":
            self._run("resume", "")
        elif not job_id:
            self._say_state("jobs.none")
        elif button == "cancel-job":
            self._run("cancel", job_id)
        elif self.states.get(job_id) != "uncertain":
            self._say_state("jobs.held_resumes")  # held jobs print by themselves, or on resume
        elif self.armed != job_id:
            self.armed = job_id  # first press: look at the printer; the second one reprints
            self._say_state("jobs.confirm_reprint")
        else:
            self._run("reprint", job_id)

    @work(thread=True, exclusive=True, group="printer")
    def _run(self, action: str, job_id: str) -> None:
        kiosk = self.app.kiosk  # type: ignore[attr-defined]
        spool, jobs = kiosk.flow.spool, kiosk.jobs
        key, rows = "", list[Any]()
        if jobs is None:  # a kiosk without a job store keeps no label for later
            self.app.call_from_thread(self._show, rows, "jobs.none")
            return
        try:
            if action == "cancel":
                key = "jobs.cancelled" if cancel_job(spool, jobs, job_id) else "jobs.gone"
            elif action == "reprint":
                key = "jobs.reprinted" if reprint_job(spool, jobs, job_id) else "jobs.gone"
            elif action == "resume":
                key = "jobs.resumed" if spool.resume() else "jobs.none_printed"
        except KioskError as exc:  # the printer refused again: the job is kept, and listed
            key = exc.key
        try:
            spool.expire()
            rows = waiting(jobs)
        except KioskError as exc:  # the job store itself fails: say so, list nothing
            key = exc.key
        self.app.call_from_thread(self._show, rows, key)

    def _show(self, rows: list[tuple[str, object]], key: str) -> None:
        if not self.is_attached:
            return
        self.armed = ""
        table = self.query_one("#jobs", DataTable)
        table.clear()
        self.states.clear()
        for state, job in rows:
            number = job.number  # type: ignore[attr-defined]
            job_id = job.job_id  # type: ignore[attr-defined]
            self.states[job_id] = state
            table.add_row(job_id, self.say_plain(f"jobs.state.{state}"), job.issued_on,  # type: ignore[attr-defined]
                          number.issuer.name, number.masked(), key=job_id)  # fmt: skip
        self._say_state(key or ("" if rows else "jobs.none"))

    def say_plain(self, key: str) -> str:
        """One line per language, no markup: a table cell."""
        return " / ".join(line for line in self.say(key).replace("[dim]", "").replace(
            "[/dim]", "").split("\n"))  # fmt: skip

    def wipe(self) -> None:
        self.states.clear()
        if self.is_attached:
            self.query_one("#jobs", DataTable).clear()


class ReprintLastScreen(TimedScreen):
    """The staff session's last label (library, masked number), and a button to print it again."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.staff_menu", "戻る / Back")]

    def __init__(self, match: LookupMatch | None, timeout_s: float = 60.0) -> None:
        super().__init__(timeout_s)
        self.match = match

    def compose(self) -> ComposeResult:
        match = self.match
        with Vertical(id="main"):
            yield Static(self.say("staff.reprint"), id="title")
            if match is None:
                yield Static(self.say("jobs.no_last"), id="hint")
            else:
                yield Static(match.number.issuer.name, id="library")
                yield Static(match.number.masked(), id="last-number", classes="number")
            yield Static("", id="jobs-state")
            with Horizontal(id="options"):
                if match is not None:
                    yield Button(both("jobs.reprint"), id="reprint-last", variant="primary")
                yield Button(both("ui.done"), id="done")
            yield self.countdown()
        yield KioskFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.touched()
        if event.button.id == "reprint-last" and self.match is not None:
            event.button.disabled = True  # one press, one label
            self.query_one("#jobs-state", Static).update(self.say("progress.printing"))
            self._print(self.match)
        else:
            self.app.action_staff_menu()  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, group="printer")
    def _print(self, match: LookupMatch) -> None:
        key = "jobs.last_printed"
        try:
            self.app.kiosk.flow.print_match(match)  # type: ignore[attr-defined]
        except KioskError as exc:
            key = exc.key
        self.app.call_from_thread(self._printed, key)

    def _printed(self, key: str) -> None:
        if self.is_attached:
            self.query_one("#jobs-state", Static).update(self.say(key))
            self.query_one("#reprint-last", Button).disabled = False

    def wipe(self) -> None:
        self.match = None

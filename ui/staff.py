"""Staff and technician screens, behind the staff PIN: the menu and the diagnostics.

Diagnostics run the same checks as ``kioskctl doctor`` (each part's ``status()``) in a worker, so
a slow platform or a hung reader never freezes the screen.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Grid, Vertical
from textual.widgets import Button, DataTable, Input, Static

from appliance.ports import DeviceState, DeviceStatus
from ui.footer import KioskFooter
from ui.host import card_test, host_checks, print_test_label
from ui.jobs_screen import LabelJobsScreen, ReprintLastScreen
from ui.poll import link_status_row
from ui.screens import KioskScreen, both
from ui.setup import SetupScreen

_STATE_TEXT = {
    DeviceState.OK: "[green]OK[/green]",
    DeviceState.WARNING: "[yellow]注意 / warning[/yellow]",
    DeviceState.FAULT: "[red]異常 / fault[/red]",
    DeviceState.UNKNOWN: "不明 / unknown",
}


class StaffPinScreen(KioskScreen):
    """Asks for the staff PIN; compares in constant time; never shows the digits."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]

    def __init__(self, expected: str) -> None:
        super().__init__()
        self._expected = expected

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("staff.pin"), id="title")
            with Center():
                yield Input(password=True, max_length=8, restrict=r"[0-9]*", id="staff-pin")
            yield Static("", id="staff-error")
        yield KioskFooter()

    def on_mount(self) -> None:
        self.query_one("#staff-pin", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed, event.input.value = event.value, ""
        if hmac.compare_digest(typed.encode(), self._expected.encode()):
            self.app.switch_screen(StaffMenuScreen())
        else:
            self.query_one("#staff-error", Static).update(self.say("staff.wrong"))


class StaffMenuScreen(KioskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("staff.menu"), id="title")
            with Grid(id="menu-grid"):
                for name in ("lookup", "register", "unregister", "jobs", "reprint", "setup",
                             "diagnostics"):  # fmt: skip
                    yield Button(both(f"staff.{name}"), id=name, classes="menu")
                if getattr(self.app, "offline", None) is not None:
                    yield Button("移動図書館 / Bookmobile", id="bookmobile", classes="menu")
                yield Button("戻る / Back", id="back", classes="menu")
        yield KioskFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        app = self.app
        if event.button.id == "diagnostics":
            app.switch_screen(DiagnosticsScreen())
        elif event.button.id == "lookup":
            app.start_staff_lookup()  # type: ignore[attr-defined]
        elif event.button.id in ("register", "unregister"):
            app.start_service_ids(event.button.id)  # type: ignore[attr-defined]
        elif event.button.id == "jobs":
            app.switch_screen(LabelJobsScreen(2 * app.kiosk.config.idle_timeout_s))  # type: ignore[attr-defined]
        elif event.button.id == "reprint":
            timeout = app.kiosk.config.idle_timeout_s  # type: ignore[attr-defined]
            app.switch_screen(ReprintLastScreen(app.last_label.current(), timeout))  # type: ignore[attr-defined]
        elif event.button.id == "setup":
            app.switch_screen(SetupScreen(app.kiosk.config.terminal_id))  # type: ignore[attr-defined]
        elif event.button.id == "bookmobile":
            from ui.offline import OfflineStaffScreen

            app.switch_screen(OfflineStaffScreen(app.offline))  # type: ignore[attr-defined]
        else:
            app.action_to_idle()  # type: ignore[attr-defined]


class DiagnosticsScreen(KioskScreen):
    """Reader, printer, platform, (hand-over), clock, disk, version: one row each; R re-checks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.to_idle", "戻る / Back"),
        Binding("r", "refresh_checks", "再確認 / Re-check"),
        Binding("c", "card_test", "カード読み取り試験 / Card test"),
        Binding("p", "test_label", "試し印刷 / Test label"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("diag.title"), id="title")
            yield DataTable(id="checks", cursor_type="none")
            yield Static(self.say("diag.running"), id="diag-state")
        yield KioskFooter()

    def on_mount(self) -> None:
        table = self.query_one("#checks", DataTable)
        table.add_columns("部品 / part", "状態 / state", "詳細 / detail")
        self.action_refresh_checks()

    def action_refresh_checks(self) -> None:
        self.query_one("#diag-state", Static).update(self.say("diag.running"))
        self._run_checks()

    def action_card_test(self) -> None:
        self.query_one("#diag-state", Static).update(self.say("diag.card_test"))
        self._device_test("card")

    def action_test_label(self) -> None:
        self.query_one("#diag-state", Static).update(self.say("diag.running"))
        self._device_test("label")

    @work(thread=True, exclusive=True, group="device-test")
    def _device_test(self, which: str) -> None:
        kiosk = self.app.kiosk  # type: ignore[attr-defined]
        if which == "card":
            result = card_test(kiosk.reader, kiosk.config.card_timeout_s)
        else:
            result = print_test_label(kiosk.printer, dt.date.today())
        self.app.call_from_thread(self._add, result)

    def _add(self, status: DeviceStatus) -> None:
        if self.is_attached:
            table = self.query_one("#checks", DataTable)
            table.add_row(status.part, _STATE_TEXT[status.state], status.detail)
            self.query_one("#diag-state", Static).update("")

    @work(thread=True, exclusive=True, group="diagnostics")
    def _run_checks(self) -> None:
        kiosk = self.app.kiosk  # type: ignore[attr-defined]
        results = kiosk.statuses()
        if kiosk.link is not None:  # the outbox flusher's view: what the idle status line shows
            results.append(link_status_row(kiosk.link.link_status()))
        results += host_checks(kiosk.config.data_dir)
        self.app.call_from_thread(self._show, results)

    def _show(self, results: list[DeviceStatus]) -> None:
        table = self.query_one("#checks", DataTable)
        table.clear()
        for status in results:
            table.add_row(status.part, _STATE_TEXT[status.state], status.detail)
        self.query_one("#diag-state", Static).update("")

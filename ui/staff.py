"""Staff and technician screens, behind the staff PIN: the menu and the diagnostics.

Diagnostics run the same checks as ``kioskctl doctor`` (each part's ``status()``) in a worker, so
a slow platform or a hung reader never freezes the screen.
"""

from __future__ import annotations

import hmac
import platform as _platform
import shutil
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.widgets import Button, DataTable, Footer, Input, Static

from appliance.ports import DeviceState, DeviceStatus
from ui.screens import KioskScreen

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
        yield Footer()

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
            with Center():
                yield Button("診断 / Diagnostics", id="diagnostics")
            if getattr(self.app, "offline", None) is not None:
                with Center():
                    yield Button("移動図書館 / Bookmobile", id="bookmobile")
            with Center():
                yield Button("戻る / Back", id="back")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "diagnostics":
            self.app.switch_screen(DiagnosticsScreen())
        elif event.button.id == "bookmobile":
            from ui.offline import OfflineStaffScreen

            self.app.switch_screen(OfflineStaffScreen(self.app.offline))  # type: ignore[attr-defined]
        else:
            self.app.action_to_idle()  # type: ignore[attr-defined]


def host_checks() -> list[DeviceStatus]:
    """What the box itself can tell: disk space and software version."""
    total, _used, free = shutil.disk_usage("/")
    disk_state = DeviceState.OK if free > 200 * 2**20 else DeviceState.WARNING
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("mykey-kiosk")
    except PackageNotFoundError:
        ours = "unknown"
    return [
        DeviceStatus("disk", disk_state, f"{free // 2**20} MiB free of {total // 2**20} MiB"),
        DeviceStatus(
            "version", DeviceState.OK, f"kiosk {ours}, Python {_platform.python_version()}"
        ),
    ]


class DiagnosticsScreen(KioskScreen):
    """Reader, printer, platform, disk, version: one row each, refreshed with R."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.to_idle", "戻る / Back"),
        Binding("r", "refresh_checks", "再確認 / Re-check"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("diag.title"), id="title")
            yield DataTable(id="checks", cursor_type="none")
            yield Static(self.say("diag.running"), id="diag-state")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#checks", DataTable)
        table.add_columns("部品 / part", "状態 / state", "詳細 / detail")
        self.action_refresh_checks()

    def action_refresh_checks(self) -> None:
        self.query_one("#diag-state", Static).update(self.say("diag.running"))
        self._run_checks()

    @work(thread=True, exclusive=True, group="diagnostics")
    def _run_checks(self) -> None:
        kiosk = self.app.kiosk  # type: ignore[attr-defined]
        results: list[DeviceStatus] = []
        for part in (kiosk.reader, kiosk.printer, kiosk.platform):
            try:
                results.append(part.status())
            except Exception as exc:  # a status check must never take the screen down
                results.append(DeviceStatus(type(part).__name__, DeviceState.FAULT, str(exc)))
        results.extend(host_checks())
        self.app.call_from_thread(self._show, results)

    def _show(self, results: list[DeviceStatus]) -> None:
        table = self.query_one("#checks", DataTable)
        table.clear()
        for status in results:
            table.add_row(status.part, _STATE_TEXT[status.state], status.detail)
        self.query_one("#diag-state", Static).update("")

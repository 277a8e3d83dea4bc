"""Staff lookup at the counter: the patron taps (+PIN), staff get the number by the issuer's method.

(A) the number on screen, masked until staff press Reveal; (B) a barcode on screen for the library
system's scanner; (C) typed into the library system by the hand-over device (USB keyboard gadget
or serial wedge), once automatically and again on request; (D) a label. Which method an issuer
uses comes from the platform's issuer record, unless the kiosk config overrides it (``handover``).

The screen holds the looked-up numbers only while it is shown: "Done" goes back to the staff
menu with the lookup wiped (:meth:`KioskApp.action_staff_menu`); it is a timed screen, so a
counter left unattended goes back to idle and :meth:`KioskApp.action_to_idle` wipes it, and
the staff session's last label with it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from appliance.config import handover_overrides
from appliance.errors import KioskError
from appliance.values import CardNumber, Handover, LookupMatch
from ui.barcode import BarcodeView
from ui.footer import KioskFooter
from ui.screens import TimedScreen, both


def method_for(match: LookupMatch, override_spec: str) -> Handover:
    """The configured hand-over method of the match's issuer: kiosk override, else platform."""
    override = handover_overrides(override_spec).get(match.number.issuer.issuer_id)
    return Handover(override) if override else match.number.issuer.handover


class LookupWaitScreen(TimedScreen):
    """Staff started a lookup: waiting for the patron's card."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]
    role = "lookup-wait"

    def __init__(self, demo_hint: str = "", timeout_s: float = 60.0) -> None:
        super().__init__(timeout_s)
        self._demo_hint = demo_hint

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("staff.lookup"), id="title")
            yield Static(self.say("lookup.wait"), id="hint")
            if self._demo_hint:
                yield Static(self._demo_hint, id="demo")
            yield self.countdown()
        yield KioskFooter()


class StaffLookupScreen(TimedScreen):
    """One panel per linked library, each with its issuer's hand-over method."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.staff_menu", "終了 / Done")]

    def __init__(
        self, matches: list[LookupMatch], methods: list[Handover], timeout_s: float = 60.0
    ) -> None:
        super().__init__(timeout_s)
        self.matches = list(matches)
        self.methods = list(methods)
        self.revealed: set[int] = set()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="main"):
            yield Static(self.say("lookup.title"), id="title")
            for i, (match, method) in enumerate(zip(self.matches, self.methods, strict=True)):
                with Vertical(classes="match", id=f"match-{i}"):
                    yield Static(f"[b]{match.number.issuer.name}[/b]  ({method.value})")
                    yield Static(self.say(f"lookup.method.{method.value}"))
                    if not match.card_valid:
                        yield Static(self.say("lookup.card_invalid"), classes="warning")
                    if match.address_changed:
                        yield Static(self.say("lookup.address_changed"), classes="warning")
                    yield from self._panel(i, match, method)
            yield Button(both("ui.done"), id="done")
            yield self.countdown()
        yield KioskFooter()

    def _panel(self, i: int, match: LookupMatch, method: Handover) -> ComposeResult:
        # Every method keeps (A) as the fallback: a jammed scanner or an unplugged wedge must
        # not leave staff without the number.
        yield Horizontal(
            Static(self._number_text(i), id=f"number-{i}", classes="number"),
            Button(both("lookup.reveal"), id=f"reveal-{i}"),
            classes="row",
        )
        if method is Handover.SCREEN_BARCODE:
            try:
                yield BarcodeView(match.number, id=f"barcode-{i}")
            except KioskError as exc:
                yield Static(self.say(exc.key), classes="warning")
        elif method is Handover.AUTO_INPUT:
            yield Horizontal(
                Static(self.say("lookup.sending"), id=f"sent-{i}"),
                Button(both("lookup.send_again"), id=f"send-{i}"),
                classes="row",
            )
        elif method is Handover.LABEL:
            yield Horizontal(
                Static("", id=f"printed-{i}"),
                Button(both("lookup.print"), id=f"print-{i}"),
                classes="row",
            )

    def _number_text(self, i: int) -> str:
        number = self.matches[i].number
        return number.value if i in self.revealed else number.masked()

    def on_mount(self) -> None:
        for i, method in enumerate(self.methods):
            if method is Handover.AUTO_INPUT:
                self._send(i)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.touched()
        name = event.button.id or ""
        kind, _, index = name.partition("-")
        if kind == "reveal":
            i = int(index)
            self.revealed ^= {i}
            self.query_one(f"#number-{i}", Static).update(self._number_text(i))
        elif kind == "send":
            self._send(int(index))
        elif kind == "print":
            self._print(int(index))
        elif kind == "done":
            self.app.action_staff_menu()  # type: ignore[attr-defined]

    def wipe(self) -> None:
        self.matches.clear()
        self.methods.clear()
        self.revealed.clear()

    # -- device work off the UI loop (STYLE.md 9) ----------------------------------------------

    def _send(self, i: int) -> None:
        self._send_worker(i, self.matches[i].number)

    def _print(self, i: int) -> None:
        self._print_worker(i, self.matches[i])

    @work(thread=True, group="handoff")
    def _send_worker(self, i: int, number: CardNumber) -> None:
        handoff = getattr(self.app.kiosk, "handoff", None)  # type: ignore[attr-defined]
        key = "lookup.sent"
        try:
            if handoff is None:
                key = "error.handoff"
            else:
                handoff.send(number.value)
        except KioskError as exc:
            key = exc.key
        self.app.call_from_thread(self._report, f"#sent-{i}", key)

    @work(thread=True, group="printer")
    def _print_worker(self, i: int, match: LookupMatch) -> None:
        key = "lookup.printed"
        try:
            self.app.kiosk.flow.print_match(match)  # type: ignore[attr-defined]
            self.app.last_label.keep(match)  # type: ignore[attr-defined]  # staff may reprint it
        except KioskError as exc:
            key = exc.key
        self.app.call_from_thread(self._report, f"#printed-{i}", key)

    def _report(self, where: str, key: str) -> None:
        if self.is_attached:
            self.query_one(where, Static).update(self.say(key))

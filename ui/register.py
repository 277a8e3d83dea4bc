"""Staff screens of the service-ID registration (and deletion): number, tap, confirm.

1. :class:`ServiceIdFormScreen`: the library from a pull-down of the issuers this terminal
   serves (asked of the platform, in a worker) and the library card number, typed or scanned
   by the counter's barcode reader; checked against the issuer's rules with every problem shown
   in Japanese and English before the patron is asked for anything.
2. :class:`ServiceIdWaitScreen`: the patron taps the card (+PIN on the usual PIN screen).
3. :class:`ServiceIdConfirmScreen`: the number to be registered, in full, so staff catch a typo
   ("back" corrects it without a second tap: the card's proof is kept until used), and the
   address-change notice opt-in. Never the MyKey ID: the kiosk does not have it.

What the staff and patron entered lives in one :class:`ServiceIdSession`, held by the app and
wiped by :meth:`KioskApp.action_to_idle` like everything else a patron leaves behind. The steps
between screens are the app's (``ui/register_flow.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Select, Static
from textual.worker import get_current_worker

from appliance.errors import KioskError, ScannerError
from appliance.register import clean_number, number_problems
from appliance.values import CardNumber, CardProof, Issuer
from ui.footer import KioskFooter
from ui.screens import TimedScreen, both

REGISTER, UNREGISTER = "register", "unregister"  # the modes, and the challenges' purposes


@dataclass
class ServiceIdSession:
    """One registration (or deletion) under way at the counter."""

    mode: str
    issuers: list[Issuer] = field(default_factory=list)
    issuer: Issuer | None = None
    typed: str = field(default="", repr=False)  # what staff typed or scanned, as entered
    number: CardNumber | None = None
    address_notice: bool = False
    proof: CardProof | None = None  # the card's proof, until the platform call uses it
    proof_issuer: str = ""  # the issuer the proof was made for (its PIN policy)

    def wipe(self) -> None:
        self.issuers.clear()
        self.issuer = self.number = self.proof = None
        self.typed = self.proof_issuer = ""
        self.address_notice = False


def _title(mode: str) -> str:
    return "register.title" if mode == REGISTER else "unregister.title"


class ServiceIdFormScreen(TimedScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]
    keep_on_lift = True  # after "back": the card has been read; staff correct the number

    def __init__(self, session: ServiceIdSession, timeout_s: float = 120.0) -> None:
        super().__init__(timeout_s)
        self.session = session

    def compose(self) -> ComposeResult:
        session = self.session
        with Vertical(id="main"):
            yield Static(self.say(_title(session.mode)), id="title")
            with Horizontal(classes="field"):
                yield Static(self.say("register.issuer"), classes="label")
                yield Select(self._options(), prompt=self.say("register.pick").split("\n")[0],
                             value=self._selected(), id="issuer")  # fmt: skip
            if session.mode == REGISTER:
                yield Static(self.say("register.number"), classes="para")
                with Center():
                    yield Input(value=session.typed, max_length=40, id="number")
            yield Static("" if session.issuers else self.say("register.loading"), id="problems")
            yield Static("", id="scan-state")
            with Horizontal(id="options"):
                yield Button(both("register.next"), id="next", variant="primary")
                yield Button(both("ui.cancel"), id="cancel")
            yield self.countdown()
        yield KioskFooter()

    def _options(self) -> list[tuple[str, str]]:
        return [(f"{i.name} ({i.issuer_id})", i.issuer_id) for i in self.session.issuers]

    def _selected(self) -> str | object:
        issuer = self.session.issuer
        return issuer.issuer_id if issuer is not None else Select.NULL

    def on_mount(self) -> None:
        if not self.session.issuers:
            self._load_issuers()
        scanner = getattr(self.app.kiosk, "scanner", None)  # type: ignore[attr-defined]
        if scanner is not None and self.session.mode == REGISTER:
            self._scan(scanner)
        if self.session.mode == REGISTER:
            self.query_one("#number", Input).focus()

    # -- the issuers this terminal serves -------------------------------------------------------

    @work(thread=True, exclusive=True, group="issuers")
    def _load_issuers(self) -> None:
        try:
            issuers = self.app.kiosk.platform.issuers()  # type: ignore[attr-defined]
        except Exception as exc:  # a worker's exception would take the whole app down
            error = exc if isinstance(exc, KioskError) else KioskError(type(exc).__name__)
            self.app.call_from_thread(self._problems, [(error.key, error.params)])
            return
        self.app.call_from_thread(self._got_issuers, issuers)

    def _got_issuers(self, issuers: list[Issuer]) -> None:
        if not self.is_attached:
            return
        self.session.issuers[:] = issuers
        select = self.query_one("#issuer", Select)
        select.set_options(self._options())
        if len(issuers) == 1:  # the usual kiosk: one library, nothing to choose
            select.value = issuers[0].issuer_id
        self._problems([] if issuers else [("register.no_issuers", {})])

    # -- the barcode reader ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="scanner")
    def _scan(self, scanner: object) -> None:
        """Read scans while this screen is shown (the worker is cancelled when it goes)."""
        worker = get_current_worker()
        pause = threading.Event()
        while not worker.is_cancelled:
            try:
                code = scanner.read(0.25)  # type: ignore[attr-defined]
            except ScannerError:
                self.app.call_from_thread(self._scan_state, "error.scanner")
                pause.wait(2.0)  # try again: a reader plugged back in just works
                continue
            if code:
                self.app.call_from_thread(self._scanned, code)

    def _scan_state(self, key: str) -> None:
        if self.is_attached:
            self.query_one("#scan-state", Static).update(self.say(key))

    def _scanned(self, code: str) -> None:
        if not self.is_attached:
            return
        self.touched()
        self.query_one("#number", Input).value = code
        self._scan_state("register.scanned")
        if self._issuer() is not None:
            self.check()

    # -- checking -------------------------------------------------------------------------------

    def _issuer(self) -> Issuer | None:
        value = self.query_one("#issuer", Select).value
        return next((i for i in self.session.issuers if i.issuer_id == value), None)

    def _problems(self, found: list[tuple[str, dict[str, object]]]) -> None:
        if self.is_attached:
            text = "\n".join(self.say(key, **params) for key, params in found)
            self.query_one("#problems", Static).update(text)
            self.query_one("#problems", Static).set_class(bool(found), "warning")

    def check(self) -> bool:
        """Every problem with the choice and the number, shown at once; True = all good."""
        issuer = self._issuer()
        found: list[tuple[str, dict[str, object]]] = []
        if issuer is None:
            found.append(("register.pick", {}))
        if self.session.mode == REGISTER:
            typed = self.query_one("#number", Input).value
            if issuer is not None:
                found += number_problems(clean_number(typed, issuer), issuer)
            elif not typed.strip():
                found.append(("register.number.empty", {}))
        self._problems(found)
        return not found

    def on_input_changed(self, event: Input.Changed) -> None:
        self.touched()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.touched()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "next":
            self.next()
        else:
            self.app.action_to_idle()  # type: ignore[attr-defined]

    def next(self) -> None:
        if not self.check():
            self.app.bell()
            return
        session, issuer = self.session, self._issuer()
        assert issuer is not None  # check() said so
        session.issuer = issuer
        if session.mode == REGISTER:
            session.typed = self.query_one("#number", Input).value
            session.number = CardNumber(issuer, clean_number(session.typed, issuer))
        if session.proof_issuer != issuer.issuer_id:
            session.proof, session.proof_issuer = None, ""  # another library: tap again
        self.app.service_next()  # type: ignore[attr-defined]

    def wipe(self) -> None:
        if self.is_attached and self.session.mode == REGISTER:
            self.query_one("#number", Input).value = ""


class ServiceIdWaitScreen(TimedScreen):
    """Waiting for the patron's card, for the library staff chose."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]
    role = "service-wait"

    def __init__(self, session: ServiceIdSession, demo_hint: str = "", timeout_s: float = 60.0):
        super().__init__(timeout_s)
        self.session = session
        self._demo_hint = demo_hint

    def compose(self) -> ComposeResult:
        issuer = self.session.issuer
        with Vertical(id="main"):
            yield Static(self.say(_title(self.session.mode)), id="title")
            yield Static(issuer.name if issuer else "", id="library")
            yield Static(self.say("register.tap"), id="hint")
            if self._demo_hint:
                yield Static(self._demo_hint, id="demo")
            yield self.countdown()
        yield KioskFooter()


class ServiceIdConfirmScreen(TimedScreen):
    """The number to register in full (staff typed it; this is where a typo shows), or the
    library whose registration goes; the address-change notice opt-in."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "やめる / Cancel")]
    keep_on_lift = True  # the card has done its part; the patron may have picked it up

    def __init__(self, session: ServiceIdSession, timeout_s: float = 60.0) -> None:
        super().__init__(timeout_s)
        self.session = session

    def compose(self) -> ComposeResult:
        session = self.session
        registering = session.mode == REGISTER
        with Vertical(id="main"):
            yield Static(self.say(_title(session.mode)), id="title")
            yield Static(self.say("register.confirm" if registering else "unregister.confirm"),
                         id="hint")  # fmt: skip
            yield Static(session.issuer.name if session.issuer else "", id="library")
            if registering and session.number is not None:
                with Center():
                    yield Static(session.number.value, id="confirm-number", classes="number")
                with Center():
                    yield Checkbox(both("register.notice"), session.address_notice, id="notice")
            with Horizontal(id="options"):
                if registering:
                    yield Button(both("register.send"), id="send", variant="primary")
                    yield Button(both("register.back"), id="fix")
                else:
                    yield Button(both("register.delete"), id="send", variant="error")
                yield Button(both("ui.cancel"), id="cancel")
            yield self.countdown()
        yield KioskFooter()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.touched()
        self.session.address_notice = event.value

    def on_button_pressed(self, event: Button.Pressed) -> None:
        app = self.app
        if event.button.id == "send":
            app.service_send()  # type: ignore[attr-defined]
        elif event.button.id == "fix":
            app.service_back()  # type: ignore[attr-defined]
        else:
            app.action_to_idle()  # type: ignore[attr-defined]

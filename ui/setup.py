"""Technician screens: the first-boot setup wizard and the "re-enrolment needed" screen.

The wizard collects the form II credentials (terminal ID + password) and the contact form, checks
them with the pure rules of :mod:`appliance.contact` (the platform checks the same rules), shows
*every* problem under its field at once, and only then sends the registration through a
:class:`TerminalRegistrar`, in a worker. The registrar is whatever the wiring gives the kiosk
(``Kiosk.registrar``); until the platform client has its registration call, there is none and the
wizard says so rather than pretending.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import ClassVar, Protocol

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Paste
from textual.widgets import Button, Input, Select, Static

from appliance.contact import (
    ContactDetails,
    Problem,
    contact_problems,
    credential_problems,
    platform_url_problems,
)
from appliance.errors import ConfigError, KioskError
from appliance.values import Issuer
from ui.footer import KioskFooter
from ui.screens import KioskScreen, both
from ui.settings import save_setup

log = logging.getLogger(__name__)

# (field, secret?) in the order of the ministry's registration screen
FIELDS: tuple[tuple[str, bool], ...] = (
    ("terminal_id", False),
    ("password", True),
    ("place", False),
    ("name", False),
    ("issuer_id", False),
    ("person", False),
    ("postal_code", False),
    ("address", False),
    ("phone", False),
    ("email", False),
    ("email_again", False),
)


class TerminalRegistrar(Protocol):
    """Registers this terminal with the platform (form II credentials + contact details).

    To be served by the platform client (``sync.client.PlatformClient``) once it has the call;
    raises ``KioskError`` subclasses only (e.g. ``TerminalRejected`` for refused credentials).
    """

    def register_terminal(
        self, terminal_id: str, password: str, contact: ContactDetails, platform_url: str = ""
    ) -> None:
        """``platform_url``: the address typed at first boot; "" = the configured one."""


class NoPasteInput(Input):
    """The second e-mail must be typed: a pasted copy would repeat a typo, not catch it."""

    def _on_paste(self, event: Paste) -> None:
        event.prevent_default()
        event.stop()
        self.app.bell()


def all_problems(values: dict[str, str]) -> list[Problem]:
    """Credentials and contact form together: everything wrong, in one pass."""
    details = ContactDetails(**{k: v for k, v in values.items() if k in _CONTACT_FIELDS})
    found = credential_problems(values.get("terminal_id", ""), values.get("password", ""))
    found += contact_problems(details)
    issuer = unicodedata.normalize("NFKC", values.get("issuer_id", "")).strip()
    if issuer and not (len(issuer) == 6 and issuer.isascii() and issuer.isdigit()):
        found.append(Problem("issuer_id", "field.issuer_id.digits"))  # "" = platform's default
    if "platform_url" in values:  # first boot only: the wizard asks for the address too
        found = platform_url_problems(values["platform_url"]) + found
    return found


_CONTACT_FIELDS = frozenset(name for name, _ in FIELDS) - {"terminal_id", "password"}
RESTART_DELAY_S = 3.0  # long enough to read "registered" before the kiosk starts again


class SetupScreen(KioskScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.to_idle", "戻る / Back")]

    def __init__(self, terminal_id: str = "", *, platform_url: str | None = None) -> None:
        """``platform_url`` not None: first boot without a provisioning file, where the wizard
        also takes the platform's address (prefilled with the image's, if it has one) and saves
        it with the terminal ID for the next start (``setup_saves_to``)."""
        super().__init__()
        self._terminal_id = terminal_id
        self._platform_url = platform_url
        self._fields = FIELDS if platform_url is None else (("platform_url", False), *FIELDS)

    def compose(self) -> ComposeResult:
        prefilled = {"terminal_id": self._terminal_id, "platform_url": self._platform_url or ""}
        with VerticalScroll(id="main"):
            yield Static(self.say("setup.title"), id="title")
            for name, secret in self._fields:
                if name == "platform_url":
                    yield Static(self.say("setup.platform"), classes="section")
                elif name == "terminal_id":
                    yield Static(self.say("setup.credentials"), classes="section")
                elif name == "place":
                    yield Static(self.say("setup.contact"), classes="section")
                with Horizontal(classes="field"):
                    yield Static(self.say(f"field.{name}"), classes="label")
                    kind = NoPasteInput if name == "email_again" else Input
                    yield kind(
                        value=prefilled.get(name, ""),
                        password=secret,
                        id=f"in-{name}",
                    )
                    if name == "issuer_id":  # shown instead once the served issuers are known
                        yield Select([], prompt=self.say("field.issuer_id.pick").split("\n")[0],
                                     id="pick-issuer_id")  # fmt: skip
                yield Static("", id=f"err-{name}", classes="field-error")
            yield Static("", id="setup-state")
            yield Button(both("staff.setup"), id="register", variant="primary")
        yield KioskFooter()

    def on_mount(self) -> None:
        self.query_one("#pick-issuer_id", Select).display = False
        kiosk = self.app.kiosk  # type: ignore[attr-defined]
        # An enrolled kiosk can ask the platform which issuers it serves; on first boot it has no
        # credentials yet, so the technician types the 6-digit code (checked like the rest).
        if not getattr(kiosk, "needs_setup", False) and hasattr(kiosk, "platform"):
            self._load_issuers()

    @work(thread=True, exclusive=True, group="issuers")
    def _load_issuers(self) -> None:
        try:
            issuers = self.app.kiosk.platform.issuers()  # type: ignore[attr-defined]
        except Exception:  # unknown list: the typed, checked field stays
            return
        self.app.call_from_thread(self._got_issuers, issuers)

    def _got_issuers(self, issuers: list[Issuer]) -> None:
        if not self.is_attached or not issuers:
            return
        pick = self.query_one("#pick-issuer_id", Select)
        pick.set_options([(f"{i.name} ({i.issuer_id})", i.issuer_id) for i in issuers])
        typed = self.query_one("#in-issuer_id", Input)
        if typed.value in {i.issuer_id for i in issuers}:
            pick.value = typed.value
        typed.display, pick.display = False, True

    def values(self) -> dict[str, str]:
        found = {name: self.query_one(f"#in-{name}", Input).value for name, _ in self._fields}
        pick = self.query_one("#pick-issuer_id", Select)
        if pick.display:
            found["issuer_id"] = "" if pick.value is Select.NULL else str(pick.value)
        return found

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "register":
            self.submit()

    def submit(self) -> list[Problem]:
        """Check every field; show each problem under its field, or send the registration."""
        found = all_problems(self.values())
        by_field: dict[str, list[str]] = {}
        for problem in found:
            by_field.setdefault(problem.field, []).append(self.say(problem.key))
        for name, _ in self._fields:
            error = self.query_one(f"#err-{name}", Static)
            error.update("\n".join(by_field.get(name, [])))
            error.set_class(name in by_field, "-shown")
            self.query_one(f"#in-{name}", Input).set_class(name in by_field, "-invalid")
        state = self.query_one("#setup-state", Static)
        if found:
            state.update(self.say("setup.fix", count=len(by_field)))
            return found
        registrar = getattr(self.app.kiosk, "registrar", None)  # type: ignore[attr-defined]
        if registrar is None:
            state.update(self.say("setup.unavailable"))
            return found
        state.update(self.say("setup.sending"))
        values = self.values()
        details = ContactDetails(**{k: values[k] for k in _CONTACT_FIELDS}).normalised()
        tid = unicodedata.normalize("NFKC", values["terminal_id"]).strip()
        url = unicodedata.normalize("NFKC", values.get("platform_url", "")).strip()
        self._register(registrar, tid, values["password"], details, url)
        return found

    @work(thread=True, exclusive=True, group="platform")
    def _register(
        self,
        registrar: TerminalRegistrar,
        tid: str,
        password: str,
        details: ContactDetails,
        url: str,
    ) -> None:
        try:
            registrar.register_terminal(tid, password, details, platform_url=url)
        except KioskError as exc:
            self.app.call_from_thread(self._registered, exc.key)
            return
        key, saved = "setup.done", ""
        if self._platform_url is not None:  # first boot: save what the next start needs
            saves_to = self.app.kiosk.config.setup_saves_to  # type: ignore[attr-defined]
            try:
                saved = str(save_setup(saves_to, {"terminal_id": tid, "platform_url": url}))
            except (OSError, ConfigError) as exc:  # enrolled, but the next start would not know
                log.error("setup: settings not saved to %s: %s", saves_to, exc)
                key = "setup.save_failed"
        self.app.call_from_thread(self._registered, key, saved)

    def _registered(self, key: str, saved: str = "") -> None:
        if not self.is_attached:
            return
        app = self.app
        first_boot = key == "setup.done" and getattr(app.kiosk, "needs_setup", False)  # type: ignore[attr-defined]
        self.query_one("#setup-state", Static).update(
            self.say("setup.restart" if first_boot else key)
        )
        if key == "setup.done":
            self.query_one("#in-password", Input).value = ""
            app.kiosk.needs_setup = False  # type: ignore[attr-defined]
        if first_boot:  # the parts were built without credentials: build them again (main)
            app.restart = True  # type: ignore[attr-defined]
            app.settings_path = saved or None  # type: ignore[attr-defined]
            self.set_timer(RESTART_DELAY_S, app.exit)


class ReenrolmentScreen(KioskScreen):
    """The platform refuses this kiosk's identity (board replaced, password changed).

    Shown instead of a patron error: nothing a patron does can fix it, and it stays until a
    technician registers again (F2 -> Setup).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("f2", "app.staff", "係員 / Staff")]
    role = "reenrol"

    def compose(self) -> ComposeResult:
        with Vertical(id="main", classes="error"):
            yield Static(self.say("reenrol.title"), id="title")
            yield Static(self.say("reenrol.what"), classes="para")
            yield Static(self.say("reenrol.patron"), classes="para")
            yield Static(self.say("reenrol.technician"), classes="para")
        yield KioskFooter()

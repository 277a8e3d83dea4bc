"""The patron's screens: idle, progress, PIN, library choice, done and error. Japanese first.

Screens only display and collect; the app (``ui/app.py``) runs the flow in workers and switches
screens. Every text comes from the message catalogue by key. Every screen that waits for the
patron is a :class:`TimedScreen`: it shows a countdown and, at zero, sends the kiosk back to the
attract screen, which wipes what the patron left (``KioskApp.action_to_idle``).
"""

from __future__ import annotations

import math
from typing import ClassVar

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Grid, Horizontal, Vertical
from textual.events import Key
from textual.screen import Screen
from textual.widgets import Button, Input, ProgressBar, Static

from appliance.messages import CATALOGUE, Lang, Message, render
from ui.footer import KioskFooter

# What the language key cycles through: both (the unattended default), Japanese only, English only.
LANGUAGE_MODES: tuple[tuple[Lang, ...], ...] = ((Lang.JA, Lang.EN), (Lang.JA,), (Lang.EN,))


def _fill(text: str, params: dict[str, object]) -> str:
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def both(key: str) -> str:
    """A button label in both languages (buttons stay bilingual: they are how one switches)."""
    return f"{render(key, Lang.JA)} / {render(key, Lang.EN)}"


class KioskScreen(Screen[None]):
    """A screen that renders catalogue keys in the languages the patron chose.

    ``role`` tells the app what a screen is for without the app importing its class (the staff
    and technician screens load on first use); ``keep_on_lift``: a card lifted here ends nothing.
    """

    role: ClassVar[str] = ""
    keep_on_lift: ClassVar[bool] = False

    def say(self, key: str, **params: object) -> str:
        return self.say_message(CATALOGUE.get(key, CATALOGUE["error.unexpected"]), **params)

    def say_message(self, message: Message, **params: object) -> str:
        """A message (a catalogue entry, or a library's own text) in the chosen languages."""
        langs: tuple[Lang, ...] = getattr(self.app, "languages", LANGUAGE_MODES[0])
        first, *rest = (escape(_fill(message.ja if lang is Lang.JA else message.en, params))
                        for lang in langs)  # fmt: skip
        if getattr(self.app, "large_text", False):
            return "\n".join([first, *rest])  # no dimmed line for low vision
        return "\n".join([first, *(f"[dim]{line}[/dim]" for line in rest)])

    def on_mount(self) -> None:
        self.set_class(bool(getattr(self.app, "large_text", False)), "-large")

    def wipe(self) -> None:
        """Drop whatever of the patron's this screen holds (PIN digits, choices)."""


class TimedScreen(KioskScreen):
    """A patron screen with a visible countdown; patron activity starts it again."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout = max(1, math.ceil(timeout_s))
        self.remaining = self._timeout

    def countdown(self) -> Static:
        return Static(self._countdown_text(), id="countdown")

    def _countdown_text(self) -> str:
        return self.say("pin.countdown", seconds=self.remaining)

    def on_mount(self) -> None:
        # Textual calls each class's own on_mount along the MRO: subclasses must not call
        # super().on_mount(), or the screen gets a second ticker and counts down twice as fast.
        self._ticker = self.set_interval(1.0, self._tick)

    def hold(self) -> None:
        """Stop counting down (a snapshot must not depend on how fast the machine is)."""
        self._ticker.pause()
        self.touched()

    def _tick(self) -> None:
        self.remaining -= 1
        if self.remaining <= 0:
            self.app.action_to_idle()  # type: ignore[attr-defined]
            return
        self.query_one("#countdown", Static).update(self._countdown_text())

    def touched(self) -> None:
        self.remaining = self._timeout
        self.query_one("#countdown", Static).update(self._countdown_text())

    def on_key(self, event: Key) -> None:
        self.touched()


def options() -> Horizontal:
    """The display options every patron can reach: language, large text, high contrast."""
    return Horizontal(
        Button("日本語 / English", id="language"),
        Button(both("ui.large_text"), id="large-text"),
        Button(both("ui.contrast"), id="contrast"),
        id="options",
    )


class IdleScreen(KioskScreen):
    """The attract screen. In demo mode the footer shows which key taps which citizen's card;
    the status line under it says how the kiosk stands with the platform (``ui/poll.py``)."""

    role = "idle"

    def __init__(self, demo_hint: str = "", link_key: str = "") -> None:
        super().__init__()
        self._demo_hint = demo_hint
        self._link_key = link_key

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("idle.title"), id="title")
            yield Static(self.say("idle.hint"), id="hint")
            if self._demo_hint:
                yield Static(self._demo_hint, id="demo")
            yield options()
        yield Static(self.link_text(self._link_key), id="link")
        yield KioskFooter()

    def link_text(self, key: str) -> str:
        """One line, both languages side by side: a status line, not a message."""
        self._link_key = key
        if not key:
            return ""
        langs: tuple[Lang, ...] = getattr(self.app, "languages", LANGUAGE_MODES[0])
        return " / ".join(render(key, lang) for lang in langs)

    def show_link(self, key: str) -> None:
        link = self.query_one("#link", Static)
        link.update(self.link_text(key))
        link.set_class(key != "connectivity.online", "-offline")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        action = {"language": "language", "contrast": "contrast", "large-text": "large_text"}
        if event.button.id in action:
            await self.app.run_action(action[event.button.id])


# Steps of a patron's tap, and of a staff lookup (no label).
PATRON_STEPS = ("progress.reading", "progress.lookup", "progress.printing")
STAFF_STEPS = PATRON_STEPS[:2]
_STEP_TITLES = {"progress.reading": "reading", "progress.lookup": "lookup",
                "progress.printing": "printing",
                "progress.card_check": "register.checking",
                "progress.register": "register.sending"}  # fmt: skip


class ProgressScreen(KioskScreen):
    """Where the tap has got to: "step 2 of 3", a bar, and the steps done / now / to come."""

    def __init__(self, step: int, steps: tuple[str, ...] = PATRON_STEPS) -> None:
        super().__init__()
        self.step = step
        self._steps = steps

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say(_STEP_TITLES[self._steps[self.step - 1]]), id="title")
            yield Static(
                self.say("progress.step", step=self.step, total=len(self._steps)), id="hint"
            )
            with Center():
                yield ProgressBar(
                    total=2 * len(self._steps), show_eta=False, show_percentage=False, id="bar"
                )
            for number, key in enumerate(self._steps, start=1):
                mark = "✓" if number < self.step else "▶" if number == self.step else "・"
                yield Static(f"{mark} {self.say(key)}", classes="step")

    def on_mount(self) -> None:
        self.query_one("#bar", ProgressBar).update(progress=2 * self.step - 1)


KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok")


class PinScreen(TimedScreen):
    """Four masked digits, by keyboard or the touch keypad. Enter/OK sends the PIN once; Escape
    gives up. A visible countdown tells the patron when the screen (and the PIN) will be wiped.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.cancel", "やめる / Cancel")]

    def __init__(self, tries_left: int, timeout_s: float = 60.0) -> None:
        super().__init__(timeout_s)
        self._tries_left = tries_left

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("pin.prompt"), id="title")
            if self._tries_left == 1:
                yield Static(self.say("pin.last"), id="warning")
            elif self._tries_left < 3:
                yield Static(self.say("pin.tries", tries_left=self._tries_left), id="tries")
            with Center():
                yield Input(
                    password=True,
                    max_length=4,
                    restrict=r"[0-9]*",
                    placeholder="••••",
                    id="pin",
                )
            with Center():
                with Grid(id="keypad"):
                    for key in KEYPAD:
                        label = {"del": "←", "ok": "OK"}.get(key, key)
                        yield Button(label, id=f"key-{key}", classes="key")
            yield self.countdown()
        yield KioskFooter()

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.touched()

    def wipe(self) -> None:
        self.query_one("#pin", Input).value = ""

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        field = self.query_one("#pin", Input)
        key = (event.button.id or "").removeprefix("key-")
        if key == "del":
            field.value = field.value[:-1]
        elif key == "ok":
            await field.action_submit()
        elif key.isdigit() and len(field.value) < 4:
            field.value += key
        field.focus()


class ChoiceScreen(TimedScreen):
    """Which library? For a card linked at several issuers this kiosk serves. Shows only the
    libraries' names: the card numbers stay in the app until one is chosen and printed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.cancel", "やめる / Cancel")]

    def __init__(self, libraries: list[str], timeout_s: float = 60.0) -> None:
        super().__init__(timeout_s)
        self.libraries = list(libraries)

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("choice.title"), id="title")
            yield Static(self.say("choice.hint"), id="hint")
            for number, name in enumerate(self.libraries, start=1):
                with Center():
                    yield Button(f"{number}  {name}", id=f"library-{number}", classes="library")
            with Center():
                yield Button(both("ui.cancel"), id="cancel")
            yield self.countdown()
        yield KioskFooter()

    def on_mount(self) -> None:
        self.query_one("#library-1", Button).focus()

    def wipe(self) -> None:
        self.libraries.clear()

    def on_key(self, event: Key) -> None:
        if event.key.isdigit() and 1 <= int(event.key) <= len(self.libraries):
            event.stop()
            self.app.choose_library(int(event.key) - 1)  # type: ignore[attr-defined]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        name = event.button.id or ""
        if name.startswith("library-"):
            self.app.choose_library(int(name.removeprefix("library-")) - 1)  # type: ignore[attr-defined]
        else:
            self.app.action_cancel()  # type: ignore[attr-defined]


class ResultScreen(TimedScreen):
    """A result ("take your label") or an error: what happened and what to do, then idle."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "app.to_idle", "OK")]

    def __init__(
        self,
        key: str,
        detail: str = "",
        *,
        hint_key: str = "",
        error: bool = False,
        params: dict[str, object] | None = None,
        hint: Message | None = None,
        library: str = "",
        timeout_s: float = 8.0,
    ) -> None:
        super().__init__(timeout_s)
        self._library = library
        self._key = key
        self._detail = detail
        self._hint_key = hint_key
        self._hint = hint
        self._error = error
        self._params = params or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="main", classes="error" if self._error else "done"):
            yield Static(self.say(self._key, **self._params), id="title")
            if self._library:
                yield Static(self.say("done.library", library=self._library), id="library")
            if self._hint is not None:
                yield Static(self.say_message(self._hint), id="hint")
            elif self._hint_key:
                yield Static(self.say(self._hint_key, **self._params), id="hint")
            if self._detail:
                yield Static(self._detail, id="detail")
            yield self.countdown()
        yield KioskFooter()

    def wipe(self) -> None:
        self._detail = self._library = ""
        self._hint = None
        self._params = {}

"""The patron's screens: idle, busy, PIN, done and error. Each shows Japanese first, then English.

Screens only display and collect; the app (``ui/app.py``) runs the flow in workers and switches
screens. Every text comes from the message catalogue by key.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, LoadingIndicator, Static

from appliance.messages import Lang, render

# What the language key cycles through: both (the unattended default), Japanese only, English only.
LANGUAGE_MODES: tuple[tuple[Lang, ...], ...] = ((Lang.JA, Lang.EN), (Lang.JA,), (Lang.EN,))


class KioskScreen(Screen[None]):
    """A screen that renders catalogue keys in the languages the patron chose."""

    def say(self, key: str, **params: object) -> str:
        langs: tuple[Lang, ...] = getattr(self.app, "languages", LANGUAGE_MODES[0])
        first, *rest = (render(key, lang, **params) for lang in langs)
        return "\n".join([first, *(f"[dim]{line}[/dim]" for line in rest)])


class IdleScreen(KioskScreen):
    """The attract screen. In demo mode the footer shows which key taps which citizen's card."""

    def __init__(self, demo_hint: str = "") -> None:
        super().__init__()
        self._demo_hint = demo_hint

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say("idle.title"), id="title")
            yield Static(self.say("idle.hint"), id="hint")
            if self._demo_hint:
                yield Static(self._demo_hint, id="demo")
            with Horizontal(id="options"):
                yield Button("日本語 / English", id="language")
                contrast = f"{render('ui.contrast', Lang.JA)} / {render('ui.contrast', Lang.EN)}"
                yield Button(contrast, id="contrast")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "language":
            self.app.action_language()  # type: ignore[attr-defined]
        elif event.button.id == "contrast":
            self.app.action_contrast()  # type: ignore[attr-defined]


class BusyScreen(KioskScreen):
    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(self.say(self._key), id="title")
            yield LoadingIndicator()


KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "del", "0", "ok")


class PinScreen(KioskScreen):
    """Four masked digits, by keyboard or the touch keypad. Enter/OK sends the PIN once; Escape
    gives up. A visible countdown tells the patron when the screen (and the PIN) will be wiped.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.cancel", "やめる / Cancel")]

    def __init__(self, tries_left: int, timeout_s: float = 60.0) -> None:
        super().__init__()
        self._tries_left = tries_left
        self._remaining = int(timeout_s)

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
            yield Static(self._countdown_text(), id="countdown")
        yield Footer()

    def _countdown_text(self) -> str:
        return self.say("pin.countdown", seconds=self._remaining)

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self._remaining = max(0, self._remaining - 1)
        self.query_one("#countdown", Static).update(self._countdown_text())

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


class ResultScreen(KioskScreen):
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
    ) -> None:
        super().__init__()
        self._key = key
        self._detail = detail
        self._hint_key = hint_key
        self._error = error
        self._params = params or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="main", classes="error" if self._error else "done"):
            yield Static(self.say(self._key, **self._params), id="title")
            if self._hint_key:
                yield Static(self.say(self._hint_key), id="hint")
            if self._detail:
                yield Static(self._detail, id="detail")
            yield Static(self.say("back_to_idle"), id="back")
        yield Footer()

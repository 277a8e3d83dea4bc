"""The patron's screens: idle, busy, PIN, done and error. Each shows Japanese first, then English.

Screens only display and collect; the app (``ui/app.py``) runs the flow in workers and switches
screens. Every text comes from the message catalogue by key.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, LoadingIndicator, Static

from appliance.messages import Lang, render


def _both(key: str, **params: object) -> str:
    return f"{render(key, Lang.JA, **params)}\n[dim]{render(key, Lang.EN, **params)}[/dim]"


class IdleScreen(Screen[None]):
    """The attract screen. In demo mode the footer shows which key taps which citizen's card."""

    def __init__(self, demo_hint: str = "") -> None:
        super().__init__()
        self._demo_hint = demo_hint

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(_both("idle.title"), id="title")
            yield Static(_both("idle.hint"), id="hint")
            if self._demo_hint:
                yield Static(self._demo_hint, id="demo")
        yield Footer()


class BusyScreen(Screen[None]):
    def __init__(self, key: str) -> None:
        super().__init__()
        self._key = key

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(_both(self._key), id="title")
            yield LoadingIndicator()


class PinScreen(Screen[None]):
    """Four masked digits. Enter sends the PIN once; Escape gives up and wipes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.cancel", "やめる / Cancel")]

    def __init__(self, tries_left: int) -> None:
        super().__init__()
        self._tries_left = tries_left

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static(_both("pin.prompt"), id="title")
            if self._tries_left == 1:
                yield Static(_both("pin.last"), id="warning")
            elif self._tries_left < 3:
                yield Static(_both("pin.tries", tries_left=self._tries_left), id="tries")
            with Center():
                yield Input(
                    password=True,
                    max_length=4,
                    restrict=r"[0-9]*",
                    placeholder="••••",
                    id="pin",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pin", Input).focus()


class ResultScreen(Screen[None]):
    """ "Take your label" or an error: what happened and what to do, then back to idle."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "app.to_idle", "OK")]

    def __init__(
        self, key: str, detail: str = "", *, error: bool = False, **params: object
    ) -> None:
        super().__init__()
        self._key = key
        self._detail = detail
        self._error = error
        self._params = params

    def compose(self) -> ComposeResult:
        with Vertical(id="main", classes="error" if self._error else "done"):
            yield Static(_both(self._key, **self._params), id="title")
            if self._detail:
                yield Static(self._detail, id="detail")
            yield Static(_both("back_to_idle"), id="back")
        yield Footer()

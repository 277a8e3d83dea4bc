"""The Textual kiosk app: the patron's tap → PIN → label flow on screen.

Card, platform and printer work runs in thread workers (STYLE.md 9) and reports back with
``call_from_thread``; the UI loop never blocks on a device. The app receives its parts as a
constructor argument (the wiring, or fakes in tests).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input

from appliance.errors import ConfigError, KioskError
from appliance.flow import PendingTap, TapOutcome
from appliance.messages import bilingual
from appliance.values import Pin
from ui.screens import (
    LANGUAGE_MODES,
    BusyScreen,
    IdleScreen,
    KioskScreen,
    PinScreen,
    ResultScreen,
)
from ui.sdnotify import notify, ping_interval
from ui.staff import StaffPinScreen
from ui.themes import HIGH_CONTRAST

if TYPE_CHECKING:
    from ui.wiring import Kiosk

log = logging.getLogger(__name__)

DEMO_KEYS = ("1", "2", "3", "4")


class KioskApp(App[None]):
    CSS_PATH = "kiosk.tcss"
    TITLE = "MyKey Library Kiosk"
    ENABLE_COMMAND_PALETTE = False  # patrons must not reach app commands

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f3", "language", "日本語 / English"),
        Binding("f4", "contrast", "見やすい表示 / High contrast"),
        Binding("f2", "staff", "係員 / Staff"),
    ]

    def __init__(self, kiosk: Kiosk) -> None:
        super().__init__()
        self.kiosk = kiosk
        self.languages = LANGUAGE_MODES[0]
        self.register_theme(HIGH_CONTRAST)
        self._pending: PendingTap | None = None
        self._timer: Timer | None = None
        self.last_outcome: TapOutcome | None = None

    # -- screens -------------------------------------------------------------------------------

    def _demo_hint(self) -> str:
        if self.kiosk.demo is None:
            return ""
        return (
            "デモ: 1〜4 キーで市民 1〜4 のカードをかざします / "
            "Demo: press 1-4 to tap demo citizen 1-4's card\n"
            f"ラベルの保存先 / Labels are written to: {self.kiosk.labels_dir}"
        )

    def on_mount(self) -> None:
        self.push_screen(IdleScreen(self._demo_hint()))
        # image (issue 7): kiosk.service is Type=notify with WatchdogSec; no-ops outside systemd
        notify("READY=1")
        self.set_interval(ping_interval(), lambda: notify("WATCHDOG=1"))

    def _show(self, screen: KioskScreen) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.switch_screen(screen)

    def _later(self, seconds: float) -> None:
        self._timer = self.set_timer(seconds, self.action_to_idle)

    def action_to_idle(self) -> None:
        """Back to the attract screen, wiping whatever the patron left behind."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.wipe()
        self.last_outcome = None
        if self.kiosk.demo is not None:
            self.kiosk.demo.remove()
        self._show(IdleScreen(self._demo_hint()))

    def action_cancel(self) -> None:
        self.action_to_idle()

    def action_staff(self) -> None:
        """Staff and technicians: only from the idle screen, never over a patron's session."""
        if isinstance(self.screen, IdleScreen):
            self._show(StaffPinScreen(self.kiosk.config.staff_pin))

    def action_language(self) -> None:
        """Both languages → Japanese only → English only → both; redraws the current screen."""
        index = LANGUAGE_MODES.index(self.languages)
        self.languages = LANGUAGE_MODES[(index + 1) % len(LANGUAGE_MODES)]
        self.screen.refresh(recompose=True)

    def action_contrast(self) -> None:
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    # -- patron flow ---------------------------------------------------------------------------

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key in DEMO_KEYS and isinstance(self.screen, IdleScreen) and self.kiosk.demo:
            self.tap_demo(int(key))

    def tap_demo(self, citizen: int) -> None:
        if self.kiosk.demo is None:
            return
        self.kiosk.demo.tap(citizen)
        self._show(BusyScreen("reading"))
        self._begin()

    @work(thread=True, exclusive=True, group="card")
    def _begin(self) -> None:
        try:
            pending = self.kiosk.flow.begin(self.kiosk.config.card_timeout_s)
        except KioskError as exc:
            log.info("card read failed: %s", exc)
            self.call_from_thread(self._show_error, exc)
            return
        except Exception:
            log.exception("unexpected failure while reading the card")
            self.call_from_thread(self._show_error, KioskError())
            return
        self.call_from_thread(self._ask_pin, pending)

    def _ask_pin(self, pending: PendingTap) -> None:
        self._pending = pending
        if not pending.pin_required:
            self._show(BusyScreen("lookup"))
            self._finish(None)
            return
        self._show(PinScreen(pending.tries_left, self.kiosk.config.idle_timeout_s))
        self._later(self.kiosk.config.idle_timeout_s)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "pin" or not isinstance(self.screen, PinScreen):
            return
        digits = event.value
        event.input.value = ""
        try:
            pin = Pin(digits)
        except ValueError:
            self.bell()
            return
        self._show(BusyScreen("lookup"))
        self._finish(pin)

    @work(thread=True, exclusive=True, group="card")
    def _finish(self, pin: Pin | None) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            outcome = self.kiosk.flow.finish(pending, pin)
        except KioskError as exc:
            log.info("tap failed: %s", exc)
            self.call_from_thread(self._show_error, exc)
            return
        except Exception:
            log.exception("unexpected failure during lookup/print")
            self.call_from_thread(self._show_error, KioskError())
            return
        self.call_from_thread(self._show_done, outcome)

    def _show_done(self, outcome: TapOutcome) -> None:
        self.last_outcome = outcome
        where = ""
        if self.kiosk.demo is not None and outcome.printed.artifacts:
            where = "\n".join(outcome.printed.artifacts)
        self._show(ResultScreen("done.title", where, hint_key="done.hint"))
        self._later(self.kiosk.config.result_screen_s)

    def _show_error(self, exc: KioskError) -> None:
        self._show(ResultScreen(exc.key, error=True, params=exc.params))
        self._later(self.kiosk.config.result_screen_s)


def main() -> int:
    from ui.settings import read_settings
    from ui.wiring import build_kiosk

    try:
        kiosk = build_kiosk(read_settings())
    except ConfigError as exc:
        print(bilingual(exc.key), file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except KioskError as exc:
        print(bilingual(exc.key), file=sys.stderr)
        print(f"({exc})", file=sys.stderr)
        return 3
    try:
        KioskApp(kiosk).run()
    finally:
        kiosk.close()
    print(f"labels: {kiosk.labels_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

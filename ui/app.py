"""The Textual kiosk app: the patron's tap → PIN → (library choice) → label flow on screen, and the
staff lookup that hands a number over by the issuer's method (A-D).

Card, platform and printer work runs in thread workers (STYLE.md 9) and reports back with
``call_from_thread``; the UI loop never blocks on a device. The app receives its parts as a
constructor argument (the wiring, or fakes in tests).

What a patron leaves behind (the open card session and challenge, the PIN field, the looked-up
numbers, the printed outcome) lives in exactly four places: ``_pending``, the current screen,
``_matches`` and ``last_outcome``. :meth:`KioskApp.action_to_idle` empties all four; it runs on
every countdown's end, on card removal, on Cancel and after every result. Each patron action gets
a session number, so a worker that finishes after its patron has gone is ignored, not shown to
the next one.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message as TextualMessage
from textual.widgets import Input

from appliance.errors import CardRemoved, ConfigError, KioskError, PrinterError, TerminalRejected
from appliance.messages import CATALOGUE, Message, bilingual
from ui.lastlabel import LastLabel
from ui.poll import Poller
from ui.register_flow import ServiceIdSteps
from ui.screens import (
    LANGUAGE_MODES,
    PATRON_STEPS,
    STAFF_STEPS,
    ChoiceScreen,
    IdleScreen,
    KioskScreen,
    PinScreen,
    ProgressScreen,
    ResultScreen,
)
from ui.sdnotify import notify, ping_interval
from ui.themes import HIGH_CONTRAST

# Only what the attract screen needs is imported up front (the first frame comes sooner, see
# bench/ui.py); the flow, the staff and technician screens are imported where first used, and
# the app asks a screen its ``role`` instead of importing its class for an isinstance check.
if TYPE_CHECKING:
    from appliance.flow import PendingTap, TapFlow, TapOutcome
    from appliance.offline import OfflineTapFlow, ProvisionalOutcome
    from appliance.values import LookupMatch, Pin
    from ui.offline_wiring import OfflineKit
    from ui.wiring import Kiosk

log = logging.getLogger(__name__)

DEMO_KEYS = ("1", "2", "3", "4")
ATTRACT = ("idle", "reenrol")  # screens nobody is using: staff may start; a lifted card is moot
CARD_WAIT = ("idle", "lookup-wait", "service-wait")  # screens where a card tap starts something


class CardPresence(TextualMessage):
    """pcscd saw a card arrive on (or leave) the reader; posted from the monitor's thread."""

    def __init__(self, present: bool) -> None:
        super().__init__()
        self.present = present


class KioskApp(ServiceIdSteps, Poller, App[None]):
    CSS_PATH = "kiosk.tcss"
    TITLE = "MyKey Library Kiosk"
    ENABLE_COMMAND_PALETTE = False  # patrons must not reach app commands

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f3", "language", "日本語 / English"),
        Binding("f4", "contrast", "見やすい表示 / High contrast"),
        Binding("f5", "large_text", "大きな文字 / Large text"),
        Binding("f2", "staff", "係員 / Staff"),
    ]

    def __init__(
        self, kiosk: Kiosk, offline: OfflineKit | None = None, *, reenrol: bool = False
    ) -> None:
        super().__init__()
        self.kiosk = kiosk
        self.offline = offline  # bookmobile parts (ui/offline.py); None = not configured
        self.offline_mode = False  # staff switch: provisional labels, no platform call
        self._flow: TapFlow | OfflineTapFlow | None = None  # the flow of the tap under way
        self.languages = LANGUAGE_MODES[0]
        self.large_text = False
        self.reenrol = reenrol  # the platform refused this kiosk: stay on the re-enrolment screen
        self.register_theme(HIGH_CONTRAST)
        self._pending: PendingTap | None = None
        self._matches: list[LookupMatch] | None = None
        self._staff = False  # the current card tap is a staff lookup (no label unless asked)
        self.service = None  # a staff service-ID registration under way (ui/register_flow.py)
        self.last_label = LastLabel()  # staff's reprint within their session (ui/lastlabel.py)
        self.held: set[str] = set()  # label jobs held by the printer: said when they print
        self.held_screen: ResultScreen | None = None  # the patron's "label kept" screen
        self.link_key = ""  # the status line's message key (ui/poll.py)
        self.restart = False  # the first-boot wizard enrolled the kiosk: main() builds it again
        self.settings_path: str | None = None  # where the first-boot wizard saved the settings
        self._session = 0
        self.last_outcome: TapOutcome | ProvisionalOutcome | None = None
        # pcsc/vpcd readers only; getattr: tests may hand in a bare namespace for a kiosk
        self._presence = getattr(kiosk, "presence", None)
        self._presence_known = False

    # -- screens -------------------------------------------------------------------------------

    def _demo_hint(self) -> str:
        if self.offline_mode and self.offline is not None:
            from ui.offline import banner_text

            demo = self._demo_only_hint()
            return banner_text(self.offline) + (f"\n{demo}" if demo else "")
        return self._demo_only_hint()

    def _demo_only_hint(self) -> str:
        if self.kiosk.demo is None:
            return ""
        return (
            "デモ: 1〜4 キーで市民 1〜4 のカードをかざします / "
            "Demo: press 1-4 to tap demo citizen 1-4's card\n"
            f"ラベルの保存先 / Labels are written to: {self.kiosk.labels_dir}"
        )

    def _home(self) -> KioskScreen:
        if getattr(self.kiosk, "needs_setup", False):  # first boot: no identity yet
            from ui.setup import SetupScreen

            config = self.kiosk.config
            if config.setup_saves_to:  # the image without a provisioning file
                log.info("first boot: setup wizard (saves to %s)", config.setup_saves_to)
                return SetupScreen("", platform_url=config.platform_url)
            log.info("first boot: setup wizard")
            return SetupScreen(config.terminal_id)
        if self.reenrol:
            from ui.setup import ReenrolmentScreen

            return ReenrolmentScreen()
        return IdleScreen(self._demo_hint(), self.link_key)

    def _role(self) -> str:
        return getattr(self.screen, "role", "")

    def get_default_screen(self) -> KioskScreen:
        """The home screen is the bottom of the stack, not pushed over Textual's blank one:
        one screen fewer to lay out and draw before the first frame (bench/ui.py).

        ``switch_screen`` drops the result callback of the screen it replaces, which
        ``push_screen`` adds and Textual's default screen never gets: give it the one a push
        would, or the first switch away from home fails with an empty screen stack.
        """
        home = self._home()
        home._push_result_callback(self, None)
        return home

    def on_mount(self) -> None:
        if self._presence is not None:
            self._presence.start(self._post_presence)
        # image (issue 7): kiosk.service is Type=notify with WatchdogSec; no-ops outside systemd
        notify("READY=1")
        self.set_interval(ping_interval(), lambda: notify("WATCHDOG=1"))
        if not self.is_headless and sys.stdin.isatty():
            self.set_interval(1.0, self._check_terminal)
        self.start_polling()

    def _check_terminal(self) -> None:
        """Exit when the terminal is gone (a hung-up tty answers EIO).

        Textual's input thread spins on a hung-up terminal instead of ending the app; that
        happens when the hang-up signal reaches a parent (``make run`` in a closed window) and
        not the app. On the box systemd restarts a kiosk that exits; a spinning one it cannot see.
        """
        try:
            os.tcgetpgrp(sys.stdin.fileno())
        except OSError:
            log.warning("terminal hung up: exiting")
            self.exit()

    def _post_presence(self, present: bool) -> None:
        """On the monitor's thread: ``post_message`` is thread-safe and never blocks."""
        self.post_message(CardPresence(present))

    def on_unmount(self) -> None:
        if self._presence is not None:
            self._presence.stop()

    def on_card_presence(self, message: CardPresence) -> None:
        """A card laid on the reader starts the flow; one lifted before the label is done ends it.

        The first report is only the reader's state at start-up: a card found lying there (or
        one pcscd has not yet noticed is gone) is not a tap, so it starts nothing. A card lifted
        once the label is printing or printed is what a patron does: the screen stays.
        """
        first, self._presence_known = not self._presence_known, True
        if first:
            return
        if message.present:
            self.card_inserted()
        elif isinstance(self.screen, PinScreen) and self._pending is not None:
            pending, self._pending = self._pending, None
            pending.wipe()
            self._show_error(CardRemoved("card lifted during PIN entry"))
        elif not (
            isinstance(self.screen, ResultScreen | ProgressScreen)
            or getattr(self.screen, "keep_on_lift", False)  # a registration past its tap
        ):
            self.card_removed()

    def _show(self, screen: KioskScreen) -> None:
        self.switch_screen(screen)

    def action_to_idle(self) -> None:
        """Back to the attract screen, wiping whatever the patron left behind.

        The staff session ends here too, and with it the last label staff printed in it
        (their "reprint"): nothing a patron brought outlives the idle screen.
        """
        self._wipe_session()
        self.last_label.wipe()
        self._staff = False
        self._show(self._home())

    def action_staff_menu(self) -> None:
        """Staff finished one task (a lookup): back to their menu, the patron's part wiped.

        Outside a staff session this is the idle screen, so a patron can never reach the menu.
        """
        if not self._staff:
            self.action_to_idle()
            return
        self._wipe_session()
        from ui.staff import StaffMenuScreen

        self._show(StaffMenuScreen())

    def _wipe_session(self) -> None:
        """Empty what the current tap left: card session, challenge, matches, outcome, screen."""
        self._session += 1
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.wipe()
        if self._matches is not None:
            self._matches.clear()
        self._matches = None
        self.last_outcome = None
        self._flow = None
        service, self.service = self.service, None
        if service is not None:
            service.wipe()
        if isinstance(self.screen, KioskScreen):
            self.screen.wipe()
        if self.kiosk.demo is not None:
            self.kiosk.demo.remove()

    def action_cancel(self) -> None:
        self.action_to_idle()

    def card_removed(self) -> None:
        """The card left the reader (the presence monitor calls this on the UI loop).

        Whatever the patron was doing is over: wipe now rather than at the countdown's end.
        """
        if self._role() not in ATTRACT:
            self.action_to_idle()

    def action_staff(self) -> None:
        """Staff and technicians: only from the idle screen, never over a patron's session."""
        if self._role() in ATTRACT:
            from ui.staff import StaffPinScreen

            self._show(StaffPinScreen(self.kiosk.config.staff_pin))

    def action_language(self) -> None:
        """Both languages → Japanese only → English only → both; redraws the current screen."""
        index = LANGUAGE_MODES.index(self.languages)
        self.languages = LANGUAGE_MODES[(index + 1) % len(LANGUAGE_MODES)]
        self.screen.refresh(recompose=True)

    def action_contrast(self) -> None:
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_large_text(self) -> None:
        """Bigger touch targets, more space, no dimmed lines, bold text (see kiosk.tcss)."""
        self.large_text = not self.large_text
        self.screen.set_class(self.large_text, "-large")
        self.screen.refresh(recompose=True)

    # -- starting a tap --------------------------------------------------------------------------

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", "")
        if key in DEMO_KEYS and self._role() in CARD_WAIT and self.kiosk.demo:
            self.tap_demo(int(key))

    def tap_demo(self, citizen: int) -> None:
        if self.kiosk.demo is None:
            return
        self.kiosk.demo.tap(citizen)
        self.card_inserted()

    def card_inserted(self) -> None:
        """A card arrived (demo key, or the presence monitor): read it, unless busy."""
        role = self._role()
        if role == "service-wait":
            self.service_card()
            return
        if role not in ("idle", "lookup-wait"):
            return
        self._staff = role == "lookup-wait"
        self._show(ProgressScreen(1, self._steps()))
        self._begin(self._session)

    def start_staff_lookup(self) -> None:
        from ui.lookup import LookupWaitScreen

        self._staff = True
        self._show(LookupWaitScreen(self._demo_hint(), self.kiosk.config.idle_timeout_s))

    def _steps(self) -> tuple[str, ...]:
        return STAFF_STEPS if self._staff else PATRON_STEPS

    def _reply(self, session: int, callback: Callable[..., None], *args: Any) -> None:
        """From a worker: run ``callback`` on the UI loop, unless its patron has gone."""

        def deliver() -> None:
            if session == self._session:
                callback(*args)
            else:
                log.info("dropping a late result of a finished session")
                from appliance.flow import PendingTap

                for arg in args:
                    if isinstance(arg, PendingTap):
                        arg.wipe()
                    elif isinstance(arg, list):
                        arg.clear()  # a late lookup result

        self.call_from_thread(deliver)

    def _fail(self, session: int, what: str, exc: BaseException) -> None:
        if isinstance(exc, KioskError):
            log.info("%s failed: %s", what, exc)
            self._reply(session, self._show_error, exc)
        else:
            log.exception("unexpected failure: %s", what)
            self._reply(session, self._show_error, KioskError())

    # -- the flow, one worker per step ------------------------------------------------------------

    @work(thread=True, exclusive=True, group="card")
    def _begin(self, session: int) -> None:
        # a bookmobile patron's tap in offline mode; staff lookups always ask the platform
        offline = self.offline if self.offline_mode and not self._staff else None
        flow = self._flow = offline.flow() if offline is not None else self.kiosk.flow
        try:
            pending = flow.begin(self.kiosk.config.card_timeout_s)
        except Exception as exc:
            self._fail(session, "card read", exc)
            return
        self._reply(session, self._ask_pin, pending)

    def _ask_pin(self, pending: PendingTap) -> None:
        if not pending.pin_required:
            self._show(ProgressScreen(2, self._steps()))
            self._lookup(self._session, pending, None)
            return
        self._pending = pending
        self._show(PinScreen(pending.tries_left, self.kiosk.config.idle_timeout_s))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "pin" or not isinstance(self.screen, PinScreen):
            return
        from appliance.values import Pin

        digits = event.value
        event.input.value = ""
        try:
            pin = Pin(digits)
        except ValueError:
            self.bell()
            return
        pending, self._pending = self._pending, None
        if pending is None:
            return
        if self.service is not None:  # the patron's consent to a staff registration
            self.service_prove(pending, pin)
            return
        self._show(ProgressScreen(2, self._steps()))
        self._lookup(self._session, pending, pin)

    @work(thread=True, exclusive=True, group="card")
    def _lookup(self, session: int, pending: PendingTap, pin: Pin | None) -> None:
        from appliance.offline import OfflineTapFlow

        flow = self._flow or self.kiosk.flow
        try:
            if isinstance(flow, OfflineTapFlow):  # no platform: a provisional label at once
                self._reply(session, self._show_done, flow.finish(pending, pin))
                return
            matches = flow.lookup(pending, pin)
        except Exception as exc:
            self._fail(session, "lookup", exc)
            return
        self._reply(session, self._got_matches, matches)

    def _got_matches(self, matches: list[LookupMatch]) -> None:
        self._matches = list(matches)
        if self._staff:
            from ui.lookup import StaffLookupScreen, method_for

            spec = getattr(self.kiosk.config, "handover", "")
            methods = [method_for(match, spec) for match in matches]
            timeout = self.kiosk.config.idle_timeout_s
            self._show(StaffLookupScreen(self._matches, methods, timeout))
        elif len(matches) > 1:
            names = [match.number.issuer.name for match in matches]
            self._show(ChoiceScreen(names, self.kiosk.config.idle_timeout_s))
        else:
            self.choose_library(0)

    def choose_library(self, index: int) -> None:
        """The patron picked a library (or there was one): print its label, forget the others."""
        if self._staff or not self._matches or not 0 <= index < len(self._matches):
            return
        match = self._matches[index]
        self._matches.clear()
        self._matches = None
        self._show(ProgressScreen(3))
        self._print_label(self._session, match)

    @work(thread=True, exclusive=True, group="printer")
    def _print_label(self, session: int, match: LookupMatch) -> None:
        before = self.waiting_ids()
        try:
            outcome = self.kiosk.flow.print_match(match)
        except Exception as exc:
            if isinstance(exc, PrinterError) and not exc.maybe_printed:
                held = self.waiting_ids() - before  # kept by the spool: prints on resume
                self.call_from_thread(lambda: self.held.update(held))
            self._fail(session, "print", exc)
            return
        self._reply(session, self._show_done, outcome)

    def _show_done(self, outcome: TapOutcome | ProvisionalOutcome) -> None:
        from appliance.offline import ProvisionalOutcome

        self.last_outcome = outcome
        where = ""
        if self.kiosk.demo is not None and outcome.printed.artifacts:
            where = "\n".join(outcome.printed.artifacts)
        instructions: Message | None
        if isinstance(outcome, ProvisionalOutcome):
            issuer = outcome.job.number.issuer
            instructions = CATALOGUE["offline.done.hint"]
        else:
            issuer = outcome.match.number.issuer
            instructions = getattr(self.kiosk, "instructions", {}).get(issuer.issuer_id)
        self._show(
            ResultScreen(
                "done.title",
                where,
                hint=instructions or CATALOGUE["done.hint"],
                library=issuer.name,
                timeout_s=self.kiosk.config.result_screen_s,
            )
        )

    def _show_error(self, exc: KioskError) -> None:
        if isinstance(exc, TerminalRejected):
            self.reenrol = True
            self.action_to_idle()
            return
        timeout = self.kiosk.config.result_screen_s
        self.bell()  # a short cue where the box has a speaker; the screen says it all anyway
        screen = ResultScreen(exc.key, error=True, params=exc.params, timeout_s=timeout)
        if isinstance(exc, PrinterError) and self.held:
            self.held_screen = screen  # says "printed" there if the printer comes back in time
        self._show(screen)


class ReenrolmentApp(App[None]):
    """What the box shows when it cannot even be put together because the platform refuses it."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False

    def on_mount(self) -> None:
        from ui.setup import ReenrolmentScreen

        self.push_screen(ReenrolmentScreen())


def main(config_path: str | None = None) -> int:
    """``config_path``: the settings file; None = ``KIOSK_CONFIG`` (or none)."""
    from sync.devicesecret import adopt_inherited_secret
    from ui.settings import read_library_texts, read_settings
    from ui.wiring import build_kiosk

    try:
        adopt_inherited_secret()  # the image's root-only secret, passed on a descriptor
        config = read_settings(config_path)
        kiosk = build_kiosk(config)
    except ConfigError as exc:
        print(bilingual(exc.key), file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    except TerminalRejected as exc:
        log.warning("terminal refused at start-up: %s", exc)
        ReenrolmentApp().run()
        return 4
    except KioskError as exc:
        print(bilingual(exc.key), file=sys.stderr)
        print(f"({exc})", file=sys.stderr)
        return 3
    kiosk.instructions.update(read_library_texts(config_path))
    offline = None
    try:
        if kiosk.config.offline_token_low:  # a bookmobile kiosk (issue 9)
            from ui.offline_wiring import build_offline

            offline = build_offline(kiosk)
        app = KioskApp(kiosk, offline)
        app.run()
    finally:
        if offline is not None:
            offline.close()
        kiosk.close()
    if app.restart:  # first boot: enrolled now, so start with the stored credentials
        log.info("setup done: starting again with the enrolled terminal")
        return main(app.settings_path or config_path)  # the wizard's saved settings, if any
    print(f"labels: {kiosk.labels_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

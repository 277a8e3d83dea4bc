"""SVG snapshots of every screen, committed and compared (``make snapshots`` updates them).

A change to what a patron, staff member or technician sees must show up in review as a changed
snapshot. Every screen is drawn in the default mode, which shows Japanese and English together;
the main ones also Japanese-only and English-only, in high contrast and in large text. The
screens are rendered by the real app with a kiosk that has no devices; all the screens of one
mode share one app run (countdowns held), which keeps this file fast.

The diagnostics screen is left out: it shows this machine's own disk and clock.
"""

from __future__ import annotations

import asyncio
import functools
import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.screen import Screen
from textual.widgets import Input

from appliance.checkdigits import compute
from appliance.config import load_config
from appliance.messages import Message
from appliance.spool import LabelSpool, MemoryJobs
from appliance.values import CardNumber, Handover, LabelJob
from drivers.handoff.memory import MemoryHandoff
from server.demo import demo_card_number
from tests.ui.fakes import KAWASAKI, NUMBERS, SHIBUYA, YOKOHAMA, ZUSHI, FixedClock, match
from ui.app import KioskApp
from ui.jobs_screen import LabelJobsScreen, ReprintLastScreen
from ui.lookup import LookupWaitScreen, StaffLookupScreen
from ui.register import (
    REGISTER,
    UNREGISTER,
    ServiceIdConfirmScreen,
    ServiceIdFormScreen,
    ServiceIdSession,
    ServiceIdWaitScreen,
)
from ui.screens import (
    LANGUAGE_MODES,
    STAFF_STEPS,
    ChoiceScreen,
    IdleScreen,
    PinScreen,
    ProgressScreen,
    ResultScreen,
    TimedScreen,
)
from ui.setup import ReenrolmentScreen, SetupScreen
from ui.staff import StaffMenuScreen, StaffPinScreen

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
LIBRARY_TEXT = Message(
    "2階の自動貸出機でラベルと本を読ませてください。", "Scan the label and your books upstairs."
)


def _lookup(revealed: bool = False) -> StaffLookupScreen:
    matches = [
        match(KAWASAKI, Handover.SCREEN),
        match(YOKOHAMA, Handover.SCREEN_BARCODE),
        match(SHIBUYA, Handover.AUTO_INPUT),
        match(ZUSHI, Handover.LABEL, card_valid=False),
    ]
    screen = StaffLookupScreen(matches, [m.number.issuer.handover for m in matches])
    if revealed:
        screen.revealed.add(0)
    return screen


def _error(key: str, **params: object) -> Callable[[], Screen[None]]:
    return lambda: ResultScreen(key, error=True, params=params)


def _setup_with_problems(platform_url: str | None = None) -> SetupScreen:
    screen = SetupScreen("0005245", platform_url=platform_url)
    screen.call_after_refresh(screen.submit)
    return screen


IMAGE_PLACEHOLDER = "https://mykey-platform.invalid/"  # the image's first-boot address


TYPED = "180000001" + compute("180000001", "mod10w21")  # what staff typed on the confirm screen


def _service(mode: str = REGISTER, typed: str = "", number: bool = False) -> ServiceIdSession:
    session = ServiceIdSession(mode, [KAWASAKI, YOKOHAMA], KAWASAKI, typed)
    if number:
        session.number = CardNumber(KAWASAKI, TYPED)
    return session


def _form_with_problems() -> ServiceIdFormScreen:
    screen = ServiceIdFormScreen(_service(typed="18000000A"))
    screen.call_after_refresh(screen.check)
    return screen


SCREENS: dict[str, Callable[[], Screen[None]]] = {
    "idle": lambda: IdleScreen(""),
    "progress-reading": lambda: ProgressScreen(1),
    "progress-lookup": lambda: ProgressScreen(2),
    "progress-printing": lambda: ProgressScreen(3),
    "progress-staff": lambda: ProgressScreen(2, STAFF_STEPS),
    "pin": lambda: PinScreen(3, 60),
    "pin-two-left": lambda: PinScreen(2, 60),
    "pin-last-try": lambda: PinScreen(1, 60),
    "choice": lambda: ChoiceScreen(["川崎市立図書館", "横浜市立図書館"], 60),
    "done": lambda: ResultScreen("done.title", hint_key="done.hint", library="川崎市立図書館"),
    "done-library-text": lambda: ResultScreen(
        "done.title", hint=LIBRARY_TEXT, library="川崎市立図書館"
    ),
    "error-wrong-pin": _error("error.pin.wrong", tries_left=2),
    "error-blocked": _error("error.pin.blocked"),
    "error-foreign-card": _error("error.card.foreign"),
    "error-removed": _error("error.card.removed"),
    "error-reader": _error("error.card.reader"),
    "error-unregistered": _error("error.platform.unregistered"),
    "error-card-rejected": _error("error.platform.card"),
    "error-platform-down": _error("error.platform.down"),
    "error-paper-out": _error("error.printer.paper"),
    "error-number": _error("error.label.number"),
    "error-unexpected": _error("error.unexpected"),
    "reenrolment": ReenrolmentScreen,
    "staff-pin": lambda: StaffPinScreen("9999"),
    "staff-menu": StaffMenuScreen,
    "lookup-wait": lambda: LookupWaitScreen("", 60),
    "lookup": _lookup,
    "lookup-revealed": lambda: _lookup(revealed=True),
    "setup": lambda: SetupScreen("00052459"),
    "setup-problems": _setup_with_problems,
    "setup-first-boot": lambda: SetupScreen("", platform_url=IMAGE_PLACEHOLDER),
    "setup-first-boot-problems": lambda: _setup_with_problems(IMAGE_PLACEHOLDER),
    "register-form": lambda: ServiceIdFormScreen(ServiceIdSession(REGISTER)),
    "register-form-problems": _form_with_problems,
    "register-wait": lambda: ServiceIdWaitScreen(_service()),
    "register-confirm": lambda: ServiceIdConfirmScreen(_service(number=True)),
    "register-done": lambda: ResultScreen(
        "register.done", f"川崎市立図書館  *******{TYPED[-3:]}", hint_key="register.notice.yes"
    ),
    "unregister-form": lambda: ServiceIdFormScreen(ServiceIdSession(UNREGISTER)),
    "unregister-confirm": lambda: ServiceIdConfirmScreen(_service(UNREGISTER)),
    "error-service-id-taken": _error("error.service_id.taken"),
    "error-scanner": _error("error.scanner"),
    "idle-offline": lambda: IdleScreen("", "connectivity.reconnecting"),
    "idle-online": lambda: IdleScreen("", "connectivity.online"),
    "held-printed": lambda: ResultScreen("held.printed", hint_key="done.hint"),
    "label-jobs": lambda: LabelJobsScreen(),
    "reprint-last": lambda: ReprintLastScreen(match(KAWASAKI)),
    "reprint-none": lambda: ReprintLastScreen(None),
}
# name -> (screen, language mode index into LANGUAGE_MODES, style)
ONE_LANGUAGE = ("idle", "pin-last-try", "choice", "done-library-text", "error-unregistered",
                "lookup", "setup-problems", "setup-first-boot-problems", "reenrolment",
                "register-form-problems", "register-confirm", "label-jobs",
                "idle-offline")  # fmt: skip
VARIANTS: dict[str, tuple[str, int, str]] = {
    **{f"{name}-ja-only": (name, 1, "") for name in ONE_LANGUAGE},
    **{f"{name}-en-only": (name, 2, "") for name in ONE_LANGUAGE},
    **{f"{name}-high-contrast": (name, 0, "contrast") for name in ("idle", "pin", "lookup")},
    **{f"{name}-large-text": (name, 0, "large") for name in ("idle", "pin", "choice", "done")},
}
ALL = {name: (name, 0, "") for name in SCREENS} | VARIANTS


def _kiosk() -> SimpleNamespace:
    config = load_config({"data_dir": "/nonexistent"})
    platform = SimpleNamespace(issuers=lambda: [KAWASAKI, YOKOHAMA])
    jobs = MemoryJobs()
    jobs.add(LabelJob("3f9c2a1b7d4e5f60", CardNumber(KAWASAKI, NUMBERS["000001"]), "2026-12-01"))
    jobs.add(LabelJob("a0b1c2d3e4f50617", CardNumber(YOKOHAMA, NUMBERS["000002"]), "2026-12-01"))
    jobs.claim("a0b1c2d3e4f50617")  # cut off part-way: uncertain
    flow = SimpleNamespace(spool=LabelSpool(None, jobs, FixedClock()))  # type: ignore[arg-type]
    return SimpleNamespace(demo=None, config=config, handoff=MemoryHandoff(), instructions={},
                           platform=platform, flow=flow, jobs=jobs)  # fmt: skip


@functools.cache
def _render_mode(languages: int, style: str) -> dict[str, str]:
    names = [n for n, (_, lang, st) in ALL.items() if lang == languages and st == style]
    app = KioskApp(_kiosk())  # type: ignore[arg-type]
    out: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            app.languages = LANGUAGE_MODES[languages]
            if style == "contrast":
                app.action_contrast()
            app.large_text = style == "large"
            for name in names:
                screen = SCREENS[ALL[name][0]]()
                app.switch_screen(screen)
                await pilot.pause(0.2)
                if isinstance(screen, TimedScreen):
                    screen.hold()
                for field in screen.query(Input):
                    field.cursor_blink = False  # a blinking cursor is a coin toss
                await app.workers.wait_for_complete()
                await pilot.pause(0.1)
                out[name] = _normalise(app.export_screenshot(title=name))

    asyncio.run(scenario())
    return out


def _render(name: str) -> str:
    _, languages, style = ALL[name]
    return _render_mode(languages, style)[name]


def _normalise(svg: str) -> str:
    """Textual names CSS classes after a hash of the terminal id; keep only what is drawn."""
    return re.sub(r"terminal-\d+", "terminal", svg)


@pytest.mark.parametrize("name", sorted(ALL))
def test_screen_matches_its_snapshot(name: str) -> None:
    svg = _render(name)
    path = SNAPSHOTS / f"{name}.svg"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}: run `make snapshots` and review it")
        path.write_text(svg, encoding="utf-8")
    assert svg == path.read_text(encoding="utf-8"), f"{name} changed: `make snapshots`, review"


def test_no_snapshot_is_left_over() -> None:
    stale = sorted(p.stem for p in SNAPSHOTS.glob("*.svg") if p.stem not in ALL)
    assert stale == [], f"snapshots of screens that no longer exist: {stale} (git rm them)"


def _text(svg: str) -> str:
    return html.unescape(svg).replace("\xa0", " ")


def test_no_snapshot_shows_a_mykey_id_or_a_full_card_number() -> None:
    """Only a number staff chose to reveal may appear in full; a MyKey ID never."""
    numbers = list(dict.fromkeys([*NUMBERS.values(), *(demo_card_number(n) for n in range(1, 5)),
                                  TYPED]))  # fmt: skip
    for path in sorted(SNAPSHOTS.glob("*.svg")):
        text = _text(path.read_text(encoding="utf-8"))
        assert not re.search(r"KWS\d{5}", text), f"a MyKey ID in {path.name}"
        shown = [n for n in numbers if n in text]
        if path.stem.startswith("lookup-revealed"):
            assert shown == [NUMBERS["000001"]], path.name  # the one staff revealed, only
        elif path.stem.startswith("register-confirm"):
            assert shown == [TYPED], path.name  # the number staff typed, to catch a typo
        else:
            assert shown == [], f"full card number in {path.name}"


def test_the_language_key_cycles_both_japanese_english() -> None:
    app = KioskApp(_kiosk())  # type: ignore[arg-type]
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            for _ in range(3):
                await pilot.press("f3")
                await pilot.pause(0.1)
                seen.append(_text(app.export_screenshot()))

    asyncio.run(scenario())
    ja_only, en_only, both = seen
    assert "マイナンバーカードをかざしてください" in ja_only and "Tap your" not in ja_only
    assert "Tap your My Number Card" in en_only and "かざしてください" not in en_only
    assert "Tap your My Number Card" in both and "かざしてください" in both

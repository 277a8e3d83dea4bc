"""Every error of the patron flow ends on its catalogue message, in Japanese and English: never a
traceback, a class name, a status word or the technical detail meant for the log.

The error classes are collected from the ``KioskError`` tree itself, so a new error class is
covered (and must have a message) the day it is added.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import appliance.errors as errors
from appliance.flow import PendingTap
from appliance.messages import CATALOGUE, Lang, render
from appliance.values import CardRead, Challenge, LookupMatch
from sync.client import ChallengeRefused
from tests.ui.fakes import KAWASAKI, match, scripted_kiosk, text_of, until
from ui.app import KioskApp
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.setup import ReenrolmentScreen

SECRET_DETAIL = "detail-for-the-log-0x6983"


def _tree(root: type[errors.KioskError]) -> list[type[errors.KioskError]]:
    found = []
    for cls in root.__subclasses__():
        found += [cls, *_tree(cls)]
    return found


def _instance(cls: type[errors.KioskError]) -> errors.KioskError:
    if cls is errors.WrongPin:
        return errors.WrongPin(2, sw=0x63C2)
    if cls is errors.ConfigError:
        return errors.ConfigError([SECRET_DETAIL])
    if cls is errors.KocError:
        return errors.KocError([SECRET_DETAIL])
    if cls is errors.RegistrationInvalid:
        return errors.RegistrationInvalid({"postal_code": [SECRET_DETAIL]})
    if cls is errors.ServiceIdRefused:
        return errors.ServiceIdRefused("service_id.exists", SECRET_DETAIL)
    if issubclass(cls, errors.CardError):
        return cls(SECRET_DETAIL, sw=0x6983)
    return cls(SECRET_DETAIL)


PATRON_ERRORS = sorted(
    {c for c in [*_tree(errors.KioskError), ChallengeRefused] if c is not errors.TerminalRejected},
    key=lambda c: c.__name__,
)


class FailingFlow:
    """A flow whose ``stage`` raises the next error of a list; cheap, so one app run can walk
    through the whole tree (the real flow and card are exercised in test_patron_screens)."""

    def __init__(self) -> None:
        self.stage = "lookup"
        self.error: BaseException = RuntimeError()

    def begin(self, timeout: float = 5.0) -> PendingTap:
        if self.stage == "begin":
            raise self.error
        return PendingTap(None, CardRead(b"", 3), Challenge(b"n" * 32, "00052459"))

    def lookup(self, pending: PendingTap, pin: object) -> list[LookupMatch]:
        pending.wipe()
        if self.stage == "lookup":
            raise self.error
        return [match(KAWASAKI)]

    def print_match(self, chosen: LookupMatch) -> object:
        raise self.error


def _stage(cls: type[errors.KioskError]) -> str:
    """Where each error is raised for real: card errors while reading (a wrong PIN at the
    lookup, after the PIN), device and label errors at the printer, the rest at the lookup."""
    if issubclass(cls, errors.CardError) and cls is not errors.WrongPin:
        return "begin"
    if issubclass(cls, errors.PrinterError | errors.LabelError):
        return "print"
    return "lookup"


def _screens_for(tmp_path: Path, cases: list[tuple[str, BaseException]]) -> list[str]:
    """One app; for each (stage, error): tap, PIN, read the error screen, back to idle."""
    kiosk = scripted_kiosk(tmp_path, [])
    flow = FailingFlow()
    kiosk.flow = flow  # type: ignore[assignment]
    app = KioskApp(kiosk)
    seen: list[str] = []
    done = (ResultScreen, ReenrolmentScreen)

    async def scenario() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            for stage, exc in cases:
                flow.stage, flow.error = stage, exc
                await until(pilot, lambda: isinstance(app.screen, IdleScreen))
                await pilot.press("1")
                await until(pilot, lambda: isinstance(app.screen, PinScreen | ResultScreen))
                if isinstance(app.screen, PinScreen):
                    await pilot.press(*"1234", "enter")
                    await until(pilot, lambda: isinstance(app.screen, done))
                seen.append(text_of(app.export_screenshot()))
                assert app.last_outcome is None
                await pilot.press("enter")

    asyncio.run(scenario())
    return seen


def _head(text: str) -> str:
    """The start of a message: long ones wrap on screen, and a wrapped line breaks a search."""
    return text[:20]


def _no_technical_text(screen: str, exc: BaseException) -> None:
    for leak in (SECRET_DETAIL, "Traceback", type(exc).__name__, "6983", "63C2", "sw="):
        assert leak not in screen, f"{leak!r} reached the patron's screen"


def test_every_error_shows_its_message_in_both_languages(tmp_path: Path) -> None:
    cases: list[tuple[str, BaseException]] = [(_stage(c), _instance(c)) for c in PATRON_ERRORS]
    cases += [
        ("lookup", errors.CardRemoved(SECRET_DETAIL)),  # the card can go at any step
        ("lookup", errors.PaperOut(SECRET_DETAIL)),
        ("lookup", RuntimeError(SECRET_DETAIL)),  # a bug: the generic message
    ]
    screens = _screens_for(tmp_path, cases)
    assert len(screens) == len(cases)
    for (stage, exc), screen in zip(cases, screens, strict=True):
        key = exc.key if isinstance(exc, errors.KioskError) else "error.unexpected"
        params = exc.params if isinstance(exc, errors.KioskError) else {}
        assert key in CATALOGUE, f"{type(exc).__name__} has no message"
        for lang in Lang:
            assert _head(render(key, lang, **params)) in screen, (stage, type(exc).__name__)
        _no_technical_text(screen, exc)


def test_a_refused_terminal_shows_the_re_enrolment_screen_and_stays(tmp_path: Path) -> None:
    kiosk = scripted_kiosk(tmp_path, [match(KAWASAKI)])

    def refused(*_: object) -> object:
        raise errors.TerminalRejected("terminal 00052459 is bound to another board")

    kiosk.flow.begin = refused  # type: ignore[method-assign]
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, IdleScreen))
            await pilot.press("1")
            await until(pilot, lambda: isinstance(app.screen, ReenrolmentScreen))
            seen.append(text_of(app.export_screenshot()))
            await pilot.press("1")  # a patron's tap does not get past it
            await pilot.pause(0.2)
            assert isinstance(app.screen, ReenrolmentScreen)
            await pilot.press("f2")  # the technician's way in
            await until(pilot, lambda: type(app.screen).__name__ == "StaffPinScreen")

    asyncio.run(scenario())
    for key in ("reenrol.title", "reenrol.patron", "reenrol.technician"):
        assert _head(render(key, Lang.JA)) in seen[0] and _head(render(key, Lang.EN)) in seen[0]
    assert "bound to another board" not in seen[0]

"""Labels after the fact, on the real app: a held label that prints later is announced, staff
reprint the last label, list / cancel / reprint waiting jobs; and the status line of the
platform link. In-process virtual card and printer, scripted platform (tests/ui/fakes.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input

from appliance.ports import Connectivity, JobState
from appliance.spool import MemoryJobs
from appliance.values import CardNumber, LabelJob
from sync.flusher import FixedLink
from tests.ui.fakes import KAWASAKI, NUMBERS, PaperOutPrinter, match, scripted_kiosk, text_of, until
from ui.app import KioskApp
from ui.jobs_screen import LabelJobsScreen, ReprintLastScreen
from ui.poll import link_status_row
from ui.screens import IdleScreen, PinScreen, ResultScreen
from ui.staff import StaffMenuScreen
from ui.wiring import Kiosk

TODAY = "2026-12-01"  # tests/ui/fakes.FixedClock


@pytest.fixture
def kiosk(tmp_path: Path) -> Kiosk:
    return scripted_kiosk(tmp_path, [match(KAWASAKI)])


def _printer(kiosk: Kiosk) -> PaperOutPrinter:
    assert isinstance(kiosk.printer, PaperOutPrinter)
    return kiosk.printer


def _labels(kiosk: Kiosk) -> int:
    return len(list(kiosk.labels_dir.glob("*.png")))


async def _patron(pilot: Any, app: KioskApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, IdleScreen))
    await pilot.press("1")
    await until(pilot, lambda: isinstance(app.screen, PinScreen))
    field = app.screen.query_one("#pin", Input)
    field.value = "1234"
    await field.action_submit()
    await until(pilot, lambda: isinstance(app.screen, ResultScreen))


async def _staff(pilot: Any, app: KioskApp, button: str) -> None:
    await until(pilot, lambda: isinstance(app.screen, IdleScreen))
    await pilot.press("f2", *"9999", "enter")
    await until(pilot, lambda: isinstance(app.screen, StaffMenuScreen))
    await pilot.click(f"#{button}")


def test_a_held_label_that_prints_later_is_announced_and_not_kept_for_a_reprint(
    kiosk: Kiosk,
) -> None:
    app = KioskApp(kiosk)
    printer = _printer(kiosk)
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(110, 40)) as pilot:
            printer.paper_out = True
            await _patron(pilot, app)
            seen["held"] = text_of(app.export_screenshot())
            assert app.held and _labels(kiosk) == 0
            printer.paper_out = False  # staff reload the paper; the resume loop prints it
            kiosk.flow.spool.resume()
            await until(pilot, lambda: "Thank you for waiting" in text_of(app.export_screenshot()))
            seen["printed"] = text_of(app.export_screenshot())
            app.action_to_idle()
            # the same with the patron's screen already gone: said in place of the idle screen
            printer.paper_out = True
            await _patron(pilot, app)
            app.action_to_idle()
            printer.paper_out = False
            kiosk.flow.spool.resume()
            await until(pilot, lambda: "Thank you for waiting" in text_of(app.export_screenshot()))
            assert isinstance(app.screen, ResultScreen) and not app.held
            app.action_to_idle()
            await _patron(pilot, app)  # a label that printed at once
            app.action_to_idle()
            # a patron's own label is not kept for a reprint: the idle screen wiped it
            await _staff(pilot, app, "reprint")
            await until(pilot, lambda: isinstance(app.screen, ReprintLastScreen))
            seen["expired"] = text_of(app.export_screenshot())

    asyncio.run(scenario())
    assert "用紙" in seen["held"]  # paper out: the label is kept
    assert "ラベルを印刷しました" in seen["printed"] and "take it" in seen["printed"]
    assert "No label has been printed" in seen["expired"]
    assert app.last_label.match is None


def test_staff_list_cancel_and_reprint_waiting_jobs_as_the_cli_does(kiosk: Kiosk) -> None:
    jobs = kiosk.jobs
    assert isinstance(jobs, MemoryJobs)
    jobs.add(LabelJob("held1", CardNumber(KAWASAKI, NUMBERS["000001"]), TODAY))
    jobs.add(LabelJob("cut1", CardNumber(KAWASAKI, "1800000018"), TODAY))
    jobs.claim("cut1")  # the link broke mid-label: uncertain
    jobs.add(LabelJob("held2", CardNumber(KAWASAKI, "1800000026"), TODAY))
    app = KioskApp(kiosk)
    seen: dict[str, str] = {}

    async def scenario() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await _staff(pilot, app, "jobs")
            await until(pilot, lambda: isinstance(app.screen, LabelJobsScreen))
            screen = app.screen
            assert isinstance(screen, LabelJobsScreen)
            table = screen.query_one("#jobs", DataTable)
            await until(pilot, lambda: table.row_count == 3)
            seen["list"] = text_of(app.export_screenshot())
            await pilot.click("#cancel-job")  # the first row: held1
            await until(pilot, lambda: table.row_count == 2)
            table.move_cursor(row=list(screen.states).index("cut1"))
            await until(pilot, lambda: screen._selected() == "cut1")
            await pilot.click("#reprint-job")  # first press: look at the printer first
            await until(pilot, lambda: screen.armed == "cut1")
            seen["confirm"] = text_of(app.export_screenshot())
            assert jobs.state("cut1") is JobState.SENDING
            await pilot.click("#reprint-job")
            await until(pilot, lambda: table.row_count == 1)
            seen["reprinted"] = text_of(app.export_screenshot())
            table.move_cursor(row=0)
            await until(pilot, lambda: screen._selected() == "held2")
            await pilot.click("#reprint-job")  # a held job is not "reprinted": it resumes
            await pilot.pause()
            seen["held"] = text_of(app.export_screenshot())
            await pilot.click("#resume")
            await until(pilot, lambda: table.row_count == 0)
            seen["empty"] = text_of(app.export_screenshot())

    asyncio.run(scenario())
    assert "*******000" in seen["list"] and "*******018" in seen["list"]
    assert not any(n in seen["list"] for n in (NUMBERS["000001"], "1800000018", "1800000026"))
    assert "held" in seen["list"] and "uncertain" in seen["list"]
    assert jobs.state("held1") is JobState.CANCELLED
    assert "may already have printed" in seen["confirm"] and "出ていない場合だけ" in seen["confirm"]
    assert jobs.state("cut1") is JobState.PRINTED and "Reprinted" in seen["reprinted"]
    assert "A held label prints with “Print now”" in seen["held"]
    assert jobs.state("held2") is JobState.PRINTED and "held labels were printed" in seen["empty"]
    assert _labels(kiosk) == 2  # cut1 once, held2 once; the cancelled one never


def test_the_status_line_follows_the_platform_link_and_diagnostics_list_it(
    kiosk: Kiosk,
) -> None:
    link = FixedLink(Connectivity.OFFLINE, pending=3)
    kiosk.link = link  # type: ignore[assignment]
    app = KioskApp(kiosk)
    seen: list[str] = []

    async def scenario() -> None:
        async with app.run_test(size=(110, 32)) as pilot:
            await until(pilot, lambda: "reconnecting" in text_of(app.export_screenshot()))
            seen.append(text_of(app.export_screenshot()))
            link.status = type(link.status)(Connectivity.ONLINE, 0)
            await until(pilot, lambda: "Connected" in text_of(app.export_screenshot()))
            seen.append(text_of(app.export_screenshot()))

    asyncio.run(scenario())
    assert "オフライン：サーバーに再接続しています" in seen[0]
    assert "Offline: reconnecting" in seen[0] and "Connected" not in seen[0]
    assert "サーバーに接続しています" in seen[1]
    assert link_status_row(link.link_status()).detail == "online; 0 event(s) to send"
    link.status = type(link.status)(Connectivity.REJECTED, 2)
    row = link_status_row(link.link_status())  # the diagnostics screen's line (tests/ui/test_staff)
    assert row.state.value == "fault" and "2 event" in row.detail

"""What the app watches in the background: the platform link (status line) and held labels.

Every :data:`POLL_S` seconds a thread worker asks the ``PlatformLink`` port for the connection
state (the outbox flusher knows it; the question costs one SQLite count) and the ``LabelJobs``
port for the jobs a paper-out held: when one of them has printed (the resume loop prints held
labels as soon as the printer is back), the patron is told: in place of the "label kept" screen
or the attract screen, else (the next patron is mid-flow) in a notice over their screen.
A mixin of :class:`ui.app.KioskApp`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.messages import bilingual
from ui.screens import IdleScreen, KioskScreen, ResultScreen

if TYPE_CHECKING:  # appliance.ports loads with the flow, after the first frame (bench/ui.py)
    from textual.screen import Screen

    from appliance.ports import DeviceStatus, JobState, LinkStatus
    from ui.wiring import Kiosk

POLL_S = 2.0

# The status line: the flusher retries with a backoff while the platform cannot be reached, so
# "offline" on screen says it is reconnecting, which is what the kiosk is doing.
LINK_KEYS = {  # by appliance.ports.Connectivity value
    "connecting": "connectivity.connecting",
    "online": "connectivity.online",
    "offline": "connectivity.reconnecting",
    "rejected": "connectivity.rejected",
}
_STILL_HELD = ("pending", "sending")  # JobState values: not printed, not given up


def link_status_row(status: LinkStatus) -> DeviceStatus:
    """The platform link as a diagnostics line: its state and the events still to send."""
    from appliance.ports import Connectivity, DeviceState, DeviceStatus

    state = {Connectivity.ONLINE: DeviceState.OK, Connectivity.REJECTED: DeviceState.FAULT}.get(
        status.state, DeviceState.WARNING
    )
    waiting = "?" if status.pending < 0 else str(status.pending)
    return DeviceStatus("platform link", state, f"{status.state.value}; {waiting} event(s) to send")


class Poller:
    if TYPE_CHECKING:  # what KioskApp (the only class this is mixed into) provides
        kiosk: Kiosk
        held: set[str]
        held_screen: ResultScreen | None
        link_key: str
        screen: Screen[Any]
        run_worker: Callable[..., Any]
        set_interval: Callable[..., Any]
        call_from_thread: Callable[..., Any]
        notify: Callable[..., Any]

        def _show(self, screen: KioskScreen) -> None: ...

    def start_polling(self) -> None:
        kiosk = self.kiosk
        if getattr(kiosk, "link", None) is not None or getattr(kiosk, "jobs", None) is not None:
            self.set_interval(POLL_S, self.poll)
            self.poll()

    def waiting_ids(self) -> set[str]:
        """IDs of the held jobs now (blocking: from a worker)."""
        jobs = getattr(self.kiosk, "jobs", None)
        return {job.job_id for job in jobs.pending()} if jobs is not None else set()

    def poll(self) -> None:
        held = set(self.held)
        self.run_worker(lambda: self._poll(held), thread=True, exclusive=True, group="poll")

    def _poll(self, held: set[str]) -> None:
        link = getattr(self.kiosk, "link", None)
        jobs = getattr(self.kiosk, "jobs", None)
        try:
            status = link.link_status() if link is not None else None
            states = {job_id: jobs.state(job_id) for job_id in held} if jobs is not None else {}
        except Exception:  # a failing store shows in diagnostics; the status line just waits
            return
        self.call_from_thread(self._polled, status, states)

    def _polled(self, status: LinkStatus | None, states: dict[str, JobState | None]) -> None:
        if status is not None:
            self.link_key = LINK_KEYS[status.state.value]
            if isinstance(self.screen, IdleScreen):
                self.screen.show_link(self.link_key)
        for job_id, state in states.items():
            if state is not None and state.value in _STILL_HELD:
                continue  # still held (or being printed right now)
            self.held.discard(job_id)
            if state is not None and state.value == "printed":
                self.held_printed()

    def held_printed(self) -> None:
        """A label the printer held has come out: tell whoever is looking."""
        kept_screen_up = self.held_screen is not None and self.screen is self.held_screen
        if kept_screen_up or isinstance(self.screen, IdleScreen):
            self._show(ResultScreen("held.printed", hint_key="done.hint",
                                    timeout_s=self.kiosk.config.result_screen_s))  # fmt: skip
        else:  # the next patron is mid-flow: do not take their screen, just say it
            self.notify(bilingual("held.printed"), timeout=15)
        self.held_screen = None

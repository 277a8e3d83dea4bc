"""The last label staff printed in this staff session, for their "reprint the last label".

Fed by the staff lookup's label (method D), never by a patron's self-service label: what a
patron brought is wiped when the kiosk goes back to idle, and so is this (the staff session
ends there: :meth:`ui.app.KioskApp.action_to_idle`). In memory only, never on disk, and for
:data:`REPRINT_WINDOW_S` at most within the session, never past its day. The next label
replaces it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.values import LookupMatch

REPRINT_WINDOW_S = 600.0  # how long the last label can be reprinted (a jam is seen at once)


@dataclass
class LastLabel:
    """The staff session's last label, for a reprint; wiped at idle or when it expires."""

    match: LookupMatch | None = field(default=None, repr=False)
    printed_at: float = 0.0  # time.monotonic()
    day: str = ""

    def keep(self, match: LookupMatch) -> None:
        self.match, self.printed_at, self.day = match, time.monotonic(), dt.date.today().isoformat()

    def current(self) -> LookupMatch | None:
        """The match, unless it is too old (then it is forgotten)."""
        expired = time.monotonic() - self.printed_at > REPRINT_WINDOW_S
        if self.match is not None and (expired or self.day != dt.date.today().isoformat()):
            self.wipe()
        return self.match

    def wipe(self) -> None:
        self.match, self.day = None, ""

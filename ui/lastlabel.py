"""The last patron label of this run, for the staff's "reprint the last label".

The app keeps the last printed label's looked-up number in memory only (never on disk), for
:data:`REPRINT_WINDOW_S` at most and never past its day: long enough for staff to reprint a
label that jammed or tore, short enough that it is not a record of who came. The next label
replaces it; asking for it after the window forgets it.
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
    """The last patron label of this run, for a staff reprint; wiped when it expires."""

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

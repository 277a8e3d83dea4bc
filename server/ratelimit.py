"""Failed sign-ins, counted per terminal ID and per client address, in a sliding window.

A terminal password is eight or nine characters from the ministry's list: guessable by brute
force unless failures are capped. After ``max_per_terminal`` failures for one terminal ID, or
``max_per_address`` from one address, inside ``window`` seconds, further attempts are answered
``429 signin.throttled`` *before* the password hash is computed (so a flood costs no scrypt
time) until the oldest failure leaves the window. A success clears its terminal's failures,
never its address's (one address may front many terminals, and many guesses).

The counters live in the server process: a restart forgets them, which gives an attacker at
most one more window per restart; a fleet behind several processes would move them to the
database. The address is the TCP peer: no ``X-Forwarded-For`` is trusted.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

_MAX_KEYS = 100_000  # bound on memory under a flood of invented terminal IDs


class SignInLimiter:
    def __init__(
        self,
        *,
        max_per_terminal: int,
        max_per_address: int,
        window: float,
        clock: Callable[[], float],
    ) -> None:
        self._limits = {"terminal": max_per_terminal, "address": max_per_address}
        self._window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, terminal_id: str, address: str) -> int:
        """Seconds until an attempt is allowed again; 0 = go ahead."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in (("terminal", terminal_id), ("address", address)):
                times = self._recent(key, now)
                if times is not None and len(times) >= self._limits[key[0]]:
                    wait = max(wait, times[0] + self._window - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, terminal_id: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= _MAX_KEYS:
                self._prune(now)
            for key in (("terminal", terminal_id), ("address", address)):
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > self._limits[key[0]]:
                    times.popleft()

    def succeeded(self, terminal_id: str) -> None:
        with self._lock:
            self._failures.pop(("terminal", terminal_id), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _prune(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) >= _MAX_KEYS:  # still full: forget the oldest keys
            del self._failures[next(iter(self._failures))]

"""Day tokens: same-day labels that the library system really enforces.

A label that carries the real card number can never expire. For an issuer that chooses token
labels, the kiosk prints a *day token* instead: a number that looks exactly like a card number of
that library (length, digits, check digit, Codabar frame) but is drawn from a range the library
reserves, so it can never be a real card. The SIP2 gateway (``drivers/sip2``) swaps it for the real
number on the way to the library system, and only on the day, within the hours, it was printed for.

Rules kept here, pure (no sockets, files or clocks; ``now`` is always passed in):

* A token's *body* (the number without its check digit) modulo 7 is the weekday of its day
  (:data:`DAY_SLOTS`). Yesterday's label is therefore recognised as expired even after the book
  was purged, and a token value can only come back a whole number of weeks later.
* A token is valid from the moment it was issued until the issuer's closing time that day. Nothing
  survives the service day: :meth:`TokenBook.purge` drops tokens whose hours are over.
* Token and card number never show in ``repr``: a stray log line cannot leak either.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from appliance.checkdigits import compute
from appliance.errors import ConfigError, LabelError
from appliance.values import CardNumber, CheckScheme, Issuer, Symbology

DAY_SLOTS = 7  # body % 7 == weekday of the day the token is valid
MIN_TOKENS_PER_DAY = 1000  # a smaller reserved range runs out, and is easier to guess into
_CODABAR_FRAME = frozenset("ABCDabcd")


class TokenUnavailable(LabelError):
    """No token can be issued (outside service hours, no policy, range exhausted)."""

    key = "error.token.unavailable"


class Verdict(Enum):
    """What a presented patron identifier turned out to be."""

    NOT_A_TOKEN = "not-a-token"  # noqa: S105 - outside every reserved range: a real card, passes through
    VALID = "valid"  # today's token within its hours: swapped for the real number
    EXPIRED = "expired"  # a token of another day, or past its hours
    UNKNOWN = "unknown"  # shaped like today's token, but never issued here
    MALFORMED = "malformed"  # inside a reserved range, but the check digit is wrong


@dataclass(frozen=True)
class ServiceHours:
    """The hours a label is valid on its day (local time, minutes precision is enough)."""

    opens: dt.time = dt.time(0, 0)
    closes: dt.time = dt.time(23, 59, 59)

    def problems(self) -> list[str]:
        return [] if self.opens < self.closes else ["service hours: opens must be before closes"]

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return dt.datetime.combine(day, self.opens), dt.datetime.combine(day, self.closes)


@dataclass(frozen=True)
class TokenPolicy:
    """An issuer's choice of token labels: the range of card numbers it reserves for them.

    ``low`` and ``high`` are whole card numbers (check digit included) of the token length; the
    library promises never to give a real card a number in ``[low, high]``.
    """

    issuer: Issuer
    low: str
    high: str
    hours: ServiceHours = ServiceHours()

    @property
    def length(self) -> int:
        return len(self.low)

    def problems(self) -> list[str]:
        """Every problem with this policy at once (empty = usable)."""
        found: list[str] = []
        name = f"token range of {self.issuer.issuer_id}"
        if not (self.low.isascii() and self.low.isdigit()):
            found.append(f"{name}: low must be digits")
        if not (self.high.isascii() and self.high.isdigit()):
            found.append(f"{name}: high must be digits")
        if len(self.low) != len(self.high):
            found.append(f"{name}: low and high must have the same length")
        if self.issuer.lengths and self.length not in self.issuer.lengths:
            found.append(f"{name}: length {self.length} is not a card length {self.issuer.lengths}")
        checked = self.issuer.check is not CheckScheme.NONE
        if self.issuer.check is CheckScheme.MOD16:
            found.append(f"{name}: day tokens are digits; mod16 needs a check character")
        if checked and self.length < 2:
            found.append(f"{name}: a check digit needs at least 2 digits")
        found.extend(self.hours.problems())
        if not found:
            if int(self.low) > int(self.high):
                found.append(f"{name}: low is above high")
            elif self.tokens_per_day() < MIN_TOKENS_PER_DAY:
                found.append(
                    f"{name}: only {self.tokens_per_day()} tokens a day fit, "
                    f"reserve at least {MIN_TOKENS_PER_DAY * DAY_SLOTS * (10 if checked else 1)}"
                )
        return found

    def check(self) -> TokenPolicy:
        """This policy, or ``ConfigError`` with every problem."""
        found = self.problems()
        if found:
            raise ConfigError(found)
        return self

    def tokens_per_day(self) -> int:
        lo, hi = self._body_bounds()
        return max(0, hi - lo + 1) // DAY_SLOTS

    # -- recognising ----------------------------------------------------------------------------

    def bare(self, presented: str) -> str:
        """``presented`` without a Codabar start/stop frame, if the scanner sent one."""
        if (
            self.issuer.symbology is Symbology.CODABAR
            and len(presented) == self.length + 2
            and presented[0] in _CODABAR_FRAME
            and presented[-1] in _CODABAR_FRAME
        ):
            return presented[1:-1]
        return presented

    def claims(self, bare: str) -> bool:
        """Whether ``bare`` lies inside the reserved range (whatever its check digit)."""
        return (
            len(bare) == self.length
            and bare.isascii()
            and bare.isdigit()
            and int(self.low) <= int(bare) <= int(self.high)
        )

    def well_formed(self, bare: str) -> bool:
        if self.issuer.check is CheckScheme.NONE:
            return True
        return compute(bare[:-1], self.issuer.check.value) == bare[-1]

    def slot(self, bare: str) -> int:
        """The weekday a token belongs to."""
        return self._body(bare) % DAY_SLOTS

    # -- making ---------------------------------------------------------------------------------

    def make(self, body: int) -> str:
        """The whole token for ``body``: zero-padded, the issuer's check digit appended."""
        if self.issuer.check is CheckScheme.NONE:
            return str(body).zfill(self.length)
        digits = str(body).zfill(self.length - 1)
        return digits + compute(digits, self.issuer.check.value)

    def draw(self, day: dt.date, randbelow: Callable[[int], int], taken: Iterable[str] = ()) -> str:
        """A random token of ``day``'s slot inside the range, not in ``taken``."""
        lo, hi = self._body_bounds()
        avoid = set(taken)
        span = hi - lo + 1
        if span <= 0:
            raise TokenUnavailable("empty token range")
        for _ in range(1000):
            body = lo + randbelow(span)
            body += (day.weekday() - body) % DAY_SLOTS
            if body > hi:
                continue
            token = self.make(body)
            if self.claims(token) and token not in avoid:
                return token
        raise TokenUnavailable("token range exhausted for today")

    def _checked(self) -> bool:
        return self.issuer.check is not CheckScheme.NONE

    def _body(self, bare: str) -> int:
        return int(bare[:-1]) if self._checked() else int(bare)

    def _body_bounds(self) -> tuple[int, int]:
        if not (self.low.isdigit() and self.high.isdigit()):
            return 0, -1
        if self._checked():
            return int(self.low) // 10, int(self.high) // 10
        return int(self.low), int(self.high)


@dataclass(frozen=True)
class DayToken:
    """One issued token and the real card number it stands for. Neither shows in ``repr``."""

    value: str = field(repr=False)
    number: CardNumber = field(repr=False)
    issued_at: dt.datetime
    valid_until: dt.datetime

    @property
    def issuer_id(self) -> str:
        return self.number.issuer.issuer_id

    @property
    def day(self) -> dt.date:
        return self.issued_at.date()

    def label_number(self) -> CardNumber:
        """What the label prints: a card number of the issuer whose value is the token."""
        return CardNumber(self.number.issuer, self.value)

    def hours_text(self) -> str:
        """The validity printed on the label, e.g. ``2025-11-25 10:32–20:00``."""
        return f"{self.day.isoformat()} {self.issued_at:%H:%M}\N{EN DASH}{self.valid_until:%H:%M}"

    def valid_at(self, now: dt.datetime) -> bool:
        return self.issued_at <= now < self.valid_until

    def __str__(self) -> str:
        return f"DayToken({self.issuer_id}, {self.day.isoformat()}, ****)"

    __repr__ = __str__


@dataclass(frozen=True)
class Resolution:
    """The verdict on one presented patron identifier, and what to send instead."""

    verdict: Verdict
    token: DayToken | None = None
    replacement: str = field(default="", repr=False)  # real number, framed as presented


@dataclass
class DayCounts:
    """Counts only, for the technician screen: never which token or which card."""

    day: dt.date
    issued: int = 0
    used: int = 0


class TokenBook:
    """The day's tokens in memory: issue, resolve, purge. Not thread-safe; one owner."""

    def __init__(
        self,
        policies: Iterable[TokenPolicy] = (),
        *,
        randbelow: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        self._policies: dict[str, TokenPolicy] = {}
        self._tokens: dict[tuple[str, str], DayToken] = {}
        self._used: set[tuple[str, str]] = set()
        self._randbelow = randbelow
        self.counts = DayCounts(dt.date.min)
        for policy in policies:
            self.set_policy(policy)

    def __repr__(self) -> str:
        return f"TokenBook({len(self._policies)} policies, {len(self._tokens)} tokens)"

    # -- policies -------------------------------------------------------------------------------

    def set_policy(self, policy: TokenPolicy) -> None:
        self._policies[policy.issuer.issuer_id] = policy.check()

    @property
    def policies(self) -> tuple[TokenPolicy, ...]:
        return tuple(self._policies.values())

    # -- issuing --------------------------------------------------------------------------------

    def issue(self, number: CardNumber, now: dt.datetime) -> DayToken:
        """A fresh token for ``number``, valid from ``now`` until closing time today."""
        policy = self._policies.get(number.issuer.issuer_id)
        if policy is None:
            raise TokenUnavailable(f"no token range for issuer {number.issuer.issuer_id}")
        if policy.claims(number.value):
            # The library broke its promise: a real card inside the reserved range would be refused.
            raise TokenUnavailable("real card number inside the reserved token range")
        opens, closes = policy.hours.window(now.date())
        if not opens <= now < closes:
            raise TokenUnavailable("outside service hours")
        self.purge(now)
        taken = [
            value for (issuer_id, value) in self._tokens if issuer_id == policy.issuer.issuer_id
        ]
        value = policy.draw(now.date(), self._randbelow, taken)
        token = DayToken(value=value, number=number, issued_at=now, valid_until=closes)
        self._tokens[(policy.issuer.issuer_id, value)] = token
        self._count(now.date()).issued += 1
        return token

    # -- resolving ------------------------------------------------------------------------------

    def resolve(self, presented: str, now: dt.datetime) -> Resolution:
        """What ``presented`` (a SIP2 patron identifier) is, at ``now``."""
        for policy in self._policies.values():
            bare = policy.bare(presented)
            if not policy.claims(bare):
                continue
            if not policy.well_formed(bare):
                return Resolution(Verdict.MALFORMED)
            key = (policy.issuer.issuer_id, bare)
            token = self._tokens.get(key)
            if token is None:
                if policy.slot(bare) != now.weekday():
                    return Resolution(Verdict.EXPIRED)
                return Resolution(Verdict.UNKNOWN)
            if not token.valid_at(now):
                return Resolution(Verdict.EXPIRED, token)
            if key not in self._used:
                self._used.add(key)
                self._count(now.date()).used += 1
            real = token.number.value
            replacement = presented[0] + real + presented[-1] if bare != presented else real
            return Resolution(Verdict.VALID, token, replacement)
        return Resolution(Verdict.NOT_A_TOKEN)

    def is_used(self, token: DayToken) -> bool:
        return (token.issuer_id, token.value) in self._used

    def mark_used(self, token: DayToken) -> None:
        key = (token.issuer_id, token.value)
        if key in self._tokens and key not in self._used:
            self._used.add(key)
            self._count(token.day).used += 1

    # -- forgetting -----------------------------------------------------------------------------

    def purge(self, now: dt.datetime) -> int:
        """Drop every token whose hours are over; returns how many went."""
        gone = [key for key, token in self._tokens.items() if token.valid_until <= now]
        for key in gone:
            del self._tokens[key]
            self._used.discard(key)
        if self.counts.day != now.date():
            self.counts = DayCounts(now.date())
        return len(gone)

    def tokens(self) -> tuple[DayToken, ...]:
        return tuple(self._tokens.values())

    def _count(self, day: dt.date) -> DayCounts:
        if self.counts.day != day:
            self.counts = DayCounts(day)
        return self.counts

    def remember(self, token: DayToken, *, used: bool = False) -> None:
        """Take back a token from the store after a restart (counts are the store's to restore)."""
        key = (token.issuer_id, token.value)
        self._tokens[key] = token
        if used:
            self._used.add(key)

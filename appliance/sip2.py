"""SIP2 (3M Standard Interchange Protocol 2.00) for the kiosk's token gateway, pure.

The gateway stands between a self-checkout machine (SC) and the library system (ACS). This module
decides, for each SC message, what happens to it; ``drivers/sip2`` only moves bytes:

* the patron identifier (field ``AA``) is today's token -> forward with the real card number
  spliced in (checksum ``AZ`` recomputed, sequence ``AY`` kept) and put the token back in the
  answer wherever the real number appears (:func:`restore`);
* a token of another day, an unknown or a malformed one -> answer locally, never forwarded
  (:func:`refusal`: patron not valid, checkout not OK, a screen message in Japanese and English);
* anything else that is well formed -> forwarded byte-exact;
* a bad checksum -> ``96`` (request SC resend); anything else malformed -> close the connection.

Work is on bytes so that pass-through is byte-exact whatever the library system's encoding.
Checksums sum bytes. An unpadded checksum (``AZ`` + 1-3 hex digits, as some SC clients send) is
accepted when its value matches, since the library system sees the same bytes the SC sent.

Errors (a branch of :class:`~appliance.errors.KioskError`)::

    GatewayError                 the SIP2 gateway cannot serve          key error.sip2
    ├── MalformedMessage         a message the gateway will not forward  (reason, never the bytes)
    └── TokenStoreError          the encrypted token store cannot be read or written
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from appliance.daytokens import DayToken, TokenBook, Verdict
from appliance.errors import KioskError
from appliance.messages import CATALOGUE


class GatewayError(KioskError):
    key = "error.sip2"


class MalformedMessage(GatewayError):
    key = "error.sip2"


class TokenStoreError(GatewayError):
    key = "error.sip2.store"


# Fixed-length part after the 2-character command code, per message (SIP2 2.00).
REQUEST_FIXED = {
    "01": 19, "09": 37, "11": 38, "15": 19, "17": 18, "19": 18, "23": 21, "25": 18,
    "29": 38, "35": 18, "37": 25, "63": 31, "65": 18, "93": 2, "97": 0, "99": 8,
}  # fmt: skip
RESPONSE_FIXED = {
    "10": 22, "12": 22, "16": 20, "18": 24, "20": 19, "24": 35, "26": 35, "30": 22,
    "36": 19, "38": 19, "64": 59, "66": 27, "94": 1, "96": 0, "98": 34,
}  # fmt: skip
PATRON_FIELD = "AA"

_TRAILER = re.compile(rb"(?:AY([0-9])\|?)?AZ([0-9A-Fa-f]{1,4})\Z")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_SEQUENCE_ONLY = re.compile(rb"AY([0-9])\|?\Z")
_TAG = re.compile(rb"[A-Za-z]{2}")


@dataclass(frozen=True)
class WireOptions:
    """How the SC and the library system frame messages (configuration, checked at start)."""

    terminator: bytes = b"\r"  # b"\r" or b"\r\n"
    encoding: str = "utf-8"  # what field text must decode as; "cp932" for some Japanese systems
    require_checksum: bool = True  # refuse SC messages without AZ (error detection on)
    max_length: int = 4096  # bytes, terminator included


@dataclass(frozen=True)
class Message:
    """One parsed SIP2 message. ``spans`` are (tag, start, end) of each field value in ``body``."""

    raw: bytes = field(repr=False)
    code: str
    body: bytes = field(repr=False)  # without terminator
    spans: tuple[tuple[str, int, int], ...] = field(repr=False)
    sequence: str | None
    checksum_at: int | None  # offset of "AZ" in body, None without checksum
    checksum_ok: bool

    def value(self, tag: str) -> bytes | None:
        for name, start, end in self.spans:
            if name == tag:
                return self.body[start:end]
        return None

    def text(self, tag: str, encoding: str = "utf-8") -> str:
        value = self.value(tag)
        return "" if value is None else value.decode(encoding, "replace")


def checksum(data: bytes) -> bytes:
    """Four upper-case hex digits: two's complement of the 16-bit byte sum of ``data``."""
    return b"%04X" % (-sum(data) & 0xFFFF)


def parse(raw: bytes, wire: WireOptions, *, fixed: dict[str, int] = REQUEST_FIXED) -> Message:
    """``raw`` (terminator included) as a :class:`Message`, or ``MalformedMessage`` saying why.

    ``checksum_ok`` is False for a checksum that does not match; every other problem raises.
    """
    if len(raw) > wire.max_length:
        raise MalformedMessage("message too long")
    if not raw.endswith(wire.terminator):
        raise MalformedMessage("no terminator")
    body = raw[: len(raw) - len(wire.terminator)]
    if _CONTROL.search(body):
        raise MalformedMessage("control bytes inside the message")
    try:
        body.decode(wire.encoding)
    except UnicodeDecodeError:
        raise MalformedMessage(f"not {wire.encoding} text") from None
    code = body[:2].decode("ascii", "replace")
    if code not in fixed:
        raise MalformedMessage("unknown command code")
    start = 2 + fixed[code]
    if len(body) < start:
        raise MalformedMessage("fixed fields too short")
    if not body[:start].isascii():
        raise MalformedMessage("fixed fields not ASCII")
    end, sequence, checksum_at, checksum_ok = len(body), None, None, True
    trailer = _TRAILER.search(body, start)
    if trailer:
        checksum_at = trailer.start(2) - 2
        given = int(trailer.group(2), 16)
        checksum_ok = given == int(checksum(body[: checksum_at + 2]), 16)
        end = trailer.start()
        sequence = trailer.group(1).decode() if trailer.group(1) else None
    elif wire.require_checksum:
        raise MalformedMessage("no checksum")
    else:
        seq = _SEQUENCE_ONLY.search(body, start)
        if seq:
            end, sequence = seq.start(), seq.group(1).decode()
    spans: list[tuple[str, int, int]] = []
    pos = start
    while pos < end:
        stop = body.find(b"|", pos, end)
        stop = end if stop < 0 else stop
        if stop > pos:
            if not _TAG.fullmatch(body, pos, pos + 2):
                raise MalformedMessage("bad field identifier")
            spans.append((body[pos : pos + 2].decode("ascii"), pos + 2, stop))
        pos = stop + 1
    return Message(raw, code, body, tuple(spans), sequence, checksum_at, checksum_ok)


def splice(message: Message, changes: Sequence[tuple[int, int, bytes]], wire: WireOptions) -> bytes:
    """``message`` with body ranges replaced, its checksum recomputed if it had a valid one."""
    body = message.body
    for start, end, new in sorted(changes, reverse=True):
        body = body[:start] + new + body[end:]
    if message.checksum_at is not None and message.checksum_ok:
        at = message.checksum_at + len(body) - len(message.body)
        body = body[: at + 2] + checksum(body[: at + 2])
    return body + wire.terminator


def build(
    code: str,
    fixed: str,
    fields: Sequence[tuple[str, str]],
    wire: WireOptions,
    *,
    sequence: str | None = None,
    with_checksum: bool = True,
) -> bytes:
    """A message from parts (for local answers). Field values lose ``|`` and control chars."""
    text = code + fixed + "".join(f"{tag}{_clean(value)}|" for tag, value in fields)
    body = text.encode(wire.encoding, "replace")
    if sequence is not None:
        body += b"AY" + sequence.encode("ascii")
    if with_checksum:
        body += b"AZ"
        body += checksum(body)
    return body + wire.terminator


def _clean(value: str) -> str:
    return "".join(ch for ch in value if ch != "|" and ch.isprintable())


# -- routing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forward:
    """Send ``data`` to the library system; in its answer swap each (real, token) pair back."""

    data: bytes = field(repr=False)
    restore: tuple[tuple[bytes, bytes], ...] = field(default=(), repr=False)
    token: DayToken | None = None


@dataclass(frozen=True)
class Answer:
    """Answer the SC with ``data`` ourselves; nothing goes to the library system."""

    data: bytes = field(repr=False)
    reason: str  # "resend" (bad checksum) or a token verdict value


@dataclass(frozen=True)
class Reject:
    """Close the SC connection: the message is not SIP2 we can answer or forward."""

    reason: str


Decision = Forward | Answer | Reject


def route(raw: bytes, book: TokenBook, now: dt.datetime, wire: WireOptions) -> Decision:
    """What to do with one SC message. Mapping is per message, never per connection."""
    try:
        message = parse(raw, wire)
    except MalformedMessage as exc:
        return Reject(exc.detail)
    if not message.checksum_ok:
        return Answer(build("96", "", [], wire, with_checksum=True), "resend")
    patrons = [(start, end) for tag, start, end in message.spans if tag == PATRON_FIELD]
    if not patrons:
        return Forward(raw)
    if len(patrons) > 1:
        return Reject("more than one patron identifier")
    start, end = patrons[0]
    presented = message.body[start:end].decode(wire.encoding, "replace")
    resolution = book.resolve(presented, now)
    if resolution.verdict is Verdict.NOT_A_TOKEN:
        return Forward(raw)
    if resolution.verdict is Verdict.VALID:
        real = resolution.replacement.encode(wire.encoding)
        pairs = [(real, presented.encode(wire.encoding))]
        if resolution.token is not None and resolution.replacement != resolution.token.number.value:
            pairs.append((resolution.token.number.value.encode(), resolution.token.value.encode()))
        return Forward(splice(message, [(start, end, real)], wire), tuple(pairs), resolution.token)
    return Answer(refusal(message, resolution.verdict, now, wire), resolution.verdict.value)


def restore(raw: bytes, pairs: Sequence[tuple[bytes, bytes]], wire: WireOptions) -> bytes:
    """The library system's answer with each real number (standing alone) put back as token."""
    if not pairs:
        return raw
    lenient = replace(wire, require_checksum=False, max_length=max(len(raw), wire.max_length))
    try:
        message = parse(raw, lenient, fixed=RESPONSE_FIXED)
    except MalformedMessage:
        message = None
    if message is None:  # not SIP2 we understand: swap in the raw bytes, leave the rest alone
        out = raw
        for real, token in pairs:
            out = _bounded(real).sub(token, out)
        return out
    changes = []
    for _tag, start, end in message.spans:
        value = message.body[start:end]
        new = value
        for real, token in pairs:
            new = _bounded(real).sub(token, new)
        if new != value:
            changes.append((start, end, new))
    return splice(message, changes, lenient) if changes else raw


def _bounded(real: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![0-9A-Za-z])" + re.escape(real) + rb"(?![0-9A-Za-z])")


# -- local answers --------------------------------------------------------------------------------

SCREEN_KEYS = {
    Verdict.EXPIRED: "sip2.label.expired",
    Verdict.UNKNOWN: "sip2.label.expired",
    Verdict.MALFORMED: "sip2.label.unreadable",
}
# Until the catalogue has these keys (appliance/messages.py); the catalogue wins once it does.


def screen_lines(verdict: Verdict) -> tuple[str, str]:
    """The screen message (Japanese, English) for a refused token."""
    message = CATALOGUE[SCREEN_KEYS.get(verdict, "sip2.label.expired")]
    return message.ja, message.en


def sip_date(now: dt.datetime) -> str:
    """SIP2 date/time: YYYYMMDD, four blanks (local time), HHMMSS."""
    return now.strftime("%Y%m%d    %H%M%S")


def refusal(message: Message, verdict: Verdict, now: dt.datetime, wire: WireOptions) -> bytes:
    """The local answer to ``message`` whose patron identifier is not a valid token."""
    date = sip_date(now)
    ao = message.text("AO", wire.encoding)
    aa = message.text("AA", wire.encoding)
    screen = [("AF", line) for line in screen_lines(verdict)]
    denied = "YYYY" + " " * 10  # charge, renewal, recall and hold privileges denied
    language = message.body[2:5].decode("ascii") if message.code in ("23", "63") else "000"
    patron = [("AO", ao), ("AA", aa), ("AE", ""), ("BL", "N"), *screen]
    item = [("AB", message.text("AB", wire.encoding)), ("AJ", "")]
    code, fixed, fields = {
        "01": ("24", denied + "000" + date, patron),
        "23": ("24", denied + language + date, patron),
        "25": ("26", denied + "000" + date, patron),
        "63": ("64", denied + language + date + "0000" * 6, patron),
        "11": ("12", "0NUN" + date, [("AO", ao), ("AA", aa), *item, ("AH", ""), *screen]),
        "29": ("30", "0NUN" + date, [("AO", ao), ("AA", aa), *item, ("AH", ""), *screen]),
        "15": ("16", "0N" + date, [("AO", ao), ("AA", aa), *screen]),
        "35": ("36", "Y" + date, [("AO", ao), ("AA", aa), *screen]),
        "37": ("38", "N" + date, [("AO", ao), ("AA", aa), *screen]),
        "65": ("66", "0" + "0000" + "0000" + date, [("AO", ao), *screen]),
        "09": ("10", "0NUN" + date, [("AO", ao), *item[:1], *screen]),
        "17": ("18", "010001" + date, [*item, *screen]),
        "19": ("20", "0" + date, [*item[:1], *screen]),
    }.get(message.code, ("24", denied + "000" + date, patron))
    return build(
        code,
        fixed,
        fields,
        wire,
        sequence=message.sequence,
        with_checksum=message.checksum_at is not None,
    )


# -- status ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayStatus:
    """Counts only, for the technician screen and ``kioskctl doctor``."""

    listening: str  # host:port, "" when not serving
    upstream: str  # host:port of the library system
    upstream_reachable: bool | None  # None = not tried yet
    connections_open: int = 0
    connections_total: int = 0
    forwarded: int = 0
    answered_locally: int = 0
    rejected: int = 0
    tokens_issued_today: int = 0
    tokens_used_today: int = 0

    def summary(self) -> str:
        reachable = self.upstream_reachable
        reach = "not tried" if reachable is None else "reachable" if reachable else "UNREACHABLE"
        return (
            f"listening {self.listening or '-'}, library system {self.upstream} {reach}, "
            f"{self.connections_open} connections open ({self.connections_total} since start), "
            f"tokens issued {self.tokens_issued_today} used {self.tokens_used_today}, "
            f"forwarded {self.forwarded} answered {self.answered_locally} "
            f"rejected {self.rejected}"
        )

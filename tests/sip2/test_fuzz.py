"""Hostile SIP2 traffic: the gateway answers or closes, never crashes, never forwards garbage.

Over 10,000 malformed or hostile messages in all: bad checksums, missing terminators, huge
fields, binary bytes, invalid UTF-8, unknown codes, doubled or forged patron identifiers. Some go
through real sockets into the running gateway (with the ILS simulator behind it, which notes
anything a strict library system would refuse); the rest hit the pure routing rule directly.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.daytokens import TokenBook
from appliance.sip2 import (
    REQUEST_FIXED,
    RESPONSE_FIXED,
    Answer,
    Forward,
    MalformedMessage,
    Reject,
    WireOptions,
    checksum,
    parse,
    restore,
    route,
)
from tests.sip2.harness import POLICY, TODAY, card, real_number, running
from tests.sip2.ils import sip_checksum

WIRE = WireOptions()
SOCKET_EXAMPLES = 800  # x 3-10 messages each, over real sockets
PURE_EXAMPLES = 6000  # one message each, straight into route()
FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BOOK = TokenBook([POLICY])
YESTERDAY = BOOK.issue(card(2), TODAY - dt.timedelta(days=1))
TOKEN = BOOK.issue(card(1), TODAY)

patrons = st.sampled_from(
    [TOKEN.value, YESTERDAY.value, real_number(3), "", f"A{TOKEN.value}A", TOKEN.value[:-1] + "0"]
)
texts = st.text(st.characters(codec="utf-8", exclude_characters="|\r"), max_size=30)
binary = st.binary(max_size=60)


def sealed(body: bytes, seq: int | None = 1) -> bytes:
    """``body`` with sequence and a correct checksum, terminator not added."""
    if seq is not None:
        body += b"AY%d" % seq
    body += b"AZ"
    return body + checksum(body)


@st.composite
def well_formed(draw: st.DrawFn, table: dict[str, int] = REQUEST_FIXED) -> bytes:
    code = draw(st.sampled_from(sorted(table)))
    fixed = draw(st.text("YN0123456789 ", min_size=table[code], max_size=table[code]))
    fields = draw(
        st.lists(
            st.tuples(st.sampled_from(["AO", "AB", "AC", "AD", "AJ", "CH", "XX"]), texts),
            max_size=5,
        )
    )
    if draw(st.booleans()):
        patron = draw(patrons) if table is REQUEST_FIXED else real_number(1)
        fields.insert(draw(st.integers(0, len(fields))), ("AA", patron))
    text = code + fixed + "".join(f"{tag}{value}|" for tag, value in fields)
    return sealed(text.encode(), draw(st.one_of(st.none(), st.integers(0, 9))))


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    """One message body (no terminator) that is well formed, damaged or plain noise."""
    base = draw(well_formed())
    kind = draw(st.integers(0, 11))
    if kind == 0:  # bad checksum
        return base[:-4] + draw(st.sampled_from([b"0000", b"FFFF", b"zzzz", b"", b"12"]))
    if kind == 1:  # binary bytes inside, checksum made right again (or not)
        at = draw(st.integers(0, len(base)))
        body = base[:-4] + b""
        body = body[:at] + draw(binary) + body[at:]
        return sealed(body[:-2], None) if draw(st.booleans()) else body
    if kind == 2:  # a huge field
        size = draw(st.sampled_from([300, 4000, 5000, 70000]))
        return sealed(base[:2] + base[2:24] + b"AB" + b"x" * size + b"|")
    if kind == 3:  # noise
        return draw(st.binary(max_size=200))
    if kind == 4:  # invalid UTF-8 in a field, checksum right
        return sealed(base[:-8] + b"AJ\xff\xfe\xc3|")
    if kind == 5:  # unknown or non-numeric command code, checksum right
        return sealed(draw(st.sampled_from([b"00", b"42", b"98", b"\x00\x01", b"ab"])) + base[2:-8])
    if kind == 6:  # doubled patron identifier
        return sealed(base[:-8] + f"AA{TOKEN.value}|AA{real_number(4)}|".encode())
    if kind == 7:  # truncated
        return base[: draw(st.integers(0, len(base)))]
    if kind == 8:  # a stray LF (as from a CRLF machine talking to a CR gateway)
        return b"\n" + base
    return base  # well formed: forwarded or answered


def frames(draw_list: list[bytes]) -> list[bytes]:
    return [m.replace(b"\r", b"") + b"\r" for m in draw_list]


def read_line(sock: socket.socket) -> bytes | None:
    """One answer, or None when the gateway closed the connection."""
    data = b""
    while not data.endswith(b"\r"):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return None
        if not chunk:
            return None
        data += chunk
    return data


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_hostile_traffic_over_sockets_is_answered_or_closed_and_never_forwarded():
    errors = Errors()
    logging.getLogger("drivers.sip2").addHandler(errors)
    sent_frames: set[bytes] = set()
    counted = [0]
    try:
        with running(book=BOOK) as stack:

            @settings(FUZZ, max_examples=SOCKET_EXAMPLES)
            @given(messages=st.lists(hostile(), min_size=3, max_size=10), tail=st.booleans())
            def exchange(messages: list[bytes], tail: bool) -> None:
                batch = frames(messages)
                if tail:  # the last one never gets its terminator: the line just goes quiet
                    batch[-1] = batch[-1][:-1]
                sock: socket.socket | None = None
                for frame in batch:
                    counted[0] += 1
                    sent_frames.add(frame)
                    if sock is None:
                        sock = socket.create_connection(("127.0.0.1", stack.port), timeout=5)
                    try:
                        sock.sendall(frame)
                        if not frame.endswith(b"\r"):
                            sock.shutdown(socket.SHUT_WR)
                            assert read_line(sock) is None
                            answer = None
                        else:
                            answer = read_line(sock)
                    except (BrokenPipeError, ConnectionResetError):
                        answer = None
                    if answer is None:
                        sock.close()
                        sock = None
                    else:
                        assert answer[:2].decode() in RESPONSE_FIXED
                if sock is not None:
                    sock.close()

            exchange()
            received = list(stack.ils.received)
            problems = list(stack.ils.problems)
            # still serving after all that
            with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as sock:
                sock.sendall(sealed(f"17{TODAY:%Y%m%d}    103000AOX|AB1|".encode()) + b"\r")
                assert (read_line(sock) or b"").startswith(b"18")
    finally:
        logging.getLogger("drivers.sip2").removeHandler(errors)
    assert counted[0] >= 4000
    assert problems == []  # the ILS never saw anything a strict library system would refuse
    real = real_number(1).encode()
    tokens = {TOKEN.value, YESTERDAY.value, f"A{TOKEN.value}A", TOKEN.value[:-1] + "0"}
    for message in received[:-1]:
        assert message in sent_frames or real in message  # byte-exact, or today's token swapped
        checked = stack.ils.check(message)
        assert checked is not None
        assert not tokens & set(checked[1].get("AA", []))  # no token ever reached it as a patron
    assert errors.records == []


def independent_ok(message: bytes) -> bool:
    body = message.rstrip(b"\r")
    at = body.rfind(b"AZ")
    return at >= 0 and sip_checksum(body[: at + 2]) == body[at + 2 :].decode("ascii", "replace")


@settings(FUZZ, max_examples=PURE_EXAMPLES)
@given(message=hostile())
def test_route_never_raises_and_never_lets_garbage_through(message: bytes):
    raw = message.replace(b"\r", b"") + b"\r"
    decision = route(raw, BOOK, TODAY, WIRE)
    if isinstance(decision, Forward):
        forwarded = parse(decision.data, WIRE)  # well formed
        assert forwarded.checksum_ok and independent_ok(decision.data)
        assert decision.data == raw or decision.token is TOKEN
    elif isinstance(decision, Answer):
        answer = parse(decision.data, WIRE, fixed=RESPONSE_FIXED)
        assert answer.checksum_ok and independent_ok(decision.data)
    else:
        assert isinstance(decision, Reject) and decision.reason


@settings(FUZZ, max_examples=1500)
@given(answer=st.one_of(well_formed(RESPONSE_FIXED), hostile()), long=st.booleans())
def test_restore_never_raises_on_whatever_the_library_system_sends(answer: bytes, long: bool):
    raw = answer.replace(b"\r", b"") + b"\r"
    if long:
        raw = raw[:-1] + b"AGx" * 2000 + b"\r"
    real = real_number(1).encode()
    out = restore(raw, [(real, TOKEN.value.encode())], WIRE)
    assert out.endswith(b"\r")
    lenient = WireOptions(require_checksum=False, max_length=1 << 20)
    try:
        before = parse(raw, lenient, fixed=RESPONSE_FIXED)
    except MalformedMessage:
        return
    after = parse(out, lenient, fixed=RESPONSE_FIXED)
    assert after.checksum_ok == before.checksum_ok
    assert all(after.body[start:end] != real for _, start, end in after.spans)

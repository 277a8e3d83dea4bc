"""SIP2 messages and the routing rule, pure: no sockets."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from Sip2.sip2 import Sip2

from appliance.daytokens import TokenBook
from appliance.sip2 import (
    RESPONSE_FIXED,
    Answer,
    Forward,
    MalformedMessage,
    Reject,
    WireOptions,
    build,
    checksum,
    parse,
    restore,
    route,
)
from tests.sip2.harness import POLICY, TODAY, card, real_number
from tests.sip2.ils import sip_checksum

WIRE = WireOptions()
# The checksum example from the SIP2 2.00 text, as quoted by the ``sip2`` client.
SPEC = b"09N20160419    12200820160419    122008APReading Room 1|AO830|AB830$28170815|AC|AY2AZ"


def msg(text: str, seq: str = "1") -> bytes:
    body = f"{text}AY{seq}AZ".encode()
    return body + checksum(body) + b"\r"


def status_request(patron: str) -> bytes:
    return msg(f"23001{'20251125    103000'}AOMIDORI|AA{patron}|AC|AD|")


def test_checksum_matches_the_specification_example_and_an_independent_sum():
    assert checksum(SPEC) == b"EB80"
    assert checksum(b"941AY0AZ").decode() == sip_checksum(b"941AY0AZ")


def test_parse_finds_fields_sequence_and_checksum():
    m = parse(SPEC + b"EB80\r", WIRE)
    assert (m.code, m.sequence, m.checksum_ok) == ("09", "2", True)
    assert m.value("AP") == b"Reading Room 1" and m.value("AB") == b"830$28170815"
    assert m.value("AC") == b""


def test_an_unpadded_checksum_is_accepted_when_its_value_matches():
    # What the PyPI sip2 client sends for a (long) message whose checksum is below 0x1000.
    body = next(
        b
        for n in range(2000)
        if int(checksum(b := f"17{'20251125    103000'}AOX|AB{'x' * n}|AY1AZ".encode()), 16)
        < 0x1000
    )
    short = body + f"{int(checksum(body), 16):X}".encode() + b"\r"
    assert len(short) == len(body) + 4
    assert parse(short, WIRE).checksum_ok
    assert not parse(body + b"FFF\r", WIRE).checksum_ok


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"23001", "no terminator"),
        (b"2300120251125    103000AOX|AA1\x00|AY1AZ0000\r", "control bytes"),
        (b"42hello|AY1AZ0000\r", "unknown command code"),
        (b"23001AY1AZ0000\r", "fixed fields too short"),
        (b"2300120251125    103000AOX|\r", "no checksum"),
        (b"\xff\xfe23\r", "not utf-8 text"),
        (b"1720251125    103000AOX|%%bad|AY1AZ0000\r", "bad field identifier"),
    ],
)
def test_malformed_messages_say_why(raw, reason):
    with pytest.raises(MalformedMessage) as caught:
        parse(raw, WIRE)
    assert reason in caught.value.detail


def test_a_bad_checksum_asks_the_self_checkout_to_resend():
    raw = status_request(real_number(1))
    broken = raw[:-5] + (b"0000" if raw[-5:-1] != b"0000" else b"0001") + b"\r"
    decision = route(broken, TokenBook([POLICY]), TODAY, WIRE)
    assert isinstance(decision, Answer) and decision.data.startswith(b"96AZ")
    assert parse(decision.data, WIRE, fixed=RESPONSE_FIXED).checksum_ok


def test_a_real_card_number_is_forwarded_byte_exact():
    raw = status_request(real_number(1))
    assert route(raw, TokenBook([POLICY]), TODAY, WIRE) == Forward(raw)


def test_todays_token_is_swapped_checksum_recomputed_sequence_kept():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY)
    decision = route(
        msg(f"23001{'20251125    103000'}AOMIDORI|AA{token.value}|AC|", "7"), book, TODAY, WIRE
    )
    assert isinstance(decision, Forward)
    sent = parse(decision.data, WIRE)
    assert sent.value("AA") == real_number(1).encode()
    assert sent.sequence == "7" and sent.checksum_ok
    assert decision.restore == ((real_number(1).encode(), token.value.encode()),)


def test_two_patron_identifiers_in_one_message_are_refused():
    raw = msg(f"23001{'20251125    103000'}AOMIDORI|AA{real_number(1)}|AA{real_number(2)}|")
    assert isinstance(route(raw, TokenBook([POLICY]), TODAY, WIRE), Reject)


def test_restore_puts_the_token_back_only_where_the_real_number_stands_alone():
    real, token = real_number(1).encode(), b"9000000005"
    answer = msg(
        f"24{' ' * 14}001{'20251125    103000'}AOMIDORI|AA{real_number(1)}|AEName|"
        f"AGPatron {real_number(1)}|AB3{real_number(1)}|"
    )
    back = parse(restore(answer, [(real, token)], WIRE), WIRE, fixed=RESPONSE_FIXED)
    assert back.value("AA") == token and back.value("AG") == b"Patron " + token
    assert back.value("AB") == b"3" + real  # part of a longer number: left alone
    assert back.checksum_ok and back.sequence == "1"


def test_restore_leaves_an_answer_without_the_number_byte_exact():
    answer = msg(f"18030001{'20251125    103000'}AB301|AJTitle|")
    assert restore(answer, [(b"1000000016", b"9000000005")], WIRE) == answer


def test_refusals_read_correctly_in_an_independent_client():
    sc = Sip2()
    sc.log = logging.getLogger("tests.sip2.selfcheck")
    book = TokenBook([POLICY])
    old = book.issue(card(1), TODAY - dt.timedelta(days=1))
    decision = route(status_request(old.value), book, TODAY, WIRE)
    assert isinstance(decision, Answer) and decision.reason == "expired"
    parsed = sc.sip_patron_status_response(decision.data.decode())
    assert parsed["fixed"]["PatronStatus"].startswith("YYYY")
    assert parsed["variable"]["BL"] == ["N"] and parsed["variable"]["AA"] == [old.value]
    assert len(parsed["variable"]["AF"]) == 2


def test_build_keeps_field_separators_out_of_values():
    raw = build("24", " " * 14 + "000" + "20251125    103000", [("AF", "a|b\x07c")], WIRE)
    assert parse(raw, WIRE, fixed=RESPONSE_FIXED).value("AF") == b"abc"

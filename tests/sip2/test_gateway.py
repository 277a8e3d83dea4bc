"""The gateway between a real SIP2 client (PyPI ``sip2``) and an ILS simulator, on real sockets."""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import threading
from collections.abc import Callable

import pytest
from Sip2.sip2 import Sip2

from appliance.daytokens import DayToken, TokenBook
from appliance.ports import DeviceState
from drivers.sip2.status import read_status_file
from tests.sip2.harness import POLICY, TODAY, card, real_number, running, selfcheck
from tests.sip2.ils import DROP_ITEM, sip_checksum

ITEM = "301000000001"

# code -> (request builder, response parser name, carries the patron identifier AA)
REQUESTS: dict[str, tuple[Callable[[Sip2], str], str, bool]] = {
    "23": (lambda sc: sc.sip_patron_status_request(), "sip_patron_status_response", True),
    "63": (
        lambda sc: sc.sip_patron_information_request("charged"),
        "sip_patron_information_response",
        True,
    ),
    "11": (lambda sc: sc.sip_checkout_request(ITEM), "sip_checkout_response", True),
    "09": (lambda sc: sc.sip_checkin_request(ITEM), "sip_checkin_response", False),
    "17": (
        lambda sc: sc.sip_item_information_request(ITEM),
        "sip_item_information_response",
        False,
    ),
    "35": (lambda sc: sc.sip_end_patron_session_request(), "sip_end_patron_session_response", True),
    "93": (lambda sc: sc.sip_login_request("sc1", "secret"), "sip_login_response", False),
    "99": (lambda sc: sc.sip_sc_status_request(), "sip_sc_status_response", False),
    "29": (lambda sc: sc.sip_renew_request(ITEM), "sip_renew_response", True),
    "37": (lambda sc: sc.sip_fee_paid_request(1, 0, "100"), "sip_fee_paid_response", True),
}


def checksum_ok(message: str) -> bool:
    """Independent check of a response's AZ (the ILS simulator's own arithmetic)."""
    body = message.rstrip("\r\n").encode()
    match = re.search(rb"AZ([0-9A-F]{4})$", body)
    return bool(match) and sip_checksum(body[: match.start(1)]) == match.group(1).decode()


def sequence(message: str) -> str:
    match = re.search(r"AY(\d)", message)
    return match.group(1) if match else ""


def book_with_tokens() -> tuple[TokenBook, DayToken, DayToken]:
    """A book holding today's token for patron 1 and yesterday's for patron 2."""
    book = TokenBook([POLICY])
    yesterday = book.issue(card(2), TODAY - dt.timedelta(days=1))
    today = book.issue(card(1), TODAY)
    return book, today, yesterday


@pytest.mark.parametrize("code", list(REQUESTS))
def test_todays_token_reaches_the_library_as_the_real_number_and_comes_back_as_the_token(code):
    build, parse, has_patron = REQUESTS[code]
    book, token, _ = book_with_tokens()
    with running(book=book) as stack, selfcheck(stack.port, patron=token.value) as sc:
        request = build(sc)
        response = sc.get_response(request)
        upstream = stack.ils.received[-1].decode()
        if has_patron:
            assert f"AA{real_number(1)}|" in upstream
            assert token.value not in upstream
            assert real_number(1) not in response
            assert getattr(sc, parse)(response)["variable"]["AA"] == [token.value]
            assert sequence(upstream) == sequence(request) == sequence(response)
        else:
            assert upstream == request  # byte-exact
            assert response == stack.ils.sent[-1].decode()
        assert checksum_ok(response)
        assert stack.ils.problems == []


def test_every_place_the_real_number_appears_in_an_answer_gets_the_token_back():
    book, token, _ = book_with_tokens()
    with running(book=book) as stack, selfcheck(stack.port, patron=token.value) as sc:
        status = sc.sip_patron_status_response(sc.get_response(sc.sip_patron_status_request()))
        out = sc.sip_checkout_response(sc.get_response(sc.sip_checkout_request(ITEM)))
    assert status["variable"]["AG"] == [f"Patron {token.value}"]  # print line
    assert status["variable"]["BL"] == ["Y"]
    assert out["fixed"]["Ok"] == "1"
    assert out["variable"]["AF"] == [f"Checked out to {token.value}"]  # screen message


@pytest.mark.parametrize("code", [c for c, (_, _, has_patron) in REQUESTS.items() if has_patron])
def test_yesterdays_token_is_answered_locally_and_never_reaches_the_library(code):
    build, parse, _ = REQUESTS[code]
    book, _, yesterday = book_with_tokens()
    with running(book=book) as stack, selfcheck(stack.port, patron=yesterday.value) as sc:
        request = build(sc)
        response = sc.get_response(request)
        assert stack.ils.received == []
        assert stack.gateway.status().answered_locally == 1
    parsed = getattr(sc, parse)(response)
    assert response[:2] == {"23": "24", "63": "64", "11": "12", "35": "36", "29": "30"}.get(
        code, "38"
    )
    variable = parsed["variable"]
    assert variable["AA"] == [yesterday.value]
    japanese, english = variable["AF"]
    assert "ラベル" in japanese and "label" in english
    if code in ("23", "63"):
        assert variable["BL"] == ["N"]
    if code in ("11", "29"):
        assert parsed["fixed"]["Ok"] == "0"
    assert sequence(response) == sequence(request)
    assert checksum_ok(response)


def test_a_token_with_a_wrong_check_digit_or_unknown_today_is_answered_locally():
    book, token, _ = book_with_tokens()
    wrong_check = token.value[:-1] + str((int(token.value[-1]) + 1) % 10)
    unknown = POLICY.draw(TODAY.date(), lambda n: 12345 % n, [token.value])
    with running(book=book) as stack:
        for presented in (wrong_check, unknown):
            with selfcheck(stack.port, patron=presented) as sc:
                response = sc.get_response(sc.sip_checkout_request(ITEM))
                assert sc.sip_checkout_response(response)["fixed"]["Ok"] == "0"
        assert stack.ils.received == []


@pytest.mark.parametrize("patron", [real_number(3), ""], ids=["real-card", "no-patron"])
@pytest.mark.parametrize("code", list(REQUESTS))
def test_a_real_card_number_or_no_patron_passes_through_byte_exact(code, patron):
    build, _, _ = REQUESTS[code]
    book, _, _ = book_with_tokens()
    with running(book=book) as stack, selfcheck(stack.port, patron=patron) as sc:
        request = build(sc)
        response = sc.get_response(request)
        assert stack.ils.received == [request.encode()]
        assert stack.ils.sent == [response.encode()]


def test_several_self_checkout_machines_at_once_each_get_their_own_patron():
    book = TokenBook([POLICY])
    tokens = {n: book.issue(card(n), TODAY) for n in range(10, 18)}
    failures: list[str] = []

    def machine(n: int, port: int) -> None:
        token = tokens[n]
        try:
            with selfcheck(port, patron=token.value) as sc:
                for round_ in range(15):
                    item = f"3010000{n * 10 + round_ % 10:05d}"
                    status = sc.sip_patron_status_response(
                        sc.get_response(sc.sip_patron_status_request())
                    )
                    if status["variable"]["AE"] != [f"Patron {n}"]:
                        failures.append(f"{n}: got {status['variable']['AE']}")
                    if status["variable"]["AA"] != [token.value]:
                        failures.append(f"{n}: wrong AA")
                    sc.get_response(sc.sip_checkout_request(item))
                    sc.get_response(sc.sip_checkin_request(item))
        except Exception as exc:
            failures.append(f"{n}: {type(exc).__name__} {exc}")

    with running(book=book) as stack:
        threads = [threading.Thread(target=machine, args=(n, stack.port)) for n in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        status = stack.gateway.status()
        received = b"".join(stack.ils.received)
        problems = stack.ils.problems
    assert failures == []
    assert status.connections_total == len(tokens)
    assert status.tokens_used_today == len(tokens)
    assert status.forwarded == len(tokens) * 15 * 3
    assert not any(t.value.encode() in received for t in tokens.values())
    assert problems == []


def _raw_request(build: Callable[[Sip2], str], patron: str) -> bytes:
    sc = Sip2()
    sc.log = logging.getLogger("tests.sip2.selfcheck")
    sc.patron = patron
    sc.institutionId = "MIDORI"
    return build(sc).encode()


def _recv_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_the_library_dropping_mid_answer_closes_only_that_connection():
    book, token, _ = book_with_tokens()
    with running(book=book) as stack:
        with selfcheck(stack.port, patron=real_number(4)) as other:
            other.get_response(other.sip_patron_status_request())
            with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as raw:
                raw.sendall(
                    _raw_request(lambda sc: sc.sip_checkout_request(DROP_ITEM), token.value)
                )
                assert _recv_all(raw) == b""  # closed, and the half answer never passed
            # the other machine's connection carries on; a new connection works too
            assert other.get_response(other.sip_patron_status_request()).startswith("24")
        with selfcheck(stack.port, patron=token.value) as again:
            assert again.get_response(again.sip_checkout_request(ITEM)).startswith("121")
        assert stack.gateway.status().upstream_reachable is True


def test_crlf_terminated_messages_when_configured():
    book, token, _ = book_with_tokens()
    with (
        running(book=book, terminator=b"\r\n") as stack,
        selfcheck(stack.port, patron=token.value, terminator="\r\n") as sc,
    ):
        response = sc.get_response(sc.sip_patron_status_request())
        item = sc.get_response(sc.sip_item_information_request(ITEM))
        assert response.endswith("\r\n") and item.endswith("\r\n")
        assert sc.sip_patron_status_response(response)["variable"]["AA"] == [token.value]
        assert stack.ils.received[-1].endswith(b"\r\n")
        assert stack.ils.sent[-1] == item.encode()
        assert checksum_ok(response)


def test_tls_toward_the_library_system(tls_files):
    server_ctx, cafile = tls_files
    book, token, _ = book_with_tokens()
    with (
        running(
            book=book, ils_ssl=server_ctx, upstream_host="localhost", tls=True, cafile=cafile
        ) as stack,
        selfcheck(stack.port, patron=token.value) as sc,
    ):
        response = sc.get_response(sc.sip_patron_status_request())
        assert sc.sip_patron_status_response(response)["variable"]["AE"] == ["Patron 1"]
        assert f"AA{real_number(1)}|".encode() in stack.ils.received[-1]


def test_tls_refuses_a_library_system_it_cannot_verify(tls_files):
    server_ctx, _ = tls_files
    with (
        running(ils_ssl=server_ctx, upstream_host="localhost", tls=True) as stack,
        socket.create_connection(("127.0.0.1", stack.port), timeout=5) as raw,
    ):
        assert _recv_all(raw) == b""
        assert stack.gateway.device_status().state is DeviceState.FAULT


def test_status_counts_only_and_doctor_line(tmp_path):
    book, token, _ = book_with_tokens()
    status_file = tmp_path / "sip2-status.json"
    with running(book=book, status_path=str(status_file)) as stack:
        with selfcheck(stack.port, patron=token.value) as sc:
            sc.get_response(sc.sip_patron_status_request())
        status = stack.gateway.status()
        line = stack.gateway.device_status()
    assert (status.tokens_issued_today, status.tokens_used_today) == (1, 1)
    assert status.upstream_reachable is True and status.connections_total == 1
    assert line.state is DeviceState.OK and "tokens issued 1 used 1" in line.detail
    doctor = read_status_file(status_file)  # written on stop
    assert doctor.state is DeviceState.OK and "tokens issued 1 used 1" in doctor.detail
    text = status_file.read_text()
    assert token.value not in text and real_number(1) not in text


def test_doctor_says_fault_when_the_library_system_is_unreachable():
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with running(upstream_port=port) as stack:
        with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as raw:
            assert _recv_all(raw) == b""
        assert stack.gateway.device_status().state is DeviceState.FAULT
        assert "UNREACHABLE" in stack.gateway.device_status().detail


def test_doctor_without_a_running_gateway(tmp_path):
    assert read_status_file(tmp_path / "none.json").state is DeviceState.UNKNOWN


def test_a_resend_request_repeats_the_gateways_answer_not_the_librarys():
    book, token, _ = book_with_tokens()
    with running(book=book) as stack, selfcheck(stack.port, patron=token.value) as sc:
        first = sc.get_response(sc.sip_patron_status_request())
        again = sc.get_response(sc.sip_sc_resend_request())
        assert again == first and real_number(1) not in again
        assert [m[:2] for m in stack.ils.received] == [b"23"]  # the 97 never went upstream

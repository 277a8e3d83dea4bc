"""After a day of traffic, nothing the kiosk wrote holds a card number (or a token) in clear."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket

from appliance.daytokens import DayToken, TokenBook
from drivers.sip2.store import TokenStore, create_device_secret
from tests.sip2.harness import ITEMS, POLICY, TODAY, Clock, card, real_number, selfcheck, stack

PATRONS = range(40)


class KioskOnly(logging.Filter):
    """The kiosk's log: everything but the test's own self-checkout client."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("tests.", "Sip2"))


def a_patron_visit(port: int, patron: str, items: list[str]) -> None:
    with selfcheck(port, patron=patron) as sc:
        sc.get_response(sc.sip_login_request("sc1", "pw"))
        sc.get_response(sc.sip_sc_status_request())
        sc.get_response(sc.sip_patron_information_request("charged"))
        for item in items:
            sc.get_response(sc.sip_checkout_request(item))
        sc.get_response(sc.sip_end_patron_session_request())
        for item in items:
            sc.get_response(sc.sip_checkin_request(item))


def garbage(port: int) -> None:
    for junk in (b"\x00\xff" * 50 + b"\r", b"23" + b"9" * 5000 + b"\r", b"11 AA1000000016|\r"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            try:
                sock.sendall(junk)
                sock.recv(100)
            except ConnectionError:
                pass


def test_a_day_of_traffic_leaves_no_card_number_in_files_or_logs(tmp_path):
    data = tmp_path / "kiosk"
    data.mkdir()
    create_device_secret(data / "device-secret")
    clock = Clock(TODAY.replace(hour=9, minute=5))
    log_file = data / "kiosk.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.addFilter(KioskOnly())
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)

    kiosk = TokenStore(data / "sip2-tokens.bin", data / "device-secret", clock=clock)

    kiosk.set_policies([POLICY])  # at start-up, from the issuer configuration

    def issue(n: int) -> DayToken:
        return kiosk.issue(card(n))  # what printing a token label does

    yesterday = TokenBook([POLICY]).issue(card(99), TODAY - dt.timedelta(days=1))
    issued: list[DayToken] = []
    items = sorted(ITEMS)

    async def day() -> None:
        gateway_store = TokenStore(data / "sip2-tokens.bin", data / "device-secret", clock=clock)
        issue(0)  # the first label of the day, before the gateway starts
        async with stack(
            store=gateway_store,
            clock=clock,
            status_path=str(data / "sip2-status.json"),
            housekeeping_s=0.02,
        ) as s:
            for n in PATRONS:
                clock.now += dt.timedelta(minutes=15)
                token = issue(n)
                issued.append(token)
                patron = token.value if n % 5 else real_number(n)  # some bring their plastic card
                mine = items[n * 3 : n * 3 + 3]
                await asyncio.to_thread(a_patron_visit, s.port, patron, mine)
            await asyncio.to_thread(a_patron_visit, s.port, yesterday.value, items[:1])
            await asyncio.to_thread(garbage, s.port)
            await s.gateway.flush()
            clock.now = TODAY.replace(hour=20, minute=1)  # closing time: the day's tokens go
            for _ in range(250):  # housekeeping runs every 20 ms
                await asyncio.sleep(0.02)
                if not s.gateway.book.tokens():
                    break
            assert s.gateway.book.tokens() == ()
            assert s.gateway.status().tokens_used_today == len([n for n in PATRONS if n % 5])

    try:
        asyncio.run(day())
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()

    assert log_file.stat().st_size > 1000  # it did log: connections, codes, decisions
    secrets = {real_number(n) for n in [*PATRONS, 99]}
    tokens = {t.value for t in issued} | {yesterday.value}
    files = [p for p in data.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"kiosk.log", "sip2-tokens.bin", "sip2-status.json"}
    for path in files:
        blob = path.read_bytes()
        for value in secrets | (tokens if path.suffix in (".log", ".json") else set()):
            for form in (value.encode(), value.encode("utf-16-le"), f"A{value}A".encode()):
                assert form not in blob, f"{path.name} holds a number in clear"
    # and once the day is over the store itself forgot them
    assert (
        TokenStore(data / "sip2-tokens.bin", data / "device-secret", clock=clock).load().tokens()
        == ()
    )

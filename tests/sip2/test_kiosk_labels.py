"""Token labels end to end: the kiosk prints a day token, the gateway turns it into the real card.

The kiosk runs as ``make run`` wires it (real platform over HTTP, in-process virtual card, virtual
printer writing real ESC/POS bytes); the label's barcode is decoded by zbar and zxing-cpp; the
gateway shares the kiosk's encrypted token store and stands between the PyPI ``sip2`` client and
the ILS simulator, on real sockets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL import Image

from appliance.config import load_config
from appliance.daytokens import TokenUnavailable
from appliance.ports import DeviceState
from appliance.values import Pin
from drivers.sip2.kiosk import paths
from drivers.sip2.store import TokenStore
from server.demo import demo_registrations
from tests.sip2.harness import Clock, running, selfcheck
from tests.sip2.ils import Patron
from tests.support.barcodes import decode_both
from ui.wiring import Kiosk, build_kiosk

LOW, HIGH = "9000000000", "9999999999"  # the demo library's reserved range (10 digits + check)


def _kiosk(  # type: ignore[no-untyped-def]
    tmp_path: Path, platform_server, hours: str = "09:00-20:00", issuer: str = "000001"
) -> Kiosk:
    terminal = platform_server.add_terminal()
    config = load_config(
        {
            "data_dir": str(tmp_path / "kiosk"),
            "platform_url": platform_server.base_url,
            "terminal_id": terminal.terminal_id,
            "terminal_password": terminal.password,
            "token_issuer": issuer,
            "token_low": LOW,
            "token_high": HIGH,
            "token_hours": hours,
        }
    )
    return build_kiosk(config)


def _tap(kiosk: Kiosk, citizen: int, pin: str) -> tuple[str, ...]:
    assert kiosk.demo is not None
    kiosk.demo.tap(citizen)
    pending = kiosk.flow.begin(kiosk.config.card_timeout_s)
    return kiosk.flow.finish(pending, Pin(pin)).printed.artifacts


def test_a_token_label_reaches_the_library_system_as_the_real_card_number(
    tmp_path, platform_server
):
    real = {n: card for n, _issuer, card in demo_registrations()}[1]
    kiosk = _kiosk(tmp_path, platform_server, "00:00-23:59")
    try:
        artifacts = _tap(kiosk, 1, "1234")
        secret, store_path, _status = paths(kiosk.config)
        doctor = {status.part: status for status in kiosk.statuses()}
    finally:
        kiosk.close()
    assert list(doctor) == ["card reader", "printer", "platform", "sip2-gateway"]
    assert doctor["sip2-gateway"].state is DeviceState.UNKNOWN  # no gateway runs in this test
    png = next(p for p in artifacts if p.endswith(".png"))
    zbar, zxing = decode_both(Image.open(png))
    assert zbar == zxing and len(zbar) == 1
    printed = zbar[0]
    token = printed[1:-1]  # Codabar frame A...A, as the demo library's scanners send it
    assert printed[0] == printed[-1] == "A"
    assert LOW <= token <= HIGH and token != real
    for path in artifacts:
        assert real.encode() not in Path(path).read_bytes()
    assert real.encode() not in store_path.read_bytes()  # encrypted at rest

    gateway_store = TokenStore(store_path, secret)
    with (
        running(
            store=gateway_store,
            clock=Clock(dt.datetime.now()),
            ils_patrons={f"A{real}A": Patron("Demo 1")},  # its scanners send the frame
        ) as stack,
        selfcheck(stack.port, patron=printed) as sc,
    ):
        status = sc.sip_patron_status_response(sc.get_response(sc.sip_patron_status_request()))
        upstream = stack.ils.received[-1].decode()
    assert f"AAA{real}A|" in upstream  # the library system sees the real (framed) card number
    assert token not in upstream
    assert status["variable"]["AA"] == [printed]  # and the self-checkout gets its token back
    assert status["variable"]["BL"] == ["Y"]  # valid patron


def test_outside_the_token_hours_no_label_is_printed_and_the_patron_is_told(
    tmp_path, platform_server
):
    now = dt.datetime.now()
    hours = "13:00-14:00" if now.hour < 12 else "01:00-02:00"
    kiosk = _kiosk(tmp_path, platform_server, hours)
    try:
        with pytest.raises(TokenUnavailable) as caught:
            _tap(kiosk, 1, "1234")
        assert caught.value.key == "error.token.unavailable"
        assert list(kiosk.labels_dir.glob("*")) == []
    finally:
        kiosk.close()


def test_issuers_without_token_labels_keep_plain_card_number_labels(tmp_path, platform_server):
    kiosk = _kiosk(tmp_path, platform_server, issuer="999999")  # another library chose tokens
    try:
        artifacts = _tap(kiosk, 1, "1234")
    finally:
        kiosk.close()
    real = {n: card for n, _issuer, card in demo_registrations()}[1]
    png = next(p for p in artifacts if p.endswith(".png"))
    assert decode_both(Image.open(png)) == ([f"A{real}A"], [f"A{real}A"])


def test_token_settings_are_checked_together():
    from appliance.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        load_config(
            {"data_dir": "/x", "token_issuer": "000001", "token_low": "9x", "token_hours": "9-8"}
        )
    problems = "\n".join(caught.value.problems)
    assert "token_low" in problems and "token_high" in problems and "token_hours" in problems

"""The whole tap → label flow through the real PC/SC stack (pcscd + vpcd + pyscard)."""

from __future__ import annotations

import pytest
from PIL import Image

from appliance.errors import CardRemoved, NotJpkiCard, PinBlocked, WrongPin
from appliance.values import Pin
from drivers.card.virtual.card import CardKind
from tests.support.barcodes import decode_both
from tests.support.kiosk import demo_card_numbers
from ui.wiring import Kiosk


def _verifies(kiosk: Kiosk) -> int:
    assert kiosk.demo is not None and kiosk.demo.bridge is not None
    log = kiosk.demo.bridge.card.log
    return sum(1 for apdu in log if apdu[:4] == b"\x00\x20\x00\x80" and len(apdu) > 4)


def test_a_tap_prints_a_label_whose_barcode_reads_the_linked_card_number(
    pcsc_kiosk: Kiosk, platform_server
) -> None:
    assert pcsc_kiosk.demo is not None
    pcsc_kiosk.demo.tap(1)
    pending = pcsc_kiosk.flow.begin(5)
    outcome = pcsc_kiosk.flow.finish(pending, Pin("1234"))
    png = next(p for p in outcome.printed.artifacts if p.endswith(".png"))
    expected = f"A{demo_card_numbers(platform_server.db_path)[1]}A"
    zbar, zxing = decode_both(Image.open(png))
    assert zbar == [expected]
    assert zxing == [expected]


def test_wrong_pin_is_sent_once_and_reports_tries_left(pcsc_kiosk: Kiosk) -> None:
    assert pcsc_kiosk.demo is not None
    pcsc_kiosk.demo.tap(2)
    pending = pcsc_kiosk.flow.begin(5)
    with pytest.raises(WrongPin) as caught:
        pcsc_kiosk.flow.finish(pending, Pin("9999"))
    assert caught.value.tries_left == 2
    assert _verifies(pcsc_kiosk) == 1


def test_two_wrong_pins_then_the_right_one_resets_the_counter(pcsc_kiosk: Kiosk) -> None:
    assert pcsc_kiosk.demo is not None
    for _ in range(2):
        pcsc_kiosk.demo.tap(3)
        with pytest.raises(WrongPin):
            pcsc_kiosk.flow.finish(pcsc_kiosk.flow.begin(5), Pin("1111"))
    pcsc_kiosk.demo.tap(3)
    pending = pcsc_kiosk.flow.begin(5)
    assert pending.tries_left == 1
    pcsc_kiosk.flow.finish(pending, Pin("0000"))
    pcsc_kiosk.demo.tap(3)
    again = pcsc_kiosk.flow.begin(5)
    assert again.tries_left == 3
    again.wipe()  # a session left open would outlive the card in pcscd


def test_a_blocked_card_is_refused_without_sending_a_pin(pcsc_kiosk: Kiosk) -> None:
    assert pcsc_kiosk.demo is not None
    card = pcsc_kiosk.demo.card(2, CardKind.MY_NUMBER)
    card.counter.tries_left = 0
    pcsc_kiosk.demo.tap(2)
    with pytest.raises(PinBlocked):
        pcsc_kiosk.flow.begin(5)
    assert _verifies(pcsc_kiosk) == 0


def test_card_removed_while_the_certificate_is_read(pcsc_kiosk: Kiosk) -> None:
    assert pcsc_kiosk.demo is not None
    pcsc_kiosk.demo.tap(1)
    bridge = pcsc_kiosk.demo.bridge
    assert bridge is not None
    bridge.remove_after = 5  # select AP, select token, read token, select cert, read header
    with pytest.raises(CardRemoved):
        pcsc_kiosk.flow.begin(5)


def test_a_foreign_card_is_named_as_such(pcsc_kiosk: Kiosk) -> None:
    assert pcsc_kiosk.demo is not None
    pcsc_kiosk.demo.tap(1, CardKind.FOREIGN)
    with pytest.raises(NotJpkiCard):
        pcsc_kiosk.flow.begin(5)

"""The pyscard reader itself over the real PC/SC stack: what a real reader and card can do to it.

Each test names one thing that happens at a kiosk: a budget reader that cannot carry 256-byte
answers, a phone held to the reader, a card locked by three wrong PINs, the reader pulled out.
"""

from __future__ import annotations

import hashlib

import pytest

from appliance.errors import PhoneCertificate, PinBlocked, ReaderUnavailable, WrongPin
from appliance.ports import DeviceState
from appliance.proof import digest_info
from appliance.values import Pin
from drivers.card.pcsc import PcscReader, list_readers
from drivers.card.virtual.card import CardKind, VirtualJpkiCard
from drivers.card.virtual.inprocess import CardDeck
from drivers.card.virtual.pki import citizen
from tests.support.pcsc import FIRST_READER, PcscStack, VpcdSlot


def _read_sizes(card: VirtualJpkiCard) -> list[int]:
    return [a[4] or 256 for a in card.log if a[:2] == b"\x00\xb0"]


def _pins_sent(card: VirtualJpkiCard) -> int:
    return sum(1 for a in card.log if a[:4] == b"\x00\x20\x00\x80" and len(a) > 4)


def test_a_reader_choking_on_256_byte_answers_reads_in_smaller_chunks(
    vpcd_slot: VpcdSlot,
) -> None:
    card = CardDeck().card(1)
    card.le256_fails = True
    vpcd_slot.insert(card)
    reader = PcscReader(FIRST_READER)
    session = reader.connect(5)
    try:
        assert session.read_certificate() == citizen(1, "1234").certificate_der
    finally:
        session.close()
    sizes = _read_sizes(card)
    assert sizes.count(256) == 1 and max(sizes[sizes.index(256) + 1 :]) == 0xDF
    card.log.clear()
    session = reader.connect(5)  # the next patron: the reader remembers
    try:
        session.read_certificate()
    finally:
        session.close()
    assert 256 not in _read_sizes(card)


def test_a_phone_is_refused_unless_configured(vpcd_slot: VpcdSlot) -> None:
    vpcd_slot.insert(CardDeck().card(1, CardKind.PHONE))
    with pytest.raises(PhoneCertificate):
        PcscReader(FIRST_READER).connect(5)
    session = PcscReader(FIRST_READER, accept_phone=True).connect(5)
    try:
        assert session.token == "JPKIAPGPSETOKEN"
        assert session.read_certificate() == citizen(1, "1234").certificate_der
    finally:
        session.close()


def test_three_wrong_pins_block_the_card_and_then_no_pin_is_sent(vpcd_slot: VpcdSlot) -> None:
    card = CardDeck().card(2)
    reader = PcscReader(FIRST_READER)
    for left in (2, 1):
        vpcd_slot.insert(card)  # one tap per attempt: the kiosk never retries on its own
        session = reader.connect(5)
        try:
            with pytest.raises(WrongPin) as wrong:
                session.verify_pin(Pin("1111"))
            assert wrong.value.tries_left == left
        finally:
            session.close()
    vpcd_slot.insert(card)
    session = reader.connect(5)
    try:
        with pytest.raises(PinBlocked):
            session.verify_pin(Pin("1111"))
    finally:
        session.close()
    assert _pins_sent(card) == 3
    vpcd_slot.insert(card)  # the patron comes back: the tries are read, no PIN goes out
    session = reader.connect(5)
    try:
        assert session.pin_tries_left() == 0
    finally:
        session.close()
    assert _pins_sent(card) == 3


def test_the_reader_pulled_out_mid_session_is_a_card_error(
    pcscd: PcscStack, vpcd_slot: VpcdSlot
) -> None:
    if not pcscd.owned:
        pytest.fail("this test stops pcscd: stop the pcscd you started, the fixture owns its own")
    card = CardDeck().card(1)
    bridge = vpcd_slot.insert(card)
    reader = PcscReader(FIRST_READER)
    session = reader.connect(5)
    try:
        session.verify_pin(Pin("1234"))
        bridge.unplug()  # the USB reader leaves, card and all ...
        pcscd.stop()  # ... and with it the daemon's view of it
        with pytest.raises(ReaderUnavailable) as gone:
            session.sign(digest_info(hashlib.sha256(b"x").digest()))
        assert type(gone.value.__cause__).__module__.startswith("smartcard")  # translated
        assert gone.value.pcsc_code is not None
        with pytest.raises(ReaderUnavailable):
            list_readers()
        with pytest.raises(ReaderUnavailable):
            reader.connect(0.2)
        assert reader.status().state is DeviceState.FAULT
    finally:
        session.close()
        vpcd_slot.bridge = None
        pcscd.start()
    assert FIRST_READER in list_readers()  # and back: the next test finds the stack as it was

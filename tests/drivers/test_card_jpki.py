"""The JPKI session against the in-process virtual card: what the kiosk sends and refuses."""

from __future__ import annotations

import hashlib

import pytest

from appliance.errors import (
    CardRemoved,
    MalformedAnswer,
    NoCard,
    NotJpkiCard,
    PhoneCertificate,
    PinBlocked,
    WrongPin,
)
from appliance.proof import digest_info
from appliance.values import Pin
from drivers.card.apdu import JPKI_AID, ApduChannel, Command, ForbiddenSelect
from drivers.card.virtual.card import CardKind
from drivers.card.virtual.inprocess import CardDeck, VirtualReader
from drivers.card.virtual.pki import citizen

FORBIDDEN_AIDS = [
    bytes.fromhex("D3921000310001010408"),  # card-surface input assist (holds the My Number)
    bytes.fromhex("D3921000310001010402"),  # card-surface confirmation
    bytes.fromhex("D3921000310001010100"),  # resident registry
]


@pytest.fixture
def deck() -> CardDeck:
    return CardDeck()


def _session(deck: CardDeck, number: int = 1, kind: CardKind = CardKind.MY_NUMBER, **kw: object):
    reader = VirtualReader(**kw)  # type: ignore[arg-type]
    card = deck.card(number, kind)
    reader.slot.insert(card)
    return reader, card


def _verifies(card) -> int:
    return sum(1 for apdu in card.log if apdu[:4] == b"\x00\x20\x00\x80" and len(apdu) > 4)


def test_reads_the_user_authentication_certificate_without_a_pin(deck: CardDeck) -> None:
    reader, card = _session(deck)
    session = reader.connect(1)
    assert session.read_certificate() == citizen(1, "1234").certificate_der
    assert session.token == "JPKIAPICCTOKEN2"
    assert _verifies(card) == 0


def test_signature_verifies_with_the_certificate_key(deck: CardDeck) -> None:
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from cryptography.hazmat.primitives.hashes import SHA256

    reader, _ = _session(deck)
    session = reader.connect(1)
    session.verify_pin(Pin("1234"))
    digest = hashlib.sha256(b"challenge").digest()
    signature = session.sign(digest_info(digest))
    citizen(1, "1234").certificate.public_key().verify(  # type: ignore[call-arg]
        signature, digest, PKCS1v15(), Prehashed(SHA256())
    )


def test_wrong_pin_reports_tries_left_and_sends_verify_once(deck: CardDeck) -> None:
    reader, card = _session(deck)
    session = reader.connect(1)
    with pytest.raises(WrongPin) as caught:
        session.verify_pin(Pin("9999"))
    assert caught.value.tries_left == 2
    assert _verifies(card) == 1
    assert session.pin_tries_left() == 2  # reading the counter spends nothing
    assert _verifies(card) == 1


def test_right_pin_resets_the_counter(deck: CardDeck) -> None:
    reader, _ = _session(deck)
    session = reader.connect(1)
    with pytest.raises(WrongPin):
        session.verify_pin(Pin("9999"))
    session.verify_pin(Pin("1234"))
    assert session.pin_tries_left() == 3


def test_three_wrong_pins_across_taps_block_the_card(deck: CardDeck) -> None:
    for expected in (2, 1):
        reader, _ = _session(deck)
        with pytest.raises(WrongPin) as caught:
            reader.connect(1).verify_pin(Pin("0001"))
        assert caught.value.tries_left == expected
    reader, _ = _session(deck)
    with pytest.raises(PinBlocked) as blocked:  # 63C0: the third wrong PIN blocks
        reader.connect(1).verify_pin(Pin("0001"))
    assert blocked.value.sw == 0x63C0
    reader, _ = _session(deck)
    session = reader.connect(1)
    assert session.pin_tries_left() == 0
    with pytest.raises(PinBlocked):
        session.verify_pin(Pin("1234"))


def test_signing_without_verify_is_refused(deck: CardDeck) -> None:
    from appliance.errors import CardError

    reader, _ = _session(deck)
    with pytest.raises(CardError) as caught:
        reader.connect(1).sign(digest_info(bytes(32)))
    assert caught.value.sw == 0x6982


def test_a_card_without_jpki_is_not_a_my_number_card(deck: CardDeck) -> None:
    reader, _ = _session(deck, kind=CardKind.FOREIGN)
    with pytest.raises(NotJpkiCard) as caught:
        reader.connect(1)
    assert caught.value.sw == 0x6A82


def test_phone_certificates_are_refused_unless_configured(deck: CardDeck) -> None:
    reader, _ = _session(deck, kind=CardKind.PHONE)
    with pytest.raises(PhoneCertificate):
        reader.connect(1)
    reader, _ = _session(deck, kind=CardKind.PHONE, accept_phone=True)
    assert reader.connect(1).token == "JPKIAPGPSETOKEN"


def test_a_card_answering_garbage_gives_a_card_error(deck: CardDeck) -> None:
    from appliance.errors import CardError

    reader, _ = _session(deck, kind=CardKind.GARBAGE)
    with pytest.raises(CardError):
        reader.connect(1).read_certificate()


def test_card_pulled_away_mid_certificate(deck: CardDeck) -> None:
    reader, _ = _session(deck)
    session = reader.connect(1)
    reader.slot.remove_after = 4  # select EF, read header, then two chunks
    with pytest.raises(CardRemoved):
        session.read_certificate()


def test_no_card_on_the_reader() -> None:
    with pytest.raises(NoCard):
        VirtualReader().connect(0.01)


def test_small_chunks_read_the_same_certificate(deck: CardDeck) -> None:
    reader, _ = _session(deck, chunk=0xDF)
    assert reader.connect(1).read_certificate() == citizen(1, "1234").certificate_der


@pytest.mark.parametrize("aid", FORBIDDEN_AIDS)
def test_my_number_applications_can_never_be_selected(aid: bytes) -> None:
    sent: list[bytes] = []

    class Recorder:
        def transmit(self, apdu: bytes) -> bytes:
            sent.append(apdu)
            return b"\x90\x00"

    channel = ApduChannel(Recorder())
    with pytest.raises(ForbiddenSelect):
        channel.send(Command(0x00, 0xA4, 0x04, 0x0C, aid))
    assert sent == []
    channel.send(Command(0x00, 0xA4, 0x04, 0x0C, JPKI_AID))
    assert len(sent) == 1


def test_a_truncated_answer_is_malformed() -> None:
    class Short:
        def transmit(self, apdu: bytes) -> bytes:
            return b"\x90"

    with pytest.raises(MalformedAnswer):
        ApduChannel(Short()).send(Command(0x00, 0xA4, 0x04, 0x0C, JPKI_AID))


def test_pin_never_appears_in_repr() -> None:
    pin = Pin("1234")
    assert "1234" not in repr(pin) and "1234" not in str(pin)
    with pytest.raises(ValueError):
        Pin("12a4")


def _read_sizes(card) -> list[int]:  # type: ignore[no-untyped-def]
    return [a[4] or 256 for a in card.log if a[:2] == b"\x00\xb0"]


def test_a_reader_choking_on_256_byte_answers_falls_back_and_remembers(deck: CardDeck) -> None:
    reader, card = _session(deck)
    card.le256_fails = True
    session = reader.connect(1)
    assert session.read_certificate() == citizen(1, "1234").certificate_der
    sizes = _read_sizes(card)
    assert sizes.count(256) == 1  # one failed 256-byte read, then smaller chunks
    assert max(sizes[sizes.index(256) + 1 :]) == 0xDF
    session.close()
    card.log.clear()
    reader.slot.insert(card)  # the next patron, same reader: no failed read any more
    reader.connect(1).read_certificate()
    assert 256 not in _read_sizes(card)


def test_the_apdu_repr_never_shows_a_pin() -> None:
    from drivers.card import apdu

    command = apdu.verify(b"8642")
    assert "8642" not in repr(command) and "8642" not in str(command)
    assert b"8642" in command.to_bytes()  # the card still gets it


def test_a_card_pulled_away_mid_read_does_not_shrink_the_reader_chunk(deck: CardDeck) -> None:
    reader, card = _session(deck)
    session = reader.connect(1)
    reader.slot.remove_after = 2  # select EF, read header, then gone at the first 256 chunk
    with pytest.raises(CardRemoved):
        session.read_certificate()
    session.close()
    card.log.clear()
    reader.slot.insert(card)
    reader.connect(1).read_certificate()
    assert 256 in _read_sizes(card)


def test_a_pin_appears_in_no_log_exception_or_repr(
    deck: CardDeck, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    reader, card = _session(deck)
    card.le256_fails = True  # the fallback path logs too
    session = reader.connect(1)
    session.read_certificate()
    with pytest.raises(WrongPin) as caught:
        session.verify_pin(Pin("8642"))
    seen = " ".join(
        [caplog.text, str(caught.value), repr(caught.value), repr(session), repr(card)]
        + [repr(a) for a in caught.value.args]
    )
    for spelling in ("8642", "38363432", "38 36 34 32"):  # digits, and as APDU hex
        assert spelling not in seen
    assert caplog.records  # something was logged, and it was checked

"""The tap flow's rules, with the in-process virtual card and small recording fakes."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.errors import CardNotRegistered, PinBlocked, WrongPin
from appliance.flow import TapFlow
from appliance.ports import DeviceState, DeviceStatus
from appliance.values import (
    CardNumber,
    CardProof,
    Challenge,
    CheckScheme,
    Issuer,
    LabelJob,
    LookupMatch,
    Pin,
    PrintedLabel,
)
from drivers.card.virtual.inprocess import CardDeck, VirtualReader

LIBRARY = Issuer("000001", "川崎市立図書館", check=CheckScheme.MOD10_W21, lengths=(10,))


class FakePlatform:
    def __init__(self, linked: bool = True) -> None:
        self.linked = linked
        self.proofs: list[CardProof] = []

    def challenge(self, purpose: str = "lookup") -> Challenge:
        return Challenge(b"n" * 32, "00052459", purpose)

    def lookup(self, proof: CardProof) -> list[LookupMatch]:
        self.proofs.append(proof)
        return [LookupMatch(CardNumber(LIBRARY, "1800000000"))] if self.linked else []

    def status(self) -> DeviceStatus:
        return DeviceStatus("platform", DeviceState.OK, "fake")


class FakePrinter:
    def __init__(self) -> None:
        self.jobs: list[LabelJob] = []

    def print_label(self, job: LabelJob) -> PrintedLabel:
        self.jobs.append(job)
        return PrintedLabel(job.job_id)

    def status(self) -> DeviceStatus:
        return DeviceStatus("printer", DeviceState.OK, "fake")


class Outbox:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, str | int]]] = []

    def record(self, kind: str, **fields: str | int) -> None:
        self.events.append((kind, fields))


class Clock:
    def today(self) -> dt.date:
        return dt.date(2026, 11, 25)


def _flow(platform: FakePlatform | None = None):  # type: ignore[no-untyped-def]
    reader = VirtualReader()
    deck = CardDeck()
    parts = {
        "reader": reader,
        "platform": platform or FakePlatform(),
        "printer": FakePrinter(),
        "outbox": Outbox(),
        "clock": Clock(),
    }
    return TapFlow(**parts), parts, reader, deck  # type: ignore[arg-type]


def test_a_linked_card_prints_one_label_dated_today() -> None:
    flow, parts, reader, deck = _flow()
    reader.slot.insert(deck.card(1))
    outcome = flow.finish(flow.begin(1), Pin("1234"))
    assert [j.issued_on for j in parts["printer"].jobs] == ["2026-11-25"]
    assert outcome.match.number.value == "1800000000"
    assert parts["outbox"].events == [("label_printed", {"issuer_id": "000001", "label": "card"})]


def test_the_card_signs_the_platform_challenge() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from cryptography.hazmat.primitives.hashes import SHA256

    from appliance.proof import challenge_digest

    flow, parts, reader, deck = _flow()
    reader.slot.insert(deck.card(1))
    flow.finish(flow.begin(1), Pin("1234"))
    proof = parts["platform"].proofs[0]
    key = x509.load_der_x509_certificate(proof.certificate).public_key()
    digest = challenge_digest(Challenge(proof.nonce, "00052459", "lookup"))
    key.verify(proof.signature, digest, PKCS1v15(), Prehashed(SHA256()))  # type: ignore[union-attr,call-arg]


def test_a_wrong_pin_ends_the_attempt_and_the_session_is_wiped() -> None:
    flow, parts, reader, deck = _flow()
    reader.slot.insert(deck.card(1))
    pending = flow.begin(1)
    with pytest.raises(WrongPin):
        flow.finish(pending, Pin("0000"))
    assert pending.session is None and pending.read is None and pending.challenge is None
    assert parts["printer"].jobs == []
    with pytest.raises(ValueError):
        flow.finish(pending, Pin("1234"))  # a used tap cannot send a second PIN


def test_an_unlinked_card_prints_nothing() -> None:
    flow, parts, reader, deck = _flow(FakePlatform(linked=False))
    reader.slot.insert(deck.card(4))
    with pytest.raises(CardNotRegistered):
        flow.finish(flow.begin(1), Pin("4321"))
    assert parts["printer"].jobs == []


def test_a_blocked_card_is_refused_before_the_pin_pad() -> None:
    flow, _, reader, deck = _flow()
    card = deck.card(1)
    card.counter.tries_left = 0
    reader.slot.insert(card)
    with pytest.raises(PinBlocked):
        flow.begin(1)

"""``kioskctl card-info`` as a technician runs it: a real process, pcscd, vpcd, a card on it."""

from __future__ import annotations

import subprocess
import sys

from appliance.messages import CATALOGUE
from drivers.card.virtual.card import CardKind, VirtualJpkiCard
from drivers.card.virtual.inprocess import CardDeck
from drivers.card.virtual.pki import citizen
from tests.support.pcsc import FIRST_READER, VpcdSlot


def _card_info() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", "card-info", "--reader", FIRST_READER, "--timeout", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _fields(out: str) -> dict[str, list[str]]:
    return {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()}


def _pins_sent(card: VirtualJpkiCard) -> int:
    return sum(1 for a in card.log if a[:4] == b"\x00\x20\x00\x80" and len(a) > 4)


def test_prints_token_serial_validity_and_tries_without_a_pin(vpcd_slot: VpcdSlot) -> None:
    card = CardDeck().card(2)
    card.counter.tries_left = 2  # one wrong PIN on an earlier visit
    vpcd_slot.insert(card)
    done = _card_info()
    assert done.returncode == 0, done.stderr
    fields = _fields(done.stdout)
    cert = citizen(2, "2580").certificate
    assert fields["token"][0] == "JPKIAPICCTOKEN2"
    assert "My Number Card" in fields["token"][1]
    assert fields["serial"] == [f"{cert.serial_number:X}"]
    assert fields["not_before"] == [f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC"]
    assert fields["not_after"] == [f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC"]
    assert fields["pin_tries_left"] == ["2"]
    assert _pins_sent(card) == 0
    assert card.counter.tries_left == 2


def test_a_blocked_card_says_so(vpcd_slot: VpcdSlot) -> None:
    card = CardDeck().card(3)
    card.counter.tries_left = 0
    vpcd_slot.insert(card)
    done = _card_info()
    assert done.returncode == 0, done.stderr
    assert _fields(done.stdout)["pin_tries_left"] == ["0 (blocked)"]


def test_names_a_phone_token(vpcd_slot: VpcdSlot) -> None:
    vpcd_slot.insert(CardDeck().card(1, CardKind.PHONE))
    done = _card_info()
    assert done.returncode == 0, done.stderr
    assert _fields(done.stdout)["token"][0] == "JPKIAPGPSETOKEN"


def test_a_foreign_card_is_named_in_both_languages(vpcd_slot: VpcdSlot) -> None:
    vpcd_slot.insert(CardDeck().card(1, CardKind.FOREIGN))
    done = _card_info()
    assert done.returncode == 1
    message = CATALOGUE["cardinfo.foreign"]
    assert message.ja in done.stderr and message.en in done.stderr
    assert done.stdout == ""


def test_a_card_answering_garbage_is_unreadable_not_a_crash(vpcd_slot: VpcdSlot) -> None:
    vpcd_slot.insert(CardDeck().card(1, CardKind.GARBAGE))
    done = _card_info()
    assert done.returncode == 1
    assert CATALOGUE["error.card.unreadable"].en in done.stderr
    assert "Traceback" not in done.stderr


def test_no_card_on_the_reader(vpcd_slot: VpcdSlot) -> None:
    vpcd_slot.remove()
    done = _card_info()
    assert done.returncode == 3
    message = CATALOGUE["cardinfo.none"]
    assert message.ja in done.stderr and message.en in done.stderr

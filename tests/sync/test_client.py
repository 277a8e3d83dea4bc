"""PlatformClient against the real reference platform: the ``Platform`` port over HTTP."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.errors import CardRejected, PlatformUnreachable, TerminalRejected
from appliance.ports import DeviceState, Platform
from appliance.proof import challenge_digest, digest_info
from appliance.values import CardProof, Challenge, CheckScheme, Handover, Pin, Symbology
from drivers.card.virtual.demo import demo_citizen
from drivers.card.virtual.inprocess import CardDeck, VirtualReader
from server.demo import DEMO_TERMINAL, demo_card_number
from sync.client import ChallengeRefused, PlatformClient
from tests.support.platform import (
    PlatformServer,
    demo_client,
    fake_fingerprint,
    free_port,
    running_platform,
)


def _proof(challenge: Challenge, citizen: int, *, signer: int | None = None) -> CardProof:
    """What the card returns: its certificate, and its signature over the challenge digest."""
    key = demo_citizen(signer or citizen).credentials().key
    signature = key.sign(challenge_digest(challenge), PKCS1v15(), Prehashed(SHA256()))
    certificate = demo_citizen(citizen).credentials().certificate_der
    return CardProof(certificate, challenge.nonce, signature)


def test_it_is_the_cores_platform_port(platform_client: PlatformClient) -> None:
    platform: Platform = platform_client
    assert platform.status().state is DeviceState.OK


def test_issuers_arrive_as_the_cores_values(platform_client: PlatformClient) -> None:
    (library,) = platform_client.issuers()
    assert library.issuer_id == "000001" and library.name == "川崎市立図書館"
    assert library.symbology is Symbology.CODABAR and library.check is CheckScheme.MOD10_W21
    assert library.lengths == (10,) and library.handover is Handover.LABEL and library.pin_required


def test_a_challenge_is_bound_to_this_terminal(platform_client: PlatformClient) -> None:
    challenge = platform_client.challenge()
    assert len(challenge.nonce) == 32
    assert challenge.terminal_id == platform_client.terminal_id
    assert challenge.purpose == "lookup"


def test_a_linked_card_gives_a_checked_card_number(platform_client: PlatformClient) -> None:
    (match,) = platform_client.lookup(_proof(platform_client.challenge(), 2))
    assert match.number.value == demo_card_number(2)
    assert match.number.issuer.issuer_id == "000001"
    assert match.number.barcode_data() == f"A{demo_card_number(2)}A"
    assert match.card_valid and not match.address_changed


def test_the_virtual_cards_own_signature_is_accepted(platform_client: PlatformClient) -> None:
    reader = VirtualReader()
    reader.slot.insert(CardDeck().card(3))
    session = reader.connect(timeout=1)
    try:
        certificate = session.read_certificate()
        challenge = platform_client.challenge()
        session.verify_pin(Pin(demo_citizen(3).pin))
        signature = session.sign(digest_info(challenge_digest(challenge)))
    finally:
        session.close()
    (match,) = platform_client.lookup(CardProof(certificate, challenge.nonce, signature))
    assert match.number.value == demo_card_number(3)


def test_an_unlinked_card_gives_no_match(platform_client: PlatformClient) -> None:
    assert platform_client.lookup(_proof(platform_client.challenge(), 4)) == []


def test_a_proof_the_platform_refuses_is_card_rejected(platform_client: PlatformClient) -> None:
    with pytest.raises(CardRejected):
        platform_client.lookup(_proof(platform_client.challenge(), 1, signer=2))


def test_a_used_challenge_is_challenge_refused(platform_client: PlatformClient) -> None:
    proof = _proof(platform_client.challenge(), 1)
    platform_client.lookup(proof)
    with pytest.raises(ChallengeRefused):
        platform_client.lookup(proof)


def test_events_are_delivered_and_a_repeat_is_harmless(
    platform_client: PlatformClient, platform_server: PlatformServer
) -> None:
    platform_client.send_event("k" * 32, "label_printed", {"issuer_id": "000001"})
    platform_client.send_event("k" * 32, "label_printed", {"issuer_id": "000001"})
    conn = sqlite3.connect(platform_server.db_path)
    try:
        (count,) = conn.execute(
            "SELECT count(*) FROM events WHERE terminal_id = ? AND kind = 'label_printed'",
            (platform_client.terminal_id,),
        ).fetchone()
    finally:
        conn.close()
    assert count == 1


def test_the_outbox_flushes_through_the_client(
    platform_client: PlatformClient, tmp_path: Path
) -> None:
    from sync.store import LocalStore

    with LocalStore(tmp_path / "kiosk.sqlite") as store:
        store.record("lookup_unregistered")
        store.record("label_printed", issuer_id="000001")
        assert store.flush(platform_client) == 2
        assert store.pending() == []


def test_a_wrong_password_is_terminal_rejected(platform_server: PlatformServer) -> None:
    terminal = platform_server.add_terminal()
    wrong = terminal._replace(password="wrong")
    with platform_server.client(wrong, fake_fingerprint()) as client:
        with pytest.raises(TerminalRejected):
            client.challenge()
        status = client.status()
    assert status.state is DeviceState.FAULT and status.part == "platform"


def test_another_board_is_terminal_rejected(platform_server: PlatformServer) -> None:
    terminal = platform_server.add_terminal()
    with platform_server.client(terminal, fake_fingerprint("original")) as original:
        original.issuers()
    with platform_server.client(terminal, fake_fingerprint("replacement")) as replacement:
        with pytest.raises(TerminalRejected, match="register again"):
            replacement.issuers()


def test_an_expired_session_is_renewed_once_without_the_caller_noticing(
    platform_client: PlatformClient, platform_server: PlatformServer
) -> None:
    platform_client.issuers()
    conn = sqlite3.connect(platform_server.db_path)
    try:
        with conn:
            conn.execute(
                "DELETE FROM sessions WHERE terminal_id = ?", (platform_client.terminal_id,)
            )
    finally:
        conn.close()
    assert platform_client.issuers()[0].issuer_id == "000001"


def test_the_demo_terminal_signs_in_with_this_boards_fingerprint(
    platform_server: PlatformServer,
) -> None:
    with demo_client(platform_server) as client:
        assert client.terminal_id == DEMO_TERMINAL.terminal_id
        assert client.status().state is DeviceState.OK


def test_nothing_listening_is_platform_unreachable() -> None:
    with PlatformClient(
        f"http://127.0.0.1:{free_port()}", "00000001", "pw", fake_fingerprint(), timeout=1.0
    ) as client:
        with pytest.raises(PlatformUnreachable):
            client.challenge()
        assert client.status().state is DeviceState.FAULT


def test_a_platform_that_stops_is_platform_unreachable(tmp_path: Path) -> None:
    with running_platform(tmp_path / "short-lived") as server:
        client = server.client(DEMO_TERMINAL, fake_fingerprint(), timeout=2.0)
        challenge = client.challenge()
    try:
        with pytest.raises(PlatformUnreachable):
            client.lookup(_proof(challenge, 1))
        with pytest.raises(PlatformUnreachable):
            client.challenge()
        status = client.status()
        assert status.state is DeviceState.FAULT and "error.platform.down" in status.detail
    finally:
        client.close()


def test_status_names_the_libraries_served_and_warns_when_there_are_none(
    platform_server: PlatformServer,
) -> None:
    with platform_server.client(platform_server.add_terminal(), fake_fingerprint()) as client:
        status = client.status()
        assert (status.state, status.part) == (DeviceState.OK, "platform")
        assert "000001" in status.detail
    lonely = platform_server.add_terminal(issuer_id=None)
    with platform_server.client(lonely, fake_fingerprint()) as client:
        assert client.status().state is DeviceState.WARNING

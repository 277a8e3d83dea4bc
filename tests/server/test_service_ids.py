"""Service-ID registration at the counter: the patron's card proof, the library card number
checked with the library's own rules, clear refusals, deletion; over HTTP and through the
kiosk's client. The shared demo platform serves library 000001 (mod10w21, 10 digits)."""

from __future__ import annotations

import random
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.checkdigits import compute
from appliance.checkdigits import problems as kiosk_problems
from appliance.errors import ServiceIdRefused
from appliance.messages import CATALOGUE
from appliance.proof import challenge_digest
from appliance.values import CardProof, CheckScheme, Issuer, Symbology
from drivers.card.virtual.pki import CitizenCredentials
from server import cardrules
from server.demo import DEMO_ISSUER_ID, TerminalCredentials
from sync.client import PlatformClient
from tests.server.helpers import card_proof, give_mykey_id, new_card, new_card_number
from tests.support.platform import PlatformServer

pytestmark = pytest.mark.both_databases


@pytest.fixture
def patron(platform_server: PlatformServer) -> CitizenCredentials:
    """A card with a MyKey ID and no library card yet."""
    card = new_card()
    give_mykey_id(platform_server.db_path, card)
    return card


def _register(
    api: httpx.Client,
    auth: dict[str, str],
    tid: str,
    card: CitizenCredentials,
    number: str,
    *,
    issuer_id: str = DEMO_ISSUER_ID,
    key: str | None = None,
    body: dict[str, object] | None = None,
) -> httpx.Response:
    body = body or {
        **card_proof(api, auth, tid, card, "register"),
        "issuer_id": issuer_id,
        "card_number": number,
        "address_notice": True,
    }
    return api.post(
        "/v1/service-ids", json=body, headers={**auth, "Idempotency-Key": key or uuid.uuid4().hex}
    )


def _delete(
    api: httpx.Client, auth: dict[str, str], tid: str, card: CitizenCredentials
) -> httpx.Response:
    body = {**card_proof(api, auth, tid, card, "unregister"), "issuer_id": DEMO_ISSUER_ID}
    return api.post(
        "/v1/service-ids/deletions",
        json=body,
        headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
    )


def _lookup(
    api: httpx.Client, auth: dict[str, str], tid: str, card: CitizenCredentials
) -> list[str]:
    r = api.post("/v1/lookups", json=card_proof(api, auth, tid, card, "lookup"), headers=auth)
    assert r.status_code == 200, r.text
    return [m["card_number"] for m in r.json()["matches"]]


def test_a_registration_is_stored_and_the_next_lookup_finds_it(
    api: httpx.Client,
    auth: dict[str, str],
    terminal: TerminalCredentials,
    patron: CitizenCredentials,
) -> None:
    tid, number = terminal.terminal_id, new_card_number()
    assert _lookup(api, auth, tid, patron) == []
    r = _register(api, auth, tid, patron, number)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["card_number"], body["address_notice"]) == (number, True)
    assert body["issuer"]["issuer_id"] == DEMO_ISSUER_ID
    assert "mykey" not in r.text.lower()
    assert _lookup(api, auth, tid, patron) == [number]


def test_duplicates_and_conflicts_are_refused_by_name(
    api: httpx.Client, auth: dict[str, str], terminal: TerminalCredentials,
    patron: CitizenCredentials, platform_server: PlatformServer,
) -> None:  # fmt: skip
    tid, number = terminal.terminal_id, new_card_number()
    assert _register(api, auth, tid, patron, number).status_code == 201
    again = _register(api, auth, tid, patron, number)
    assert (again.status_code, again.json()["error"]) == (409, "service_id.exists")
    other_number = _register(api, auth, tid, patron, new_card_number())
    assert (other_number.status_code, other_number.json()["error"]) == (409, "service_id.conflict")
    neighbour = new_card()
    give_mykey_id(platform_server.db_path, neighbour)
    taken = _register(api, auth, tid, neighbour, number)
    assert (taken.status_code, taken.json()["error"]) == (409, "service_id.taken")
    assert _lookup(api, auth, tid, patron) == [number]
    assert _lookup(api, auth, tid, neighbour) == []


def test_a_card_number_breaking_the_librarys_rules_lists_every_problem(
    api: httpx.Client,
    auth: dict[str, str],
    terminal: TerminalCredentials,
    patron: CitizenCredentials,
) -> None:
    good = new_card_number()
    wrong_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    r = _register(api, auth, terminal.terminal_id, patron, wrong_check)
    assert (r.status_code, r.json()["error"]) == (400, "card_number.invalid")
    assert [p["code"] for p in r.json()["problems"]] == ["card_number.check_digit"]
    r = _register(api, auth, terminal.terminal_id, patron, "12A4")
    assert {p["code"] for p in r.json()["problems"]} == {
        "card_number.characters", "card_number.length", "card_number.digits",
        "card_number.alphabet",  # the demo library's numbers are digits only
    }  # fmt: skip


def test_a_card_without_a_mykey_id_is_told_to_create_one(
    api: httpx.Client, auth: dict[str, str], terminal: TerminalCredentials
) -> None:
    r = _register(api, auth, terminal.terminal_id, new_card(), new_card_number())
    assert (r.status_code, r.json()["error"]) == (409, "citizen.unknown")


def test_a_proof_for_another_purpose_or_an_issuer_not_served_is_refused(
    api: httpx.Client,
    auth: dict[str, str],
    terminal: TerminalCredentials,
    patron: CitizenCredentials,
) -> None:
    tid = terminal.terminal_id
    lookup_proof = card_proof(api, auth, tid, patron, "lookup")
    body = {**lookup_proof, "issuer_id": DEMO_ISSUER_ID, "card_number": new_card_number(),
            "address_notice": False}  # fmt: skip
    r = _register(api, auth, tid, patron, "", body=body)
    assert (r.status_code, r.json()["error"]) == (400, "challenge.invalid")
    r = _register(api, auth, tid, patron, new_card_number(), issuer_id="000002")
    assert (r.status_code, r.json()["error"]) == (403, "issuer.not_served")


def test_deleting_a_registration_ends_its_lookups(
    api: httpx.Client,
    auth: dict[str, str],
    terminal: TerminalCredentials,
    patron: CitizenCredentials,
) -> None:
    tid, number = terminal.terminal_id, new_card_number()
    assert _register(api, auth, tid, patron, number).status_code == 201
    r = _delete(api, auth, tid, patron)
    assert (r.status_code, r.json()) == (200, {"issuer_id": DEMO_ISSUER_ID, "deleted": True})
    assert _lookup(api, auth, tid, patron) == []
    again = _delete(api, auth, tid, patron)
    assert (again.status_code, again.json()["error"]) == (404, "service_id.unknown")
    # ...and the number is free for a new registration.
    assert _register(api, auth, tid, patron, number).status_code == 201


def test_the_same_key_replays_the_stored_answer_and_another_body_is_refused(
    api: httpx.Client,
    auth: dict[str, str],
    terminal: TerminalCredentials,
    patron: CitizenCredentials,
) -> None:
    tid, key = terminal.terminal_id, uuid.uuid4().hex
    body = {**card_proof(api, auth, tid, patron, "register"), "issuer_id": DEMO_ISSUER_ID,
            "card_number": new_card_number(), "address_notice": False}  # fmt: skip
    first = _register(api, auth, tid, patron, "", key=key, body=body)
    again = _register(api, auth, tid, patron, "", key=key, body=body)
    assert first.status_code == again.status_code == 201  # a replay, not "exists"
    assert first.json() == again.json()
    clash = _register(api, auth, tid, patron, "", key=key, body={**body, "address_notice": True})
    assert (clash.status_code, clash.json()["error"]) == (409, "idempotency.conflict")


def _client_proof(client: PlatformClient, card: CitizenCredentials, purpose: str) -> CardProof:
    challenge = client.challenge(purpose)
    signature = card.key.sign(challenge_digest(challenge), PKCS1v15(), Prehashed(SHA256()))
    return CardProof(card.certificate_der, challenge.nonce, signature)


def test_the_kiosk_client_registers_retries_safely_and_deletes(
    platform_client: PlatformClient, patron: CitizenCredentials, platform_server: PlatformServer
) -> None:
    number = new_card_number()
    proof = _client_proof(platform_client, patron, "register")
    stored = platform_client.register_service_id(proof, DEMO_ISSUER_ID, number, address_notice=True)
    assert (stored.issuer_id, stored.card_number, stored.address_notice) == (
        DEMO_ISSUER_ID, number, True,
    )  # fmt: skip
    # A retry of the same call (same proof, e.g. after a lost answer) replays the success.
    assert (
        platform_client.register_service_id(proof, DEMO_ISSUER_ID, number, address_notice=True)
        == stored
    )
    with pytest.raises(ServiceIdRefused) as refused:
        platform_client.register_service_id(
            _client_proof(platform_client, patron, "register"), DEMO_ISSUER_ID,
            new_card_number(), address_notice=False,
        )  # fmt: skip
    assert refused.value.code == "service_id.conflict"
    assert refused.value.key in CATALOGUE
    with pytest.raises(ServiceIdRefused) as bad:
        platform_client.register_service_id(
            _client_proof(platform_client, patron, "register"), DEMO_ISSUER_ID, "123",
            address_notice=False,
        )  # fmt: skip
    assert bad.value.key == "error.service_id.number" and bad.value.problems
    platform_client.delete_service_id(_client_proof(platform_client, patron, "unregister"),
                                      DEMO_ISSUER_ID)  # fmt: skip
    with pytest.raises(ServiceIdRefused) as gone:
        platform_client.delete_service_id(
            _client_proof(platform_client, patron, "unregister"), DEMO_ISSUER_ID
        )
    assert gone.value.code == "service_id.unknown"


@pytest.mark.parametrize("scheme", [s.value for s in CheckScheme])
@pytest.mark.parametrize("symbology", [s.value for s in Symbology])
def test_the_platform_and_the_kiosk_agree_on_every_card_number_rule(
    scheme: str, symbology: str
) -> None:
    rng = random.Random(scheme + symbology)
    for _ in range(600):
        alphabet = rng.choice(["", "0123456789", "0123456789-$"])
        start, stop = rng.choice("ABCD"), rng.choice("ABCD")
        issuer = Issuer(
            DEMO_ISSUER_ID, "x", Symbology(symbology), codabar_start=start, codabar_stop=stop,
            check=CheckScheme(scheme), lengths=(8, 10), alphabet=alphabet,
        )  # fmt: skip
        length = rng.choice([7, 8, 9, 10])
        value = "".join(rng.choice("0123456789" * 5 + "Aa-$ ") for _ in range(length))
        if scheme != "none" and rng.random() < 0.5 and value[:-1].isdigit():
            # make half of them valid
            value = value[:-1] + compute(value[:-1], scheme, start=start, stop=stop)
        rules = cardrules.Rules(symbology, scheme, "8,10", alphabet, start, stop)
        server_ok = not cardrules.problems(value, rules)
        assert server_ok == (not kiosk_problems(value, issuer)), (value, alphabet)


def test_a_typo_in_the_number_does_not_spend_the_patrons_proof(
    api: httpx.Client,
    auth: dict[str, str],
    terminal: TerminalCredentials,
    patron: CitizenCredentials,
) -> None:
    tid, number = terminal.terminal_id, new_card_number()
    body = {**card_proof(api, auth, tid, patron, "register"), "issuer_id": DEMO_ISSUER_ID,
            "card_number": number[:-1], "address_notice": False}  # fmt: skip
    key = uuid.uuid4().hex
    assert _register(api, auth, tid, patron, "", key=key, body=body).status_code == 400
    fixed = _register(api, auth, tid, patron, "", key=key, body={**body, "card_number": number})
    assert fixed.status_code == 201, fixed.text

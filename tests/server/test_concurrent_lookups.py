"""Lookups sent at the same moment (they share hops to the thread pool, server/batch.py): each
gets its own answer, and a refused one takes nothing from the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from server.demo import TerminalCredentials, demo_card_number
from tests.server.helpers import b64, card, new_nonce, proof
from tests.support.platform import PlatformServer

pytestmark = pytest.mark.both_databases
ROUNDS = 3


def test_simultaneous_lookups_each_get_their_own_answer(
    platform_server: PlatformServer, auth: dict[str, str], terminal: TerminalCredentials
) -> None:
    tid = terminal.terminal_id
    with httpx.Client(base_url=platform_server.base_url, timeout=30) as api:
        bodies: list[tuple[str, dict[str, str]]] = []
        for _ in range(ROUNDS):
            for n in (1, 2, 3):  # the demo's linked cards
                bodies.append((demo_card_number(n), proof(new_nonce(api, auth), tid, card(n))))
            bodies.append(("unlinked", proof(new_nonce(api, auth), tid, card(4))))
            forged = proof(new_nonce(api, auth), tid, card(1))
            forged["signature"] = proof(new_nonce(api, auth), tid, card(1))["signature"]
            bodies.append(("card.rejected", forged))
            spent = proof(new_nonce(api, auth), tid, card(2))
            assert api.post("/v1/lookups", json=spent, headers=auth).status_code == 200
            bodies.append(("challenge.invalid", spent))
            bodies.append(("session.invalid", proof(new_nonce(api, auth), tid, card(3))))
            bodies.append(("request.invalid", {**bodies[0][1], "certificate": b64(b"x")[:-1]}))

    def send(expected_and_body: tuple[str, dict[str, str]]) -> tuple[str, httpx.Response]:
        expected, body = expected_and_body
        headers = {"Authorization": "Bearer forged"} if expected == "session.invalid" else auth
        with httpx.Client(base_url=platform_server.base_url, timeout=30) as client:
            return expected, client.post("/v1/lookups", json=body, headers=headers)

    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(send, bodies))
    for expected, r in answers:
        if expected == "unlinked":
            assert r.status_code == 200 and r.json() == {"matches": []}, r.text
        elif expected.isdigit():
            assert r.status_code == 200, r.text
            assert [m["card_number"] for m in r.json()["matches"]] == [expected], r.text
        else:
            assert r.status_code in (400, 401, 403), r.text
            assert r.json()["error"] == expected, r.text

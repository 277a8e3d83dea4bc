"""Terminal registration (form 10) on a platform without open enrolment, the municipality's
contact list, and the failed sign-in limits. A real server on loopback, its own database."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from server.cli import main
from server.db import connect
from server.formii import import_terminals
from server.registry import add_issuer
from tests.support.platform import PlatformServer, fake_fingerprint, running_platform

HEADER = "区分,項番,ID付与事業者名,設置場所,端末名,端末ID,端末パスワード,削除要否\n"
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformServer]:
    """A platform without demo data, on either database (form II import, form 10, sign-in)."""
    extra = ("--max-failures-per-terminal", "3", "--max-failures-per-address", "1000")
    url = request.getfixturevalue("postgres").new_database() if request.param != "sqlite" else None
    workdir = tmp_path_factory.mktemp("enrol")
    with running_platform(workdir, demo=False, extra=extra, database=url) as s:
        conn = connect(s.db_path)
        try:
            add_issuer(conn, "000001", "川崎市立図書館", check_scheme="mod10w21", handover="D")
        finally:
            conn.close()
        yield s


@pytest.fixture
def api(server: PlatformServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        yield client


def fresh_terminal(server: PlatformServer, kind: str = "ア", issuer: str = "川崎市立図書館") -> str:
    """A new terminal from a one-row form II import (password "pw-" + its ID)."""
    n = next(_numbers)
    tid = f"7{uuid.uuid4().int % 10**7:07d}"
    issuer = issuer if kind == "ア" else ""
    conn = connect(server.db_path)
    try:
        import_terminals(
            conn, (HEADER + f"{kind},{n},{issuer},テスト館,端末{n},{tid},pw-{tid},\n").encode()
        )
    finally:
        conn.close()
    return tid


def form(tid: str, **changes: str) -> dict[str, str]:
    body = {
        "terminal_id": tid, "password": f"pw-{tid}", "fingerprint": fake_fingerprint(tid),
        "place": "高津図書館", "name": "1台目", "issuer_id": "000001", "person": "図書 花子",
        "postal_code": "213-0001", "address": "川崎市高津区溝口1-1", "phone": "044-822-2413",
        "email": "takatsu@example.jp", "email_again": "takatsu@example.jp",
    }  # fmt: skip
    return {**body, **changes}


def register(api: httpx.Client, body: dict[str, str], key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key or uuid.uuid4().hex}
    return api.post("/v1/terminal-registrations", json=body, headers=headers)


def sign_in(api: httpx.Client, tid: str, fingerprint: str, password: str = "") -> httpx.Response:
    return api.post(
        "/v1/sessions",
        json={"terminal_id": tid, "password": password or f"pw-{tid}", "fingerprint": fingerprint},
    )


def codes(r: httpx.Response) -> set[str]:
    body: dict[str, Any] = r.json()
    return {p["code"] for p in body["problems"]}


def test_an_imported_but_unregistered_terminal_cannot_sign_in(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    r = sign_in(api, tid, fake_fingerprint(tid))
    assert r.status_code == 403
    assert r.json()["error"] == "terminal.unregistered"


@pytest.mark.both_databases
def test_registration_binds_the_board_and_that_board_signs_in(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    r = register(api, form(tid))
    assert r.status_code == 200, r.text
    assert r.json() == {"terminal_id": tid, "status": "registered", "contact_confirmed": False}
    assert sign_in(api, tid, fake_fingerprint(tid)).status_code == 200
    other = sign_in(api, tid, fake_fingerprint("another board"))
    assert other.status_code == 409
    assert other.json()["error"] == "terminal.fingerprint"
    assert "re-registration needed" in other.json()["detail"]


def test_a_form_with_everything_wrong_lists_every_problem_at_once(api: httpx.Client) -> None:
    r = register(
        api,
        {"terminal_id": "1234", "fingerprint": "zz", "postal_code": "21300011",
         "phone": "12-34", "email": "not-mail", "email_again": "other"},
    )  # fmt: skip
    assert r.status_code == 400
    assert r.json()["error"] == "registration.invalid"
    assert codes(r) == {
        "terminal_id.format", "password.empty", "fingerprint.format", "place.empty",
        "name.empty", "address.empty", "postal_code.format", "phone.format", "email.format",
        "email_again.mismatch",
    }  # fmt: skip


def test_with_valid_credentials_the_issuer_is_checked_with_the_rest(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    r = register(api, form(tid, issuer_id="999999", postal_code="２１３ー０００１", phone="x"))
    assert r.status_code == 400
    assert codes(r) == {"issuer_id.unknown", "phone.format"}  # full-width postal code is fine
    unserved = fresh_terminal(server, kind="ア", issuer="ブレーメン商店街")
    assert codes(register(api, form(unserved))) == {"issuer_id.mismatch"}
    museum = fresh_terminal(server, kind="イ")
    assert codes(register(api, form(museum))) == {"issuer_id.not_allowed"}
    assert register(api, form(museum, issuer_id="")).status_code == 200


def test_a_wrong_password_is_refused_before_any_detail_is_judged(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    r = register(api, form(tid, password="wrong", issuer_id="999999"))
    assert r.status_code == 401
    assert r.json()["error"] == "terminal.credentials"


@pytest.mark.both_databases
def test_a_new_board_must_register_again_and_then_the_old_one_is_out(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    old, new = fake_fingerprint(f"{tid} old"), fake_fingerprint(f"{tid} new")
    assert register(api, form(tid, fingerprint=old)).status_code == 200
    token = sign_in(api, tid, old).json()["token"]
    assert sign_in(api, tid, new).status_code == 409  # never silently accepted
    r = register(api, form(tid, fingerprint=new))
    assert r.json()["status"] == "re-registered"
    issuers = api.get("/v1/issuers", headers={"Authorization": f"Bearer {token}"})
    assert issuers.status_code == 401  # the old board's session ended
    assert sign_in(api, tid, new).status_code == 200
    assert sign_in(api, tid, old).status_code == 409
    assert register(api, form(tid, fingerprint=new, person="")).json()["status"] == "updated"


@pytest.mark.both_databases
def test_the_same_key_replays_and_another_body_with_it_is_refused(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    key = uuid.uuid4().hex
    first = register(api, form(tid), key)
    again = register(api, form(tid), key)
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.json()["status"] == "registered"  # the stored answer, not a second "updated"
    clash = register(api, form(tid, place="別の館"), key)
    assert clash.status_code == 409
    assert clash.json()["error"] == "idempotency.conflict"


@pytest.mark.both_databases
def test_the_municipality_lists_and_confirms_contact_details(
    api: httpx.Client, server: PlatformServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = fresh_terminal(server)
    assert register(api, form(tid)).status_code == 200
    db = str(server.db_path)
    assert main(["contacts", "--db", db, "--unconfirmed"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(tid))
    assert line.split("\t") == [
        tid, "ア", "no", "高津図書館", "1台目", "000001", "図書 花子", "2130001",
        "川崎市高津区溝口1-1", "044-822-2413", "takatsu@example.jp",
    ]  # fmt: skip
    assert main(["contacts", "--db", db, "--confirm", tid, "00000000"]) == 1
    assert "00000000: no registered terminal" in capsys.readouterr().err
    assert main(["contacts", "--db", db, "--unconfirmed"]) == 0
    assert tid not in capsys.readouterr().out
    # Changed details need confirming again.
    assert register(api, form(tid, phone="044-000-0000")).status_code == 200
    main(["contacts", "--db", db, "--unconfirmed"])
    assert tid in capsys.readouterr().out


def test_failed_sign_ins_are_throttled_per_terminal(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid, bystander = fresh_terminal(server), fresh_terminal(server)
    for t in (tid, bystander):
        assert register(api, form(t)).status_code == 200
    for _ in range(3):
        assert sign_in(api, tid, fake_fingerprint(tid), "guess").status_code == 401
    r = sign_in(api, tid, fake_fingerprint(tid))  # even the right password must wait
    assert r.status_code == 429
    assert r.json()["error"] == "signin.throttled"
    assert 0 < int(r.headers["Retry-After"]) <= 900
    assert register(api, form(tid)).status_code == 429  # registration checks the password too
    assert sign_in(api, bystander, fake_fingerprint(bystander)).status_code == 200


@pytest.mark.both_databases
def test_a_terminal_the_ministry_deletes_loses_its_session_and_its_sign_in(
    api: httpx.Client, server: PlatformServer
) -> None:
    tid = fresh_terminal(server)
    assert register(api, form(tid)).status_code == 200
    token = sign_in(api, tid, fake_fingerprint(tid)).json()["token"]
    conn = connect(server.db_path)
    try:
        import_terminals(
            conn, (HEADER + f"ア,1,川崎市立図書館,館,端末,{tid},pw-{tid},要\n").encode()
        )
    finally:
        conn.close()
    assert api.get("/v1/issuers", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    r = sign_in(api, tid, fake_fingerprint(tid))
    assert (r.status_code, r.json()["error"]) == (401, "terminal.credentials")

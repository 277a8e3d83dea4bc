"""The encrypted token store: survives a restart, holds no number in clear, forgets at closing."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest

from appliance.daytokens import TokenBook, Verdict
from appliance.errors import ConfigError
from appliance.sip2 import TokenStoreError
from drivers.sip2._records import from_records, to_records
from drivers.sip2.store import TokenStore, create_device_secret
from tests.sip2.harness import POLICY, TODAY, Clock, card, real_number, selfcheck, stack


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "device-secret"
    create_device_secret(path)
    return path


def new_store(tmp_path, secret, clock=None):
    return TokenStore(tmp_path / "tokens.bin", secret, clock=clock or Clock())


def issue(store, n):
    store.set_policies([POLICY])
    return store.issue(card(n))


def test_tokens_survive_a_restart_encrypted(tmp_path, secret):
    store = new_store(tmp_path, secret)
    token = issue(store, 1)
    blob = (tmp_path / "tokens.bin").read_bytes()
    assert real_number(1).encode() not in blob and token.value.encode() not in blob
    assert oct((tmp_path / "tokens.bin").stat().st_mode & 0o777) == "0o600"
    again = new_store(tmp_path, secret).load()
    assert again.resolve(token.value, TODAY).replacement == real_number(1)


def test_another_device_secret_cannot_read_the_store(tmp_path, secret):
    issue(new_store(tmp_path, secret), 1)
    other = tmp_path / "other-secret"
    create_device_secret(other)
    with pytest.raises(TokenStoreError, match="decrypted"):
        TokenStore(tmp_path / "tokens.bin", other).load()


def test_a_damaged_file_is_an_error_not_a_crash(tmp_path, secret):
    (tmp_path / "tokens.bin").write_bytes(b"KSIP2T1" + b"\0" * 40)
    with pytest.raises(TokenStoreError):
        new_store(tmp_path, secret).load()


def test_a_device_secret_others_can_read_is_refused_with_every_problem(tmp_path):
    path = tmp_path / "loose-secret"
    path.write_bytes(b"short")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError) as caught:
        TokenStore(tmp_path / "tokens.bin", path)
    assert len(caught.value.problems) == 2  # readable by others, too short
    with pytest.raises(ConfigError, match="cannot be read"):
        TokenStore(tmp_path / "tokens.bin", tmp_path / "missing")


def test_tokens_are_purged_at_the_end_of_the_service_day(tmp_path, secret):
    clock = Clock()
    store = new_store(tmp_path, secret, clock)
    issue(store, 1)
    clock.now = TODAY.replace(hour=20, minute=1)
    assert store.load().tokens() == ()
    store.update(lambda book: None)  # any write drops it from the file too
    clock.now = TODAY
    assert store.load().tokens() == ()


def test_kiosk_and_gateway_processes_share_the_file_without_losing_changes(tmp_path, secret):
    kiosk, gateway = new_store(tmp_path, secret), new_store(tmp_path, secret)
    first = issue(kiosk, 1)
    book = gateway.load()
    assert not gateway.changed()
    second = issue(kiosk, 2)
    assert gateway.changed()
    gateway.update(lambda b: b.mark_used(first))
    final = kiosk.load()
    assert len(final.tokens()) == 2 and final.is_used(first) and not final.is_used(second)
    assert book.resolve(second.value, TODAY).verdict is Verdict.UNKNOWN  # the stale copy


def test_the_gateway_picks_up_a_token_the_kiosk_issued_after_it_started(tmp_path, secret):
    clock = Clock()
    kiosk = new_store(tmp_path, secret, clock)
    issue(kiosk, 30)  # writes the policy

    async def scenario() -> tuple[str, bool]:
        async with stack(store=new_store(tmp_path, secret, clock), clock=clock) as s:
            token = issue(kiosk, 1)
            response = await asyncio.to_thread(talk, s.port, token.value)
            await s.gateway.flush()  # the "used" mark is written in the background
            return response, kiosk.load().is_used(token)

    response, used = asyncio.run(scenario())
    assert response.startswith("24") and "BLY" in response
    assert used


def talk(port: int, patron: str) -> str:
    with selfcheck(port, patron=patron) as sc:
        return sc.get_response(sc.sip_patron_status_request())


def test_a_restarted_gateway_still_honours_todays_labels(tmp_path, secret):
    clock = Clock()
    token = issue(new_store(tmp_path, secret, clock), 1)

    async def one_run() -> str:
        async with stack(store=new_store(tmp_path, secret, clock), clock=clock) as s:
            return await asyncio.to_thread(talk, s.port, token.value)

    assert "BLY" in asyncio.run(one_run())
    clock.now = TODAY + dt.timedelta(hours=3)
    assert "BLY" in asyncio.run(one_run())  # a second gateway process, same file
    clock.now = TODAY + dt.timedelta(days=1)
    assert "BLN" in asyncio.run(one_run())


def test_records_round_trip_and_drop_finished_days():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY)
    book.resolve(token.value, TODAY)
    again = from_records(to_records(book), TODAY)
    assert again.resolve(token.value, TODAY).replacement == real_number(1)
    assert (again.counts.issued, again.counts.used) == (1, 1)
    assert from_records(to_records(book), TODAY.replace(hour=20)).tokens() == ()

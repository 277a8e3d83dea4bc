"""The offline nonce the kiosk makes: terminal ID + signing time + random, read back exactly."""

from __future__ import annotations

import datetime as dt

import pytest

from appliance.offline import make_nonce, offline_digest, read_nonce
from appliance.proof import challenge_digest
from appliance.values import Challenge

AT = dt.datetime(2026, 12, 1, 1, 2, 3, tzinfo=dt.UTC)


def test_the_nonce_carries_terminal_and_time_and_reads_back() -> None:
    nonce = make_nonce("00052459", AT, b"\x01" * 16)
    assert len(nonce) == 32
    assert nonce[:8] == b"00052459" and nonce[16:] == b"\x01" * 16
    assert read_nonce(nonce) == ("00052459", AT)


def test_the_offline_digest_is_not_the_lookup_digest() -> None:
    nonce = make_nonce("00052459", AT, b"\x02" * 16)
    offline = challenge_digest(Challenge(nonce, "00052459", "offline"))
    assert offline_digest(nonce) == offline
    assert offline != challenge_digest(Challenge(nonce, "00052459", "lookup"))


@pytest.mark.parametrize(
    ("terminal", "at", "random"),
    [
        ("0005245", AT, b"\0" * 16),  # 7 digits
        ("0005245x", AT, b"\0" * 16),
        ("00052459", AT.replace(tzinfo=None), b"\0" * 16),  # a naive time is ambiguous
        ("00052459", AT, b"\0" * 15),
    ],
)
def test_bad_parts_are_refused(terminal: str, at: dt.datetime, random: bytes) -> None:
    with pytest.raises(ValueError):
        make_nonce(terminal, at, random)


def test_something_that_is_not_an_offline_nonce_is_refused() -> None:
    with pytest.raises(ValueError):
        read_nonce(b"\0" * 32)
    with pytest.raises(ValueError):
        read_nonce(b"00052459" + b"\0" * 8)

"""Day tokens: they look like the library's card numbers, and they are good for one day only."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.checkdigits import compute, problems
from appliance.daytokens import (
    DAY_SLOTS,
    ServiceHours,
    TokenBook,
    TokenPolicy,
    TokenUnavailable,
    Verdict,
)
from appliance.errors import ConfigError
from appliance.values import CardNumber, CheckScheme, Issuer, Symbology
from tests.sip2.harness import ISSUER, POLICY, TODAY, card, real_number


def test_a_token_is_a_valid_card_number_of_the_issuer_inside_the_reserved_range():
    token = TokenBook([POLICY]).issue(card(1), TODAY)
    assert problems(token.value, ISSUER) == []
    assert POLICY.claims(token.value)
    assert token.label_number().barcode_data() == f"A{token.value}A"
    assert token.value != real_number(1)


def test_the_label_prints_the_date_and_the_hours():
    token = TokenBook([POLICY]).issue(card(1), TODAY)
    assert token.hours_text() == "2025-11-25 10:30–20:00"


def test_neither_token_nor_card_number_shows_in_repr():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY)
    for text in (repr(token), str(token), repr(book), repr(book.resolve(token.value, TODAY))):
        assert token.value not in text and real_number(1) not in text


def test_todays_token_resolves_to_the_real_number_within_its_hours_only():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY)
    found = book.resolve(token.value, TODAY + dt.timedelta(hours=2))
    assert found.verdict is Verdict.VALID and found.replacement == real_number(1)
    assert book.resolve(token.value, TODAY.replace(hour=20)).verdict is Verdict.EXPIRED
    assert book.resolve(token.value, TODAY - dt.timedelta(minutes=1)).verdict is Verdict.EXPIRED


def test_a_framed_token_is_swapped_for_the_framed_real_number():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY)
    found = book.resolve(f"a{token.value}a", TODAY)
    assert found.verdict is Verdict.VALID and found.replacement == f"a{real_number(1)}a"


def test_yesterdays_token_is_expired_even_after_the_book_forgot_it():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY - dt.timedelta(days=1))
    assert book.resolve(token.value, TODAY).verdict is Verdict.EXPIRED
    assert book.purge(TODAY) == 1
    assert book.tokens() == ()
    assert book.resolve(token.value, TODAY).verdict is Verdict.EXPIRED  # wrong weekday slot


def test_an_unknown_token_of_today_and_a_wrong_check_digit_are_refused():
    book = TokenBook([POLICY])
    token = book.issue(card(1), TODAY)
    unknown = POLICY.draw(TODAY.date(), random.Random(7).randrange, [token.value])
    assert book.resolve(unknown, TODAY).verdict is Verdict.UNKNOWN
    bad = token.value[:-1] + str((int(token.value[-1]) + 1) % 10)
    assert book.resolve(bad, TODAY).verdict is Verdict.MALFORMED


@pytest.mark.parametrize("presented", [real_number(5), "", "ABC", "A" + real_number(5) + "A"])
def test_anything_outside_the_reserved_range_is_not_a_token(presented):
    assert TokenBook([POLICY]).resolve(presented, TODAY).verdict is Verdict.NOT_A_TOKEN


def test_no_token_outside_service_hours_or_for_a_card_inside_the_reserved_range():
    book = TokenBook([POLICY])
    with pytest.raises(TokenUnavailable):
        book.issue(card(1), TODAY.replace(hour=21))
    inside = "9" * 9
    with pytest.raises(TokenUnavailable):
        book.issue(CardNumber(ISSUER, inside + with_check(ISSUER, inside)), TODAY)
    other = Issuer("other", "Other", check=CheckScheme.NONE)
    with pytest.raises(TokenUnavailable):
        book.issue(CardNumber(other, "123"), TODAY)


def test_a_bad_policy_reports_every_problem_at_once():
    policy = TokenPolicy(ISSUER, "90000x", "9999999", ServiceHours(dt.time(20), dt.time(9)))
    found = policy.problems()
    assert len(found) == 4, found  # low not digits, lengths differ, not a card length, hours
    with pytest.raises(ConfigError):
        TokenBook([policy])
    tiny = TokenPolicy(ISSUER, "9999999000", "9999999999")
    assert "tokens a day" in tiny.problems()[0]


def test_tokens_of_one_day_are_all_different():
    book = TokenBook([POLICY])
    values = {book.issue(card(n), TODAY).value for n in range(300)}
    assert len(values) == 300 and book.counts.issued == 300


ISSUERS = st.builds(
    Issuer,
    issuer_id=st.just("lib"),
    name=st.just("Library"),
    symbology=st.sampled_from(Symbology),
    # day tokens are digits: mod16 (an NW-7 check character) is refused by the policy itself
    check=st.sampled_from([s for s in CheckScheme if s is not CheckScheme.MOD16]),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    issuer=ISSUERS,
    length=st.integers(7, 14),
    day=st.dates(dt.date(2024, 1, 1), dt.date(2040, 12, 31)),
    seed=st.integers(0, 2**32),
)
def test_any_policy_makes_tokens_valid_for_its_issuer_and_day(issuer, length, day, seed):
    policy = TokenPolicy(issuer, "9" + "0" * (length - 1), "9" * length)
    book = TokenBook([policy], randbelow=random.Random(seed).randrange)
    now = dt.datetime.combine(day, dt.time(12))
    number = CardNumber(issuer, "1" * (length - 1) + with_check(issuer, "1" * (length - 1)))
    token = book.issue(number, now)
    assert problems(token.value, issuer) == []
    assert policy.claims(token.value) and policy.slot(token.value) == day.weekday()
    assert book.resolve(token.value, now).verdict is Verdict.VALID
    next_day = now + dt.timedelta(days=1)
    assert book.resolve(token.value, next_day).verdict is Verdict.EXPIRED
    book.purge(next_day)
    for later in range(1, DAY_SLOTS):
        verdict = book.resolve(token.value, now + dt.timedelta(days=later)).verdict
        assert verdict is Verdict.EXPIRED


def with_check(issuer: Issuer, body: str) -> str:
    return "" if issuer.check is CheckScheme.NONE else compute(body, issuer.check.value)

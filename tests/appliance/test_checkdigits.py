"""Card-number rules per issuer: every check scheme against worked examples, and refusals."""

from __future__ import annotations

import pytest

from appliance.checkdigits import DIGIT_SCHEMES, compute, problems
from appliance.errors import InvalidCardNumber
from appliance.values import CardNumber, CheckScheme, Issuer, NumberDisplay, Symbology


def issuer(check: CheckScheme, **kw: object) -> Issuer:
    return Issuer("lib", "Library", check=check, **kw)  # type: ignore[arg-type]


# Worked examples, each computed by hand in the comment (the scheme's definition, not our code).
KNOWN = [
    # Luhn's textbook number: 7992739871 -> digit sums 67 -> check 3
    ("mod10w21", "7992739871", "3"),
    ("mod10w21", "180000000", "0"),  # the demo library's first card, 1800000000
    # 1234567 = 7 x 176366 + 5
    ("7dr", "1234567", "5"),
    ("7dsr", "1234567", "2"),  # 7 - 5
    ("7dr", "7", "0"),
    ("7dsr", "7", "0"),  # 7 - 0 = 7, written as 0
    # 12345, weights 6 5 4 3 2 from the left -> 6+10+12+12+10 = 50; 50 mod 11 = 6; 11 - 6 = 5
    ("mod11", "12345", "5"),
    # 5 x 2 = 10 -> 10 mod 11 = 10 -> 11 - 10 = 1
    ("mod11", "5", "1"),
    # 11: weights 3 2 -> 5 -> 11 - 5 = 6
    ("mod11", "11", "6"),
    # 0 -> 0 mod 11 = 0 -> 11 - 0 = 11, written as 0
    ("mod11", "0", "0"),
    # 1 x 2 + 0... "91": 9x3 + 1x2 = 29 -> 29 mod 11 = 7 -> 4
    ("mod11", "91", "4"),
    # 6: 6 x 2 = 12 -> 12 mod 11 = 1 -> 11 - 1 = 10, written as 0
    ("mod11", "6", "0"),
]


@pytest.mark.parametrize(("scheme", "body", "check"), KNOWN)
def test_check_digits_match_the_worked_examples(scheme, body, check):
    assert compute(body, scheme) == check
    assert problems(body + check, issuer(CheckScheme(scheme))) == []


def test_mod16_is_the_nw7_check_character_over_start_data_and_stop():
    # The AIM/JIS example: A37859B -> 16+3+7+8+5+9+17 = 65; 65 + 15 = 80 = 5 x 16 -> '+' (15)
    assert compute("37859", "mod16", start="A", stop="B") == "+"
    nw7 = issuer(CheckScheme.MOD16, codabar_start="A", codabar_stop="B")
    number = CardNumber(nw7, "37859+")
    assert number.barcode_data() == "A37859+B"
    # the frame is part of the rule: the same data between other start/stop characters fails
    assert problems("37859+", issuer(CheckScheme.MOD16, codabar_start="C", codabar_stop="D"))


@pytest.mark.parametrize(("scheme", "body", "check"), KNOWN)
def test_every_other_check_digit_is_refused(scheme, body, check):
    for wrong in "0123456789":
        if wrong != check:
            assert "check digit does not match" in problems(
                body + wrong, issuer(CheckScheme(scheme))
            )


def test_a_number_failing_its_issuers_rules_cannot_even_become_a_card_number():
    with pytest.raises(InvalidCardNumber):
        CardNumber(issuer(CheckScheme.MOD10_W21), "79927398710")


def test_every_problem_is_listed_at_once_without_the_number():
    library = issuer(CheckScheme.MOD11, lengths=(6, 10), alphabet="0123456789")
    found = problems("12X4567", library)
    assert "length 7 not in (6, 10)" in found
    assert "check-digit scheme needs digits only" in found
    assert any("alphabet" in p for p in found)
    assert not any("12X4567" in p for p in found)


def test_length_and_alphabet_are_per_issuer():
    six = issuer(CheckScheme.NONE, lengths=(6,), alphabet="0123456789")
    assert problems("123456", six) == []
    assert problems("1234567", six) == ["length 7 not in (6,)"]
    assert problems("12345-", six) == ["characters outside the issuer's card-number alphabet"]


@pytest.mark.parametrize(
    ("symbology", "value"),
    [
        (Symbology.CODABAR, "12AB34"),  # start/stop letters inside NW-7 data
        (Symbology.CODE39, "ab12"),  # Code39 has no lower case
        (Symbology.CODE128, "12\x1b@34"),  # a control code, whatever the symbology allows
        (Symbology.CODE128, "１２３"),  # full-width digits
    ],
)
def test_characters_the_symbology_cannot_carry_safely_are_refused(symbology, value):
    assert problems(value, Issuer("lib", "Library", symbology=symbology))


def test_mod16_is_refused_for_a_symbology_other_than_codabar():
    code39 = issuer(CheckScheme.MOD16, symbology=Symbology.CODE39)
    assert "mod16 is the NW-7 check character: Codabar issuers only" in problems("1234", code39)


def test_mod16_with_a_broken_frame_in_the_config_is_a_problem_not_a_crash():
    broken = issuer(CheckScheme.MOD16, codabar_start="E")
    assert "the issuer's start/stop characters must be A-D" in problems("37859+", broken)


def test_digit_schemes_always_give_a_digit():
    for scheme in DIGIT_SCHEMES:
        for n in range(200):
            assert compute(str(n), scheme).isdigit()


def test_digit_schemes_refuse_a_body_that_is_not_digits():
    for scheme in DIGIT_SCHEMES:
        with pytest.raises(ValueError):
            compute("12a", scheme)


@pytest.mark.parametrize(
    ("display", "shown"),
    [(NumberDisplay.MASKED, "*******000"), (NumberDisplay.FULL, "1800000000"),
     (NumberDisplay.HIDDEN, "")],
)  # fmt: skip
def test_the_number_under_the_barcode_is_masked_unless_the_issuer_says_otherwise(display, shown):
    number = CardNumber(issuer(CheckScheme.MOD10_W21, number_display=display), "1800000000")
    assert number.label_text() == shown
    assert "1800000000" not in repr(number)  # logs stay masked whatever the label shows

"""The message catalogue: every error key a patron can meet has both languages."""

from __future__ import annotations

import inspect

import appliance.errors as errors
from appliance.messages import CATALOGUE, Lang, bilingual, render


def test_every_error_class_has_a_message_in_both_languages() -> None:
    for _, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.KioskError):
            assert cls.key in CATALOGUE, cls
            assert CATALOGUE[cls.key].ja and CATALOGUE[cls.key].en


def test_parameters_are_filled() -> None:
    assert "2" in render("error.pin.wrong", Lang.EN, tries_left=2)
    assert bilingual("error.pin.wrong", tries_left=1).count("1") >= 2


def test_unknown_keys_fall_back_to_the_generic_error() -> None:
    assert render("no.such.key", Lang.EN) == CATALOGUE["error.unexpected"].en

"""The terminal registration form: every problem at once, one per field, as message keys."""

from __future__ import annotations

import pytest

from appliance.config import load_config
from appliance.contact import (
    ContactDetails,
    contact_problems,
    credential_problems,
    platform_url_problems,
)
from appliance.errors import ConfigError
from appliance.messages import CATALOGUE

GOOD = ContactDetails(
    place="高津図書館", name="高津図書館1台目", postal_code="213-0001", address="川崎市高津区溝口",
    phone="044-822-2413", email="kiosk@example.jp", email_again="kiosk@example.jp",
)  # fmt: skip


def test_a_complete_form_has_no_problem() -> None:
    assert contact_problems(GOOD) == []
    assert GOOD.normalised().postal_code == "2130001"
    assert GOOD.normalised().phone == "0448222413"


def test_an_empty_form_names_every_required_field_at_once() -> None:
    found = contact_problems(ContactDetails())
    assert [(p.field, p.key) for p in found] == [
        (name, "form.required")
        for name in ("place", "name", "postal_code", "address", "phone", "email")
    ]


def test_every_bad_field_is_reported_together() -> None:
    bad = ContactDetails(
        place="x", name="y", postal_code="213-001", address="z", phone="12345",
        email="kiosk.example.jp", email_again="kiosk@example.jp",
    )  # fmt: skip
    assert {(p.field, p.key) for p in contact_problems(bad)} == {
        ("postal_code", "form.postal_code"),
        ("phone", "form.phone"),
        ("email", "form.email"),
        ("email_again", "form.email_again"),
    }


def test_full_width_input_from_a_japanese_keyboard_is_accepted() -> None:
    wide = ContactDetails(
        place="高津", name="1台目", postal_code="２１３－０００１", address="溝口",
        phone="０４４－８２２－２４１３", email="ｋｉｏｓｋ＠ｅｘａｍｐｌｅ．ｊｐ",
        email_again="kiosk@example.jp",
    )  # fmt: skip
    assert contact_problems(wide) == []


@pytest.mark.parametrize(
    ("tid", "password", "expected"),
    [
        ("00052459", "a912lkfja", []),
        ("", "", [("terminal_id", "form.required"), ("password", "form.required")]),
        ("0005245", "pw", [("terminal_id", "form.terminal_id")]),
        ("0005245x", "pw", [("terminal_id", "form.terminal_id")]),
    ],
)
def test_credentials(tid: str, password: str, expected: list[tuple[str, str]]) -> None:
    assert [(p.field, p.key) for p in credential_problems(tid, password)] == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://mykey.example.lg.jp/", []),
        ("ｈｔｔｐｓ：／／mykey.example.lg.jp", []),  # typed on a Japanese keyboard
        ("http://127.0.0.1:8765", []),  # a loopback test platform
        ("https://[::1]:8443/v1", []),
        ("", ["form.required"]),
        ("mykey.example.lg.jp", ["form.platform_url"]),
        ("https://exa mple.jp", ["form.platform_url"]),
        ("http://mykey.example.lg.jp/", ["form.platform_url.https"]),
        ("https://mykey-platform.invalid/", ["form.platform_url.placeholder"]),
        ("https://MYKEY.INVALID./", ["form.platform_url.placeholder"]),
    ],
)
def test_platform_url(url: str, expected: list[str]) -> None:
    problems = platform_url_problems(url)
    assert [p.key for p in problems] == expected
    assert {p.field for p in problems} <= {"platform_url"}


def test_every_form_key_has_a_message() -> None:
    keys = {"form.required", "form.terminal_id", "form.postal_code", "form.phone",
            "form.email", "form.email_again", "form.platform_url", "form.platform_url.https",
            "form.platform_url.placeholder"}  # fmt: skip
    assert keys <= CATALOGUE.keys()


def test_hand_over_settings_report_every_problem() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"data_dir": "/x", "handoff": "usb", "handover": "000001=E", "handoff_baud": 0})
    text = "; ".join(err.value.problems)
    assert "handoff: one of" in text and "needs A, B, C or D" in text and "handoff_baud" in text

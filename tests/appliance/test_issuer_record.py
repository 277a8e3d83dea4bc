"""One serialisation of an issuer, used by every store that keeps one, and strict on bad data."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from appliance.daytokens import ServiceHours, TokenBook, TokenPolicy
from appliance.errors import IssuerRecordInvalid, KioskError
from appliance.messages import CATALOGUE
from appliance.values import (
    CheckScheme,
    Handover,
    Issuer,
    NumberDisplay,
    Symbology,
    issuer_from_record,
    issuer_record,
)

ALPHABETS = ("", "0123456789", "0123456789ABCDEF")


def every_issuer() -> list[Issuer]:
    """Every check scheme x every number display, over the symbologies and alphabets."""
    found = []
    for n, (check, display) in enumerate(itertools.product(CheckScheme, NumberDisplay)):
        symbology = list(Symbology)[n % len(Symbology)]
        if check is CheckScheme.MOD16:  # the NW-7 check character fits Codabar only
            symbology = Symbology.CODABAR
        found.append(
            Issuer(
                f"{n:06d}",
                f"図書館 {n}",
                symbology=symbology,
                codabar_start="B",
                codabar_stop="D",
                check=check,
                lengths=(6, 10 + n % 3),
                handover=list(Handover)[n % len(Handover)],
                pin_required=n % 2 == 0,
                alphabet=ALPHABETS[n % len(ALPHABETS)],
                number_display=display,
            )
        )
    return found


@pytest.mark.parametrize(
    "issuer", every_issuer(), ids=lambda i: f"{i.check.value}-{i.number_display.value}"
)
def test_every_issuer_comes_back_equal_through_json(issuer):
    assert issuer_from_record(json.loads(json.dumps(issuer_record(issuer)))) == issuer


def test_the_record_has_every_field_of_the_issuer():
    # a field added to Issuer but not to the record fails here, not silently in a store
    assert set(issuer_record(every_issuer()[0])) == set(Issuer.__dataclass_fields__)


def test_an_old_record_without_alphabet_or_number_display_reads_with_the_defaults():
    old = issuer_record(every_issuer()[0])
    del old["alphabet"], old["number_display"]
    back = issuer_from_record(old)
    assert back.alphabet == "" and back.number_display is NumberDisplay.MASKED


def test_unknown_keys_are_ignored():
    record = {**issuer_record(every_issuer()[0]), "from_a_newer_kiosk": 1}
    assert issuer_from_record(record) == every_issuer()[0]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"symbology": "qr"}, "symbology"),
        ({"check": "mod97"}, "check"),
        ({"handover": "Z"}, "handover"),
        ({"number_display": "half"}, "number_display"),
        ({"name": 7}, "name"),
        ({"alphabet": None}, "alphabet"),
        ({"lengths": "10"}, "lengths"),
        ({"lengths": [True]}, "lengths"),
        ({"lengths": [0]}, "lengths"),
        ({"pin_required": "yes"}, "pin_required"),
    ],
)
def test_bad_data_is_refused_naming_the_field(change, named):
    with pytest.raises(IssuerRecordInvalid, match=named):
        issuer_from_record({**issuer_record(every_issuer()[0]), **change})


def test_every_problem_is_named_at_once_and_it_is_a_kiosk_error_with_a_message():
    record = {**issuer_record(every_issuer()[0]), "check": "x", "pin_required": 1}
    del record["issuer_id"]
    with pytest.raises(KioskError) as caught:
        issuer_from_record(record)
    assert all(f in str(caught.value) for f in ("issuer_id", "check", "pin_required"))
    assert CATALOGUE[caught.value.key].ja and CATALOGUE[caught.value.key].en


def test_not_an_object_is_refused():
    with pytest.raises(IssuerRecordInvalid):
        issuer_from_record([])  # type: ignore[arg-type]


# -- the stores that keep issuers use it (they once dropped alphabet and number_display) --------


def test_the_sip2_token_store_keeps_alphabet_and_number_display():
    from drivers.sip2._records import from_records, to_records

    issuer = Issuer("000009", "X", check=CheckScheme.MOD10_W21, lengths=(11,),
                    alphabet="0123456789", number_display=NumberDisplay.FULL)  # fmt: skip
    policy = TokenPolicy(issuer, "99000000000", "99999999999", ServiceHours())
    now = dt.datetime(2026, 11, 25, 10, 0)
    back = from_records(json.loads(json.dumps(to_records(TokenBook([policy])))), now)
    assert back.policies[0].issuer == issuer


def test_the_sip2_token_store_reads_a_policy_written_before_the_new_fields():
    from drivers.sip2._records import from_records, to_records

    issuer = Issuer("000009", "X", lengths=(11,), number_display=NumberDisplay.FULL)
    policy = TokenPolicy(issuer, "99000000000", "99999999999", ServiceHours())
    data = to_records(TokenBook([policy]))
    for rec in data["policies"]:
        del rec["alphabet"], rec["number_display"]
    back = from_records(data, dt.datetime(2026, 11, 25, 10, 0))
    assert back.policies[0].issuer.number_display is NumberDisplay.MASKED


def test_the_bookmobile_trust_cache_keeps_alphabet_and_number_display(tmp_path):
    from sync.devicesecret import create_device_secret
    from sync.offline import OfflineStore
    from sync.offline_trust import TrustMaterial

    create_device_secret(tmp_path / "secret")
    issuers = tuple(every_issuer())
    material = TrustMaterial((), (), dt.datetime(2026, 11, 25, tzinfo=dt.UTC), issuers)
    store = OfflineStore(tmp_path / "offline.sqlite", tmp_path / "secret")
    try:
        store.save_trust(material)
        back = store.trust()
    finally:
        store.close()
    assert back is not None and back.issuers == issuers

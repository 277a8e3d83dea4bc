"""The offline tap: a provisional label when the card checks out locally, a clear refusal if not.

The platform is up here only to prepare the kiosk (and to publish a revocation list); the tap
itself never talks to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from PIL import Image

from appliance.errors import (
    CertificateRevoked,
    ClockNotSynchronised,
    PhoneCertificate,
    TrustMissing,
    TrustStale,
    WrongPin,
)
from appliance.offline import ProvisionalOutcome
from appliance.values import Pin
from drivers.card.virtual.card import CardKind, VirtualJpkiCard
from drivers.card.virtual.inprocess import VirtualReader
from drivers.card.virtual.pki import test_crl as make_crl
from drivers.clock import TimesyncClock
from drivers.printer.render import render_label
from server.db import connect
from server.demo import demo_registrations
from server.registry import add_crl
from sync.offline import State
from tests.offline.conftest import Plug, extra_citizen, make_kit
from tests.support.barcodes import decode_both
from ui.offline_wiring import OfflineKit

PINS = {1: "1234", 2: "2580", 3: "0000"}


def _verifies(kit: OfflineKit, number: int) -> int:
    assert kit.kiosk.demo is not None
    log = kit.kiosk.demo.card(number).log
    return sum(1 for apdu in log if apdu[:4] == b"\x00\x20\x00\x80" and len(apdu) > 4)


def tap(
    kit: OfflineKit, number: int, pin: str, kind: CardKind = CardKind.MY_NUMBER
) -> ProvisionalOutcome:
    assert kit.kiosk.demo is not None
    kit.kiosk.demo.tap(number, kind)
    flow = kit.flow()
    return flow.finish(flow.begin(5), Pin(pin))


def _nothing_kept(kit: OfflineKit) -> None:
    assert sum(kit.store.counts().values()) == 0
    assert not kit.kiosk.labels_dir.exists() or list(kit.kiosk.labels_dir.iterdir()) == []


def test_a_tap_prints_a_provisional_label_with_a_token_in_the_reserved_range(
    bookmobile: OfflineKit,
) -> None:
    outcome = tap(bookmobile, 1, PINS[1])
    token = outcome.job.number.value
    policy = bookmobile.policy()
    assert policy is not None and policy.claims(token) and policy.well_formed(token)
    assert token not in {card for _n, _issuer, card in demo_registrations()}
    png = next(p for p in outcome.printed.artifacts if p.endswith(".png"))
    zbar, zxing = decode_both(Image.open(png))
    assert zbar == zxing == [f"A{token}A"]
    assert outcome.job.provisional and outcome.job.stop == "宮前公民館前"
    plain = render_label(dataclasses.replace(outcome.job, provisional=False))
    assert render_label(outcome.job).height > plain.height  # the 仮 / provisional line
    assert bookmobile.store.counts()[State.PENDING] == 1
    assert _verifies(bookmobile, 1) == 1


def test_two_taps_the_same_day_get_different_tokens(bookmobile: OfflineKit) -> None:
    first = tap(bookmobile, 1, PINS[1]).job.number.value
    second = tap(bookmobile, 2, PINS[2]).job.number.value
    assert first != second
    assert bookmobile.store.counts()[State.PENDING] == 2


def test_a_revoked_certificate_is_refused_offline(bookmobile: OfflineKit, plug: Plug) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    creds = extra_citizen(plug, 13)
    conn = connect(plug.db_path)
    try:
        revoked = [(creds.certificate.serial_number, now - dt.timedelta(hours=1))]
        add_crl(
            conn,
            make_crl(revoked, this_update=now, number=2).public_bytes(serialization.Encoding.DER),
            now=time.time(),
        )
    finally:
        conn.close()
    bookmobile.prepare()  # the crew fetches the list before departure
    reader = bookmobile.kiosk.reader
    assert isinstance(reader, VirtualReader)
    reader.slot.insert(VirtualJpkiCard(creds))
    flow = bookmobile.flow()
    with pytest.raises(CertificateRevoked):
        flow.finish(flow.begin(5), Pin(creds.pin))
    _nothing_kept(bookmobile)
    tap(bookmobile, 1, PINS[1])  # the others still borrow


def test_a_stale_revocation_list_refuses_every_tap(bookmobile: OfflineKit) -> None:
    material = bookmobile.store.trust()
    assert material is not None
    old = make_crl(this_update=dt.datetime.now(dt.UTC) - dt.timedelta(hours=49))
    bookmobile.store.save_trust(
        dataclasses.replace(material, crls=(old.public_bytes(serialization.Encoding.DER),))
    )
    assert not bookmobile.status().fresh
    with pytest.raises(TrustStale):
        tap(bookmobile, 1, PINS[1])
    _nothing_kept(bookmobile)


def test_a_wrong_pin_is_sent_once_and_nothing_is_kept(bookmobile: OfflineKit) -> None:
    with pytest.raises(WrongPin) as caught:
        tap(bookmobile, 2, "9999")
    assert caught.value.tries_left == 2
    assert _verifies(bookmobile, 2) == 1
    _nothing_kept(bookmobile)


def test_an_unsynchronised_clock_refuses_before_the_card_is_read(
    bookmobile: OfflineKit, tmp_path: Path
) -> None:
    """A bookmobile that never saw NTP since boot: the label's date and the nonce's signing time
    could be any day, so the tap is refused before the card (or a PIN) is touched."""
    flag = tmp_path / "synchronized"
    bookmobile.kiosk.flow._clock_sync = TimesyncClock(flag, ask_timedatectl=False)
    with pytest.raises(ClockNotSynchronised):
        tap(bookmobile, 1, PINS[1])
    assert bookmobile.kiosk.demo is not None
    assert bookmobile.kiosk.demo.card(1).log == []
    _nothing_kept(bookmobile)
    flag.touch()  # timesyncd's first answer, e.g. in the garage before departure
    assert tap(bookmobile, 1, PINS[1]).job.provisional


def test_a_phone_is_refused_before_any_pin(bookmobile: OfflineKit) -> None:
    with pytest.raises(PhoneCertificate):
        tap(bookmobile, 1, PINS[1], CardKind.PHONE)
    assert bookmobile.kiosk.demo is not None
    phone_log = bookmobile.kiosk.demo.card(1, CardKind.PHONE).log
    assert not any(apdu[:2] == b"\x00\x20" for apdu in phone_log)
    _nothing_kept(bookmobile)


def test_a_kiosk_never_prepared_refuses_with_a_message_for_staff(
    tmp_path: Path, plug: Plug
) -> None:
    kit = make_kit(tmp_path / "unprepared", plug)
    try:
        assert not kit.status().fresh
        with pytest.raises(TrustMissing):
            tap(kit, 1, PINS[1])
        assert _verifies(kit, 1) == 0
        _nothing_kept(kit)
    finally:
        kit.close()
        kit.kiosk.close()

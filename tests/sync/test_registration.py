"""The setup wizard's registration call against the real platform: form 10, then local enrolment."""

from __future__ import annotations

import pytest

from appliance.contact import ContactDetails
from appliance.errors import RegistrationInvalid
from sync.credentials import unlock
from sync.devicesecret import ensure_device_secret
from sync.registration import PlatformRegistrar
from sync.store import LocalStore
from tests.support.platform import fake_fingerprint

GOOD = ContactDetails(
    place="高津図書館",
    name="高津図書館 自動貸出ラベル機",
    issuer_id="000001",  # the demo library: a kind-ア terminal names its ID-issuer
    person="図書 花子",
    postal_code="213-0001",
    address="神奈川県川崎市高津区溝口1-1",
    phone="044-111-2222",
    email="kiosk@library.example.jp",
    email_again="kiosk@library.example.jp",
)


@pytest.fixture
def parts(tmp_path, platform_server):  # type: ignore[no-untyped-def]
    secret = tmp_path / "device-secret"
    ensure_device_secret(secret)
    store = LocalStore(tmp_path / "kiosk.sqlite")
    fingerprint = fake_fingerprint("registration")
    yield PlatformRegistrar(platform_server.base_url, fingerprint, store, secret), store, secret
    store.close()


def test_a_registered_terminal_is_enrolled_and_signs_in(parts, platform_server):
    registrar, store, secret = parts
    terminal = platform_server.add_terminal()
    registrar.register_terminal(terminal.terminal_id, terminal.password, GOOD)
    registrar.register_terminal(terminal.terminal_id, terminal.password, GOOD)  # pressed twice
    identity = unlock(store, secret, fake_fingerprint("registration"))
    assert identity is not None and identity.terminal_id == terminal.terminal_id
    client = platform_server.client(terminal, fake_fingerprint("registration"))
    try:
        assert client.issuers()  # the board the form named can sign in
    finally:
        client.close()


def test_a_bad_form_reports_every_field_and_enrols_nothing(parts, platform_server):
    registrar, store, secret = parts
    terminal = platform_server.add_terminal()
    bad = ContactDetails(place="", name="x", postal_code="12", phone="1", email="a@b.jp")
    with pytest.raises(RegistrationInvalid) as caught:
        registrar.register_terminal(terminal.terminal_id, terminal.password, bad)
    assert {"place", "postal_code", "phone"} <= set(caught.value.problems)
    assert unlock(store, secret, fake_fingerprint("registration")) is None

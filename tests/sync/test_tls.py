"""The platform's TLS certificate is checked against the configured CA, for real: the reference
platform served over HTTPS by uvicorn on loopback, with a CA made for this run.

The right CA connects; any other trust (another CA, the system store, the server's own
certificate) is a clear PlatformCertificateRejected at the first call, never a fallback to no
verification; an unusable ``platform_ca`` file stops the kiosk at start-up with a ja+en message.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from appliance.config import load_config
from appliance.errors import PlatformCaInvalid, PlatformCertificateRejected
from appliance.messages import CATALOGUE
from appliance.ports import Connectivity, DeviceState
from server.demo import DEMO_TERMINAL
from sync.client import PlatformClient, RetryPolicy
from sync.fingerprint import board_fingerprint
from sync.tls import platform_verify
from tests.sync.tls_platform import Pki, https_platform, make_pki
from ui.wiring import build_kiosk


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https_url(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[str]:
    with https_platform(tmp_path_factory.mktemp("https-platform"), pki) as url:
        yield url


def _client(url: str, setting: str, data_dir: Path, **kwargs: object) -> PlatformClient:
    verify = platform_verify(setting, data_dir)
    tid, password = DEMO_TERMINAL.terminal_id, DEMO_TERMINAL.password
    return PlatformClient(url, tid, password, board_fingerprint(), verify=verify, **kwargs)  # type: ignore[arg-type]


def test_the_configured_ca_relative_to_the_data_dir_connects(https_url: str, pki: Pki) -> None:
    data_dir = pki.ca.parent  # "ca.pem" relative to the kiosk's data folder
    with _client(https_url, "ca.pem", data_dir) as client:
        assert [i.issuer_id for i in client.issuers()] == ["000001"]
        assert client.status().state is DeviceState.OK


def test_an_absolute_ca_path_connects_too(https_url: str, pki: Pki, tmp_path: Path) -> None:
    with _client(https_url, str(pki.ca), tmp_path) as client:
        assert client.challenge().nonce


@pytest.mark.parametrize("trust", ["other CA", "system store", "server certificate itself"])
def test_any_other_trust_is_refused_clearly_and_never_falls_back(
    https_url: str, pki: Pki, trust: str
) -> None:
    if trust == "server certificate itself":
        with pytest.raises(PlatformCaInvalid, match="not a CA"):
            platform_verify(str(pki.server_pem), pki.ca.parent)
        return
    setting = {"other CA": str(pki.other_ca), "system store": ""}[trust]
    retry = RetryPolicy(attempts=3, wait_initial_s=0, wait_max_s=0)
    with _client(https_url, setting, pki.ca.parent, retry=retry) as client:
        started = time.monotonic()
        with pytest.raises(PlatformCertificateRejected, match="CERTIFICATE_VERIFY_FAILED") as info:
            client.issuers()
        assert time.monotonic() - started < 5
        status = client.status()
    assert info.value.key == "error.platform.tls"
    message = CATALOGUE["error.platform.tls"]
    assert "CA" in message.ja and "CA" in message.en
    assert status.state is DeviceState.WARNING and "error.platform.tls" in status.detail
    # the same server does answer over TLS, so the refusal was the certificate's, not an outage
    with httpx.Client(verify=platform_verify(str(pki.ca), pki.ca.parent)) as plain:
        assert plain.get(https_url + "/v1/health").status_code == 200


def test_the_context_checks_host_names_and_requires_a_certificate(pki: Pki) -> None:
    for context in (
        platform_verify(str(pki.ca), pki.ca.parent),
        platform_verify("", pki.ca.parent),
    ):
        assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        (b"", "no PEM certificate"),
        (b"this is not a certificate\n", "no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "no PEM certificate"),
    ],
    ids=["missing", "empty", "text", "broken PEM"],
)
def test_an_unusable_ca_file_stops_the_kiosk_at_start_up(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    if content is not None:
        (tmp_path / "platform-ca.pem").write_bytes(content)
    config = load_config(
        {
            "data_dir": str(tmp_path),
            "platform_url": "https://platform.invalid",
            "platform_ca": "platform-ca.pem",
            "terminal_password": "pw",
        }
    )
    with pytest.raises(PlatformCaInvalid) as info:
        build_kiosk(config)
    assert problem in str(info.value) and "platform-ca.pem" in str(info.value)
    assert info.value.key == "error.config.platform_ca"
    message = CATALOGUE[info.value.key]
    assert "platform_ca" in message.ja and "platform_ca" in message.en
    assert not (tmp_path / "kiosk.sqlite").exists()  # nothing started before the check


def test_the_kiosk_wired_with_https_and_its_ca_goes_online(
    https_url: str, pki: Pki, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kiosk"
    data_dir.mkdir()
    (data_dir / "platform-ca.pem").write_bytes(pki.ca.read_bytes())
    config = load_config(
        {
            "data_dir": str(data_dir),
            "platform_url": https_url,
            "platform_ca": "platform-ca.pem",  # what provisioning writes
            "terminal_password": DEMO_TERMINAL.password,
        }
    )
    kiosk = build_kiosk(config)
    try:
        assert kiosk.link is not None
        deadline = time.monotonic() + 15
        while kiosk.link.link_status().state is not Connectivity.ONLINE:
            assert time.monotonic() < deadline, kiosk.link.link_status()
            time.sleep(0.05)
        assert kiosk.platform.issuers()
    finally:
        kiosk.close()

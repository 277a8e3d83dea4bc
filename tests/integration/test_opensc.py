"""Independent check of the virtual card: OpenSC's own ``jpki`` driver, through pcscd and vpcd.

OpenSC was written against real My Number Cards by other people. If ``pkcs15-tool`` binds our
virtual card as a JPKI card, lists its certificates and PINs, and ``pkcs11-tool`` gets a signature
out of it that ``openssl`` verifies against the certificate, then the emulation is faithful to
what other JPKI software expects, not merely to our own driver.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from drivers.card.virtual.card import VirtualJpkiCard
from drivers.card.virtual.inprocess import CardDeck
from drivers.card.virtual.pki import citizen
from tests.support.pcsc import VpcdSlot

PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"


def _run(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv), capture_output=True, text=True, timeout=60, check=False,
        input=stdin.decode() if stdin else None,
    )  # fmt: skip


@pytest.fixture
def card(vpcd_slot: VpcdSlot) -> VirtualJpkiCard:
    """Demo citizen 1's card, lying on the first virtual reader."""
    virtual = CardDeck().card(1)
    vpcd_slot.insert(virtual)
    return virtual


def _verifies(card: VirtualJpkiCard, fid: bytes = b"\x00\x18") -> list[bytes]:
    """VERIFY commands carrying a PIN, each paired with the EF selected just before it."""
    out, selected = [], b""
    for apdu in card.log:
        if apdu[:5] == b"\x00\xa4\x02\x0c\x02":
            selected = apdu[5:7]
        elif apdu[:4] == b"\x00\x20\x00\x80" and len(apdu) > 4 and selected == fid:
            out.append(apdu)
    return out


def test_opensc_binds_it_as_jpki_and_lists_certificates_and_pins(card: VirtualJpkiCard) -> None:
    assert _run("opensc-tool", "--reader", "0", "--name").stdout.strip() == "jpki"
    listed = _run("pkcs15-tool", "--reader", "0", "--list-certificates", "--list-pins")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    for label in (
        "X.509 Certificate [User Authentication Certificate]",
        "X.509 Certificate [User Authentication Certificate CA]",
        "X.509 Certificate [Digital Signature Certificate]",
        "PIN [User Authentication PIN]",
        "PIN [Digital Signature PIN]",
    ):
        assert label in out
    serial = f"{citizen(1, '1234').certificate.serial_number:06X}"
    assert f"Encoded serial : 02 03 {serial}" in out
    auth_pin = out.split("PIN [User Authentication PIN]")[1].split("PIN [")[0]
    assert "Tries left     : 3" in auth_pin and "min_len:4, max_len:4" in auth_pin
    assert _verifies(card) == []  # listing PINs reads tries without spending one


def test_opensc_reads_the_same_user_authentication_certificate(card: VirtualJpkiCard) -> None:
    read = _run("pkcs15-tool", "--reader", "0", "--read-certificate", "01")
    assert read.returncode == 0, read.stderr
    expected = citizen(1, "1234").certificate.public_bytes(serialization.Encoding.PEM).decode()
    assert read.stdout.strip() == expected.strip()


def test_pkcs11_signature_verifies_with_openssl_against_the_certificate(
    card: VirtualJpkiCard, tmp_path: Path
) -> None:
    data, sig = tmp_path / "challenge.bin", tmp_path / "signature.bin"
    cert, pub = tmp_path / "cert.pem", tmp_path / "pub.pem"
    data.write_bytes(b"MyKey kiosk challenge 0001")
    read = _run("pkcs15-tool", "--reader", "0", "--read-certificate", "01")
    cert.write_text(read.stdout)
    signed = _run(
        "pkcs11-tool", "--module", PKCS11, "--slot-index", "0", "--login", "--pin", "1234",
        "--sign", "--id", "01", "--mechanism", "SHA256-RSA-PKCS",
        "--input-file", str(data), "--output-file", str(sig),
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert len(sig.read_bytes()) == 256
    assert _run("openssl", "x509", "-in", str(cert), "-pubkey", "-noout").returncode == 0
    pub.write_text(_run("openssl", "x509", "-in", str(cert), "-pubkey", "-noout").stdout)
    verified = _run(
        "openssl", "dgst", "-sha256", "-verify", str(pub), "-signature", str(sig), str(data)
    )
    assert verified.stdout.strip() == "Verified OK", verified.stderr
    assert len(_verifies(card)) == 1  # the PIN went to the user-authentication PIN, once
    assert card.counter.tries_left == 3
    data.write_bytes(b"another challenge")  # and the signature is not valid for anything else
    tampered = _run(
        "openssl", "dgst", "-sha256", "-verify", str(pub), "-signature", str(sig), str(data)
    )
    assert tampered.returncode != 0


def test_a_wrong_pin_through_pkcs11_spends_one_try_on_the_card(card: VirtualJpkiCard) -> None:
    login = _run(
        "pkcs11-tool", "--module", PKCS11, "--slot-index", "0", "--login", "--pin", "9999",
        "--list-objects",
    )  # fmt: skip
    assert login.returncode != 0
    assert "CKR_PIN_INCORRECT" in login.stderr
    assert card.counter.tries_left == 2
    listed = _run("pkcs15-tool", "--reader", "0", "--list-pins")
    auth_pin = listed.stdout.split("PIN [User Authentication PIN]")[1].split("PIN [")[0]
    assert "Tries left     : 2" in auth_pin

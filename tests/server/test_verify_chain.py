"""server.verify's chain check: the RSA PKCS#1 v1.5 fast path and the general fallback agree
with cryptography's own ``verify_directly_issued_by`` (unit tests on in-memory certificates)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

from server.verify import ProofRejected, Trust, verify_card

NOW = dt.datetime.now(dt.UTC)
DIGEST = bytes(range(32))
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str, kind: x509.name._ASN1Type | None = None) -> x509.Name:
    attribute = (
        x509.NameAttribute(NameOID.COMMON_NAME, cn)
        if kind is None
        else x509.NameAttribute(NameOID.COMMON_NAME, cn, _type=kind)
    )
    return x509.Name([attribute])


def _cert(subject: x509.Name, issuer: x509.Name, key, signer, ca: bool) -> x509.Certificate:  # type: ignore[no-untyped-def]
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def _signature() -> bytes:
    return _RSA.sign(DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


@pytest.mark.parametrize("ca_key", ["rsa", "ecdsa"])
def test_a_card_of_a_trusted_ca_verifies_whatever_the_ca_key(ca_key: str) -> None:
    key = _RSA if ca_key == "rsa" else ec.generate_private_key(ec.SECP256R1())
    ca = _cert(_name("CA"), _name("CA"), key, key, ca=True)
    leaf = _cert(_name("card"), ca.subject, _RSA, key, ca=False)
    leaf.verify_directly_issued_by(ca)  # what the fast path stands in for
    der = leaf.public_bytes(serialization.Encoding.DER)
    assert verify_card(der, _signature(), DIGEST, Trust((ca,), {}), NOW) == leaf


def test_a_ca_with_the_same_name_but_another_key_is_not_the_issuer() -> None:
    real = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _cert(_name("CA"), _name("CA"), real, real, ca=True)
    forged = _cert(_name("card"), ca.subject, _RSA, _RSA, ca=False)  # signed by someone else
    der = forged.public_bytes(serialization.Encoding.DER)
    with pytest.raises(ProofRejected, match="not issued by a trusted CA"):
        verify_card(der, _signature(), DIGEST, Trust((ca,), {}), NOW)


def test_the_same_name_in_another_string_type_still_names_the_issuer() -> None:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _cert(_name("CA"), _name("CA"), ca_key, ca_key, ca=True)  # UTF8String
    printable = _name("CA", x509.name._ASN1Type.PrintableString)
    leaf = _cert(_name("card"), printable, _RSA, ca_key, ca=False)
    assert leaf.issuer.public_bytes() != ca.subject.public_bytes()
    assert leaf.issuer == ca.subject  # cryptography's (and verify_directly_issued_by's) rule
    der = leaf.public_bytes(serialization.Encoding.DER)
    assert verify_card(der, _signature(), DIGEST, Trust((ca,), {}), NOW) == leaf

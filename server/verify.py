"""Checking a card's proof: the certificate chain, its validity period, and the signature.

The card signs ``DigestInfo(SHA-256(nonce || terminal ID || purpose))`` with PKCS#1 v1.5 (the
kiosk hashes, the card pads; see ``appliance/proof.py``). The platform recomputes the digest from
*its own* record of the nonce, the *session's* terminal and the purpose, so a signature made for
another terminal or another purpose does not verify here.

Every refusal is a :class:`ProofRejected` whose ``reason`` is safe to log: it never holds the
certificate, its serial or anything else that identifies the card.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256


class ProofRejected(Exception):
    """The card's proof does not hold. ``reason`` is for the log and names no card."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def challenge_digest(nonce: bytes, terminal_id: str, purpose: str) -> bytes:
    """SHA-256(nonce || terminal ID || purpose), the value the card signed."""
    return hashlib.sha256(nonce + terminal_id.encode("ascii") + purpose.encode("ascii")).digest()


def serial_hex(serial_number: int) -> str:
    """A certificate serial as the platform stores it: upper-case hex, even length (030D45)."""
    text = f"{serial_number:X}"
    return "0" + text if len(text) % 2 else text


def load_cas(pems: Iterable[bytes]) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate(pem) for pem in pems]


def verify_card(
    certificate_der: bytes,
    signature: bytes,
    digest: bytes,
    cas: list[x509.Certificate],
    now: dt.datetime,
) -> x509.Certificate:
    """Return the parsed certificate if the whole proof holds, else raise ProofRejected."""
    try:
        cert = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise ProofRejected("certificate is not DER X.509") from exc
    issuer = _issuing_ca(cert, cas)
    for which, c in (("certificate", cert), ("issuing CA", issuer)):
        if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
            raise ProofRejected(f"{which} outside its validity period")
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ProofRejected("certificate key is not RSA")
    try:
        public_key.verify(signature, digest, PKCS1v15(), Prehashed(SHA256()))
    except InvalidSignature as exc:
        raise ProofRejected("signature does not verify") from exc
    return cert


def _issuing_ca(cert: x509.Certificate, cas: list[x509.Certificate]) -> x509.Certificate:
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return ca
    raise ProofRejected("certificate not issued by a trusted CA")

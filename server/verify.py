"""Checking a card's proof: the certificate chain, its validity period, and the signature.

The card signs ``DigestInfo(SHA-256(nonce || terminal ID || purpose))`` with PKCS#1 v1.5 (the
kiosk hashes, the card pads; see ``appliance/proof.py``). The platform recomputes the digest from
*its own* record of the nonce, the *session's* terminal and the purpose, so a signature made for
another terminal or another purpose does not verify here.

A certificate must also be absent from its CA's revocation list when one is configured
(``mykey-platform add-crl``); a list past its ``nextUpdate`` refuses every card of that CA
(fail closed) until a fresh one is loaded. A CA without a list is checked by chain only, and the
platform logs that at start. Without a signature (an issuer's PIN-less "certificate only"
policy) the chain, validity and revocation are still checked; the caller decides what such a
proof may unlock.

Every refusal is a :class:`ProofRejected` whose ``reason`` is safe to log: it never holds the
certificate, its serial or anything else that identifies the card.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from server.dbapi import Connection


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


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL from PEM or DER bytes; ValueError if it is neither."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


@dataclass(frozen=True)
class Trust:
    """The trusted CAs and, per CA subject, its revocation list.

    ``names`` (each CA's RFC 4514 subject, the CRL table's key) and ``subjects`` (the same as
    DER, compared in one call where ``Name.__eq__`` walks every attribute in Python) are worked
    out once per load of the trust tables, not once per lookup.
    """

    cas: tuple[x509.Certificate, ...]
    crls: dict[str, x509.CertificateRevocationList]
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    subjects: tuple[bytes, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(ca.subject.rfc4514_string() for ca in self.cas))
        object.__setattr__(self, "subjects", tuple(ca.subject.public_bytes() for ca in self.cas))


class TrustStore:
    """The database's CAs and CRLs, parsed once and re-read only when the tables change.

    Parsing PEM and a large CRL on every lookup would cost more than the lookup itself; the
    cache key is a cheap summary of both tables (row counts, newest load time, CA ids).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[object, ...] | None = None
        self._trust = Trust((), {})

    def load(self, conn: Connection) -> Trust:
        key = tuple(
            conn.execute(
                "SELECT (SELECT group_concat(ca_id) FROM ca_certificates),"
                " (SELECT count(*) FROM crls), (SELECT max(loaded_at) FROM crls)"
            ).fetchone()
        )
        with self._lock:
            if key != self._key:
                cas = tuple(
                    load_cas(r[0].encode() for r in conn.execute("SELECT pem FROM ca_certificates"))
                )
                crls = {
                    r[0]: x509.load_der_x509_crl(r[1])
                    for r in conn.execute("SELECT ca_subject, der FROM crls")
                }
                self._trust, self._key = Trust(cas, crls), key
            return self._trust


def verify_card(
    certificate_der: bytes,
    signature: bytes | None,
    digest: bytes,
    trust: Trust | list[x509.Certificate],
    now: dt.datetime,
) -> x509.Certificate:
    """Return the parsed certificate if the whole proof holds, else raise ProofRejected.

    ``signature=None`` checks the certificate alone (chain, validity, revocation).
    """
    if not isinstance(trust, Trust):
        trust = Trust(tuple(trust), {})
    try:
        cert = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise ProofRejected("certificate is not DER X.509") from exc
    which_ca = _issuing_ca(cert, trust)
    issuer = trust.cas[which_ca]
    for which, c in (("certificate", cert), ("issuing CA", issuer)):
        if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
            raise ProofRejected(f"{which} outside its validity period")
    crl = trust.crls.get(trust.names[which_ca])
    if crl is not None:
        if crl.next_update_utc is None or crl.next_update_utc < now:
            raise ProofRejected("the CA's revocation list is out of date")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise ProofRejected("certificate revoked")
    public_key = cert.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise ProofRejected("certificate key is not RSA")
    if signature is None:
        return cert
    try:
        public_key.verify(signature, digest, PKCS1v15(), Prehashed(SHA256()))
    except InvalidSignature as exc:
        raise ProofRejected("signature does not verify") from exc
    return cert


def _issuing_ca(cert: x509.Certificate, trust: Trust) -> int:
    """The index of the CA that signed ``cert``. Only CAs whose subject is the certificate's
    issuer are tried: with several JPKI CAs configured, each wrong one would otherwise cost a
    failed signature check per lookup."""
    issuer = cert.issuer.public_bytes()
    for index, ca in enumerate(trust.cas):
        if trust.subjects[index] != issuer and ca.subject != cert.issuer:  # same name, other
            continue  # string types: DER differs, X.500 names still match (RFC 5280 7.1)
        try:
            _check_signed_by(cert, ca)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        return index
    raise ProofRejected("certificate not issued by a trusted CA")


def _check_signed_by(cert: x509.Certificate, ca: x509.Certificate) -> None:
    """``cert.verify_directly_issued_by(ca)``, with the common case (an RSA CA signing with
    PKCS#1 v1.5, as JPKI's do) done straight on the CA's key: the general call costs half
    as much again as the signature check itself. The issuer name was compared by the caller."""
    key, padding, digest = (
        ca.public_key(),
        cert.signature_algorithm_parameters,
        cert.signature_hash_algorithm,
    )
    if isinstance(key, rsa.RSAPublicKey) and isinstance(padding, PKCS1v15) and digest is not None:
        key.verify(cert.signature, cert.tbs_certificate_bytes, padding, digest)
    else:
        cert.verify_directly_issued_by(ca)

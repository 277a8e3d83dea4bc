"""What a bookmobile kiosk carries to check a card alone: CA certificates and revocation lists.

All of it is public (the JPKI CAs and their CRLs), so it is kept in clear; what matters is its
*age*. The platform's checks (``server/verify.py``) are repeated here with ``cryptography``,
because ``sync/`` may not import ``server/``: the certificate must be issued by a cached CA, both
must be inside their validity period, the signature must verify, the CA's revocation list must be
signed by that CA, not older than the configured limit, and must not list the certificate.

Refusals are :mod:`appliance.errors` ``OfflineError`` subclasses whose detail never holds the
certificate, its serial or anything else naming the card.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256

from appliance.errors import CertificateRevoked, OfflineProofInvalid, TrustMissing, TrustStale
from appliance.values import Issuer

DEFAULT_MAX_CRL_AGE = dt.timedelta(hours=48)


@dataclass(frozen=True)
class TrustMaterial:
    """The CA certificates (PEM) and CRLs (DER) fetched before departure, and when."""

    cas: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    fetched_at: dt.datetime
    issuers: tuple[Issuer, ...] = ()
    window: dt.timedelta = dt.timedelta(days=7)  # the platform's acceptance window

    def parsed(self) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList]]:
        cas = [x509.load_pem_x509_certificate(pem) for pem in self.cas]
        crls = [x509.load_der_x509_crl(der) for der in self.crls]
        return cas, crls

    def oldest_crl(self) -> dt.datetime | None:
        """The issue time of the oldest cached list (the one that goes stale first)."""
        _, crls = self.parsed()
        return min((crl.last_update_utc for crl in crls), default=None)


@dataclass(frozen=True)
class TrustStatus:
    """How fresh the cache is, for the banner and ``kioskctl offline status`` (no card data)."""

    cas: int
    crl_age: dt.timedelta | None  # None: no revocation list at all
    limit: dt.timedelta
    fetched_at: dt.datetime | None

    @property
    def fresh(self) -> bool:
        return self.cas > 0 and self.crl_age is not None and self.crl_age <= self.limit


def trust_status(
    material: TrustMaterial | None, now: dt.datetime, limit: dt.timedelta
) -> TrustStatus:
    if material is None:
        return TrustStatus(0, None, limit, None)
    oldest = material.oldest_crl()
    return TrustStatus(
        len(material.cas), None if oldest is None else now - oldest, limit, material.fetched_at
    )


def human_age(age: dt.timedelta | None) -> str:
    """``3h12m`` / ``2d4h``: short enough for a banner line."""
    if age is None:
        return "-"
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return f"{days}d{hours}h" if days else f"{hours}h{minutes:02d}m"


class LocalVerifier:
    """:class:`appliance.offline.OfflineVerifier` over a cached :class:`TrustMaterial`."""

    def __init__(self, material: TrustMaterial | None, max_crl_age: dt.timedelta) -> None:
        self._max_age = max_crl_age
        self._cas: list[x509.Certificate] = []
        self._crls: list[x509.CertificateRevocationList] = []
        if material is not None:
            self._cas, self._crls = material.parsed()

    def check(self, certificate: bytes, digest: bytes, signature: bytes, now: dt.datetime) -> None:
        if not self._cas:
            raise TrustMissing("no CA certificates cached: prepare the kiosk online first")
        try:
            cert = x509.load_der_x509_certificate(certificate)
        except ValueError as exc:
            raise OfflineProofInvalid("certificate is not DER X.509") from exc
        ca = self._issuing_ca(cert)
        for which, c in (("certificate", cert), ("issuing CA", ca)):
            if not c.not_valid_before_utc <= now <= c.not_valid_after_utc:
                raise OfflineProofInvalid(f"{which} outside its validity period")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise OfflineProofInvalid("certificate key is not RSA")
        try:
            key.verify(signature, digest, PKCS1v15(), Prehashed(SHA256()))
        except InvalidSignature as exc:
            raise OfflineProofInvalid("signature does not verify") from exc
        crl = self._crl_of(ca)
        age = now - crl.last_update_utc
        if age > self._max_age:
            raise TrustStale(f"revocation list is {human_age(age)} old (limit {self._max_age})")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise CertificateRevoked("certificate is on the revocation list")

    def _issuing_ca(self, cert: x509.Certificate) -> x509.Certificate:
        for ca in self._cas:
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
                continue
            return ca
        raise OfflineProofInvalid("certificate not issued by a cached CA")

    def _crl_of(self, ca: x509.Certificate) -> x509.CertificateRevocationList:
        key = ca.public_key()
        candidates = [
            crl
            for crl in self._crls
            if crl.issuer == ca.subject
            and isinstance(key, rsa.RSAPublicKey)
            and crl.is_signature_valid(key)
        ]
        if not candidates:
            raise TrustStale("no valid revocation list cached for the card's CA")
        return max(candidates, key=lambda crl: crl.last_update_utc)

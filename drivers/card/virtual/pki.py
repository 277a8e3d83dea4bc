"""A deterministic test JPKI PKI: a CA and demo citizens, the same bytes on every machine.

Deterministic (seeded RSA prime search, fixed serials and dates) so that the reference platform's
demo data and the virtual cards agree without shipping key files, and so that snapshots and
demos are reproducible. These keys are public test material: never trust this CA in production.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_E = 65537
_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]
NOT_BEFORE = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2034, 1, 1, tzinfo=dt.UTC)


def _probably_prime(n: int, rng: random.Random, rounds: int = 40) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return False
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if math.gcd(_E, candidate - 1) == 1 and _probably_prime(candidate, rng):
            return candidate


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mykey-kiosk" / "test-pki"


@functools.cache
def seeded_rsa_key(seed: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key derived from ``seed``: same seed, same key, on every machine.

    The prime search takes about a second in pure Python, so the result is cached on disk (it is
    public test material); a corrupt cache file is simply recomputed.
    """
    path = _cache_dir() / (hashlib.sha256(f"{seed}:{bits}".encode()).hexdigest()[:24] + ".der")
    try:
        cached = serialization.load_der_private_key(path.read_bytes(), password=None)
        if isinstance(cached, rsa.RSAPrivateKey):
            return cached
    except (OSError, ValueError):
        pass
    key = _derive_key(seed, bits)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        tmp.replace(path)
    except OSError:
        pass
    return key


def _derive_key(seed: str, bits: int) -> rsa.RSAPrivateKey:
    rng = random.Random(f"mykey-kiosk-test-pki:{seed}")
    while True:
        p, q = _prime(rng, bits // 2), _prime(rng, bits // 2)
        if p != q:
            break
    d = pow(_E, -1, math.lcm(p - 1, q - 1))
    public = rsa.RSAPublicNumbers(_E, p * q)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
    )
    return numbers.private_key()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MyKey Kiosk TEST PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass(frozen=True)
class TestCa:
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class CitizenCredentials:
    """What sits on one virtual card's JPKI AP: key, user-auth certificate, PIN."""

    number: int
    pin: str = field(repr=False)
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    serial: int,
    signer: rsa.RSAPrivateKey,
    *,
    basic: x509.BasicConstraints | None,
    usage: x509.KeyUsage | None,
) -> x509.Certificate:
    """One test certificate over the shared validity window; every extension critical, as in
    JPKI's profiles. RSA PKCS#1 v1.5 signing is deterministic, so the bytes are stable too."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
    )
    for extension in (basic, usage):
        if extension is not None:
            builder = builder.add_extension(extension, critical=True)
    return builder.sign(signer, hashes.SHA256())


_CA_USAGE = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
_AUTH_USAGE = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
_SIGN_USAGE = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
_CA = x509.BasicConstraints(ca=True, path_length=0)


@functools.cache
def test_ca(name: str = "default") -> TestCa:
    key = seeded_rsa_key(f"ca:{name}")
    subject = _name(f"TEST JPKI User Authentication CA ({name})")
    cert = _certificate(subject, subject, key, 0x1000, key, basic=_CA, usage=_CA_USAGE)
    return TestCa(key, cert)


@functools.cache
def citizen(number: int, pin: str, ca_name: str = "default") -> CitizenCredentials:
    """Demo citizen ``number``'s card. JPKI user-auth certificates name nobody; nor does this."""
    ca = test_ca(ca_name)
    key = seeded_rsa_key(f"citizen:{ca_name}:{number}")
    cert = _certificate(
        _name(f"TEST user authentication {number:06d}"),
        ca.certificate.subject,
        key,
        0x030D40 + number,
        ca.key,
        basic=x509.BasicConstraints(ca=False, path_length=None),
        usage=_AUTH_USAGE,
    )
    return CitizenCredentials(number, pin, key, cert)


def test_crl(
    revoked: Sequence[tuple[int, dt.datetime]] = (),
    *,
    this_update: dt.datetime,
    next_update: dt.datetime | None = None,
    ca_name: str = "default",
    number: int = 1,
) -> x509.CertificateRevocationList:
    """A CRL of the test CA revoking ``(serial, revocation time)`` pairs (bookmobile tests).

    Not cached and not deterministic in its dates: freshness is exactly what the offline checks
    look at, so the caller says when the list was issued.
    """
    ca = test_ca(ca_name)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(this_update)
        .next_update(next_update or this_update + dt.timedelta(days=2))
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca.key, hashes.SHA256())


@dataclass(frozen=True)
class SigningCredentials:
    """The card's *other* half: the digital-signature certificate, its key and password.

    The kiosk never touches these, but a real card carries them and other JPKI software (OpenSC
    lists both PINs when it binds) expects the files, so the virtual card has them too. They are
    built only when something actually reads or uses them: the kiosk's tests never pay for them.
    """

    password: str = field(repr=False)
    key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    ca_certificate: x509.Certificate


def signing_password(number: int) -> str:
    """Demo citizen ``number``'s signing password (6-16 upper-case letters and digits)."""
    return f"TESTSIGN{number:04d}"


@functools.cache
def signing_ca(name: str = "default") -> TestCa:
    key = seeded_rsa_key(f"sign-ca:{name}")
    subject = _name(f"TEST JPKI Digital Signature CA ({name})")
    cert = _certificate(subject, subject, key, 0x2000, key, basic=_CA, usage=None)
    return TestCa(key, cert)


@functools.cache
def signing(number: int, ca_name: str = "default") -> SigningCredentials:
    """The signing certificate of demo citizen ``number``: a made-up test name, no address."""
    ca = signing_ca(ca_name)
    key = seeded_rsa_key(f"citizen-sign:{ca_name}:{number}")
    cert = _certificate(
        _name(f"TEST signer {number:06d}"),
        ca.certificate.subject,
        key,
        0x040D40 + number,
        ca.key,
        basic=None,
        usage=_SIGN_USAGE,
    )
    return SigningCredentials(signing_password(number), key, cert, ca.certificate)

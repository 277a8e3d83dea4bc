"""The TLS context that checks the platform's certificate: ``platform_ca`` -> ``verify=``.

A kiosk talks to one platform, usually run by its municipality under a private CA, so it trusts
exactly the CA the technician installed (provisioning writes ``platform-ca.pem`` into the data
folder and ``platform_ca = "platform-ca.pem"`` into the settings) rather than every CA a public
trust store holds. ``platform_ca = ""`` means the system trust store, for a platform with a
public certificate.

There is deliberately no "verify off" value: a certificate that does not verify is
:class:`appliance.errors.PlatformCertificateRejected` at the first call (see
:mod:`sync.transport`), and a CA file that cannot be used is
:class:`appliance.errors.PlatformCaInvalid` at start-up, before anything is sent.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from appliance.errors import PlatformCaInvalid


def ca_path(setting: str, data_dir: Path) -> Path | None:
    """The CA file ``platform_ca`` names (relative = in ``data_dir``); None for the system's."""
    if not setting:
        return None
    path = Path(setting)
    return path if path.is_absolute() else data_dir / path


def platform_verify(setting: str, data_dir: Path) -> ssl.SSLContext:
    """A client context that trusts only the CA certificates in ``platform_ca`` (PEM), or the
    system trust store when it is "". Host names are checked either way."""
    path = ca_path(setting, data_dir)
    if path is None:
        return ssl.create_default_context()
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise PlatformCaInvalid([f"platform_ca: cannot read {path}: {exc.strerror}"]) from exc
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise PlatformCaInvalid([f"platform_ca: {path} holds no PEM certificate"]) from exc
    if not all(_is_ca(cert) for cert in certificates):
        raise PlatformCaInvalid([f"platform_ca: {path} holds a certificate that is not a CA"])
    try:
        return ssl.create_default_context(cadata=pem.decode("ascii"))
    except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
        raise PlatformCaInvalid([f"platform_ca: {path}: {exc}"]) from exc


def _is_ca(cert: x509.Certificate) -> bool:
    """OpenSSL would refuse a chain to a non-CA certificate anyway, at the first call and with a
    vaguer message; a server certificate put here by mistake is said at start-up instead."""
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return cert.version is x509.Version.v1  # an old self-signed root has no extensions

"""The reference platform over HTTPS for the TLS tests: throw-away CAs and a child uvicorn.

``python -m server serve`` has no TLS options (a municipality puts a proxy in front), so this
module is the child process itself: the same app and demo data, served by uvicorn with a
certificate from a CA made for the test run. :func:`make_pki` writes the PEM files.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.platform import REPO
from ui.child import free_port, stop_child


@dataclass(frozen=True)
class Pki:
    ca: Path  # the CA the platform's certificate chains to
    other_ca: Path  # a CA that did not issue it
    cert: Path  # the platform's certificate (127.0.0.1, localhost)
    key: Path
    server_pem: Path  # the platform's own (non-CA) certificate, as a wrong platform_ca


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _ca(label: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(label))
        .issuer_name(_name(label))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca = _ca("test platform CA")
    _, other = _ca("some other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("platform.test"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    pki = Pki(folder / "ca.pem", folder / "other-ca.pem", folder / "server.pem",
              folder / "server.key", folder / "server-only.pem")  # fmt: skip
    pki.ca.write_bytes(ca.public_bytes(pem))
    pki.other_ca.write_bytes(other.public_bytes(pem))
    pki.cert.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    pki.server_pem.write_bytes(cert.public_bytes(pem))
    pki.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return pki


@contextmanager
def https_platform(workdir: Path, pki: Pki, timeout: float = 30.0) -> Iterator[str]:
    """The demo platform on ``https://127.0.0.1:PORT`` (yielded), stopped afterwards."""
    port = free_port()
    log = workdir / "platform.log"
    command = [sys.executable, "-m", "tests.sync.tls_platform", str(workdir / "platform.sqlite"),
               str(pki.cert), str(pki.key), str(port)]  # fmt: skip
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + timeout
        while True:  # a TCP accept is enough: the tests themselves say whether TLS works
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "HTTPS platform did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"https://127.0.0.1:{port}"
    finally:
        stop_child(proc)


def main(argv: list[str]) -> None:
    import uvicorn

    from server.api import Settings
    from server.app import create_app
    from server.demo import load_demo_data

    db, cert, key, port = argv
    load_demo_data(db)
    app = create_app(db, settings=Settings(open_enrolment=True))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning",
                ssl_certfile=cert, ssl_keyfile=key)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])

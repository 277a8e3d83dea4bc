"""``kioskctl provision``: import the technician's ``kiosk-provision.toml``, then wipe it.

At first boot ``kiosk-provision.service`` runs ``kioskctl provision --source
/boot/firmware/kiosk-provision.toml``. The file is checked by :func:`appliance.provision.validate`
(every problem at once) plus what needs a library here (the CA must parse as X.509). On any
problem nothing is imported: the problems go to stdout (the console) and to
``kiosk-provision-error.txt`` next to the file, and the file stays for the technician to fix. On
success the terminal password is sealed into the kiosk's credential store (the same one
``kioskctl enrol`` writes: AES-GCM under a key from the owner-only device secret, bound to this
board, :mod:`sync.credentials`), the other settings go to the data partition (``kiosk.toml`` says
``terminal_password = ""``: "use the enrolled one"), the Wi-Fi passphrase only as its derived WPA
key, and the file is overwritten and deleted from the FAT partition. No file keeps the terminal
password or the Wi-Fi passphrase in clear.

The import runs as root at boot (``kiosk-provision.service``) while the kiosk runs as ``kiosk``.
The device secret is root's (on the image ``$KIOSK_DEVICE_SECRET`` =
``/var/lib/kiosk/system/device-secret``, root-only; the kiosk gets it on a descriptor from the
root wrapper ``kiosk-login``, :mod:`sync.devicesecret`): it is created or read here as root and
held in memory, then the store is sealed with the effective IDs of ``--owner``, so
``kiosk.sqlite`` is the kiosk's (it writes it) while the secret never is. ``kiosk.toml`` names
the configured secret (``device_secret``), so root's ``kioskctl`` on a shell finds it too.

``--check FILE`` only validates (a technician's laptop, the fast image tests); ``--hold FILE``
is what the kiosk screen runs instead of the app while provisioning failed or never happened.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import pwd
import shutil
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError, ProvisioningError
from appliance.messages import bilingual
from appliance.provision import Provisioning, ca_file_name, validate
from ui.settings import fsync_dir, settings_text, write_atomically

ERROR_FILE = "kiosk-provision-error.txt"
SETTINGS_FILE = "kiosk.toml"
RECORD_FILE = "provisioned.json"
CA_FILE = "platform-ca.pem"
WIFI_FILE = "wpa_supplicant-wlan0.conf"
STORE_FILE = "kiosk.sqlite"  # ui/wiring.py's LocalStore, where the sealed credentials live


def check(source: Path) -> Provisioning:
    """Read and validate ``source``; ``ProvisioningError`` lists every problem."""
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ProvisioningError(
            [f"{source.name}: 読めません / cannot be read ({exc.strerror})"]
        ) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8-sig"))  # Windows editors add a BOM
    except UnicodeDecodeError:
        raise ProvisioningError(
            [f"{source.name}: UTF-8 で保存してください / save it as UTF-8 text"]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProvisioningError(
            [f"{source.name}: TOML の書き方に誤りがあります / not valid TOML ({exc})"]
        ) from None
    name = ca_file_name(doc)
    ca_text = None
    if name and (source.parent / name).is_file():
        ca_text = (source.parent / name).read_text(encoding="utf-8-sig", errors="replace")
    problems: list[str] = []
    try:
        plan = validate(doc, ca_text)
    except ProvisioningError as exc:
        problems = exc.problems
        plan = None
    if plan is not None and plan.platform_ca_pem:
        problems += _x509_problems(plan.platform_ca_pem)
    if problems or plan is None:
        raise ProvisioningError(problems)
    return plan


def _x509_problems(pem: str) -> list[str]:
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        return [f"platform.ca: 証明書として読めません / not a readable X.509 certificate ({exc})"]
    now = dt.datetime.now(dt.UTC)
    return [
        f"platform.ca: 証明書 {c.subject.rfc4514_string()} の有効期限が切れています"
        f" / certificate {c.subject.rfc4514_string()} expired on {c.not_valid_after_utc:%Y-%m-%d}"
        for c in certs
        if c.not_valid_after_utc < now
    ]


def _wpa_config(plan: Provisioning) -> str:
    assert plan.wifi is not None
    wifi = plan.wifi
    psk = wifi.psk
    if not (len(psk) == 64 and all(c in "0123456789abcdefABCDEF" for c in psk)):
        # what wpa_passphrase writes: the 256-bit key, so the passphrase is in no file
        psk = hashlib.pbkdf2_hmac("sha1", psk.encode(), wifi.ssid.encode(), 4096, 32).hex()
    return (
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev\n"
        f"country={wifi.country}\nupdate_config=0\n\nnetwork={{\n"
        f"\tssid={json.dumps(wifi.ssid, ensure_ascii=False)}\n\tpsk={psk}\n"
        f"\tscan_ssid={1 if wifi.hidden else 0}\n\tkey_mgmt=WPA-PSK\n}}\n"
    )


@contextlib.contextmanager
def _as_owner(owner: str | None) -> Iterator[None]:
    """Run the block with ``owner``'s effective IDs when root (the files it creates are then
    the kiosk's, and the device secret passes the owner check); otherwise as we are."""
    if not owner or os.geteuid() != 0:
        yield
        return
    entry = pwd.getpwnam(owner)
    os.setegid(entry.pw_gid)
    os.seteuid(entry.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _seal(plan: Provisioning, data_dir: Path, owner: str | None) -> Path:
    """Enrol the terminal ID and password in the kiosk's store, as ``kioskctl enrol`` does."""
    from sync.credentials import TerminalIdentity, enrol
    from sync.devicesecret import ensure_device_secret, holding_device_secret, secret_path
    from sync.fingerprint import board_fingerprint
    from sync.store import LocalStore

    secret = secret_path(_configured_secret(), data_dir)
    ensure_device_secret(secret)  # as we are (root at boot): the secret is never the kiosk's
    # in memory: the owner's IDs below may not open it
    with holding_device_secret(secret), _as_owner(owner):
        identity = TerminalIdentity(plan.terminal_id, plan.terminal_password, board_fingerprint())
        with LocalStore(data_dir / STORE_FILE) as store:
            # the provisioning file is the technician's word: it replaces any earlier enrolment
            enrol(store, identity, secret)
    return data_dir / STORE_FILE


def _configured_secret() -> str:
    from sync.devicesecret import PATH_ENV

    return os.environ.get(PATH_ENV, "")


def install(plan: Provisioning, data_dir: Path, system_dir: Path | None, owner: str | None,
            source_digest: str) -> list[Path]:  # fmt: skip
    """Seal the credentials, write the checked settings into the data partition; the paths
    written. ``ConfigError`` (an unusable device secret) before any settings file is written."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if owner:
        _chown(data_dir, owner)
    written = [_seal(plan, data_dir, owner)]
    settings = plan.kiosk_settings()
    settings["terminal_password"] = ""  # sealed in the store: "" = the enrolled one
    if configured := _configured_secret():  # the image's root-only one: root's kioskctl on a
        settings["device_secret"] = configured  # shell needs it
    if plan.platform_ca_pem:
        write_atomically(data_dir / CA_FILE, plan.platform_ca_pem, 0o644)
        written.append(data_dir / CA_FILE)
        # what the platform client verifies TLS against (sync/tls.py); relative = data folder
        settings["platform_ca"] = CA_FILE
    text = settings_text("kioskctl provision from kiosk-provision.toml; edit with care", settings)
    write_atomically(data_dir / SETTINGS_FILE, text)
    written.append(data_dir / SETTINGS_FILE)
    record: dict[str, Any] = {
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source_sha256": source_digest,
        "terminal_id": plan.terminal_id,
        "issuer": plan.issuer,
        "platform_url": plan.platform_url,
        "platform_ca": CA_FILE if plan.platform_ca_pem else "",
        "printer": plan.printer,
        "wifi_ssid": plan.wifi.ssid if plan.wifi else "",
        "credential_store": f"{STORE_FILE}: sealed (AES-GCM, device secret, this board)",
    }
    record_text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    write_atomically(data_dir / RECORD_FILE, record_text, 0o644)
    written.append(data_dir / RECORD_FILE)
    if plan.wifi is not None and system_dir is not None:
        system_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(system_dir / WIFI_FILE, _wpa_config(plan))
        written.append(system_dir / WIFI_FILE)
    if owner:
        for path in written:
            if path.parent == data_dir:
                _chown(path, owner)
    return written


def _chown(path: Path, owner: str) -> None:
    shutil.chown(path, owner, pwd.getpwnam(owner).pw_gid)  # the user's own group


def wipe(path: Path) -> None:
    """Overwrite with zeros, fsync, delete: the FAT partition keeps no terminal password."""
    if not path.exists():
        return
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(b"\0" * size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()
    fsync_dir(path.parent)


def report(source: Path, problems: list[str]) -> str:
    """The error text for the screen and for ``kiosk-provision-error.txt``."""
    stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    body = "\n".join(f"  - {p}" for p in problems)
    return f"{bilingual('error.provision')}\n\n{source.name} ({stamp}):\n{body}\n"


def run_import(source: Path, data_dir: Path, system_dir: Path | None, owner: str | None) -> int:
    error_file = source.with_name(ERROR_FILE)
    try:
        plan = check(source)
    except ProvisioningError as exc:
        text = report(source, exc.problems)
        print(text, end="")
        write_atomically(error_file, text.replace("\n", "\r\n"), 0o644)  # CRLF: readable in Notepad
        return 2
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    try:
        written = install(plan, data_dir, system_dir, owner, digest)
    except ConfigError as exc:  # e.g. a device secret left by another user: the technician's
        text = report(source, exc.problems)
        print(text, end="")
        write_atomically(error_file, text.replace("\n", "\r\n"), 0o644)
        return 2
    for path in written:
        print(f"wrote {path}")
    name = ca_file_name(tomllib.loads(source.read_bytes().decode("utf-8-sig")))
    wipe(source)
    if name:
        wipe(source.parent / name)
    if error_file.exists():
        error_file.unlink()
    print(bilingual("provision.done"))
    return 0


def hold(error_file: Path, config: Path | None, poll_s: float = 5.0) -> int:
    """Show why the kiosk cannot start (bad or missing provisioning) until that changes.

    Runs on tty1 in place of the app, telling systemd it is up and alive (the screen is the
    technician's only output), and exits once a settings file exists so the app takes over.
    """
    from ui.sdnotify import notify, ping_interval

    if error_file.exists():
        print(error_file.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n"))
    else:
        print(bilingual("provision.missing"))
    sys.stdout.flush()
    notify("READY=1")
    interval = min(poll_s, ping_interval())
    while not (config is not None and config.exists() and not error_file.exists()):
        notify("WATCHDOG=1")
        time.sleep(interval)
    return 0


def cmd_provision(args: argparse.Namespace) -> int:
    if args.check:
        try:
            plan = check(Path(args.check))
        except ProvisioningError as exc:
            print(report(Path(args.check), exc.problems), end="", file=sys.stderr)
            return 2
        print(f"ok: terminal {plan.terminal_id}, issuer {plan.issuer}, {plan.platform_url}")
        return 0
    if args.hold:
        config = os.environ.get("KIOSK_CONFIG")
        return hold(Path(args.hold), Path(config) if config else None)
    system_dir = Path(args.system_dir) if args.system_dir else None
    return run_import(Path(args.source), Path(args.data_dir), system_dir, args.owner)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("provision", help="import kiosk-provision.toml (first boot), then wipe it")
    p.add_argument("--source", default="/boot/firmware/kiosk-provision.toml")
    p.add_argument("--data-dir", default=os.environ.get("KIOSK_DATA_DIR", "/var/lib/kiosk/data"))
    p.add_argument("--system-dir", help="where the Wi-Fi config goes (root-only)")
    p.add_argument("--owner", help="user that owns the imported files (the kiosk user)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", metavar="FILE", help="only validate FILE, change nothing")
    mode.add_argument("--hold", metavar="ERROR_FILE", help="show the error until provisioned")
    p.set_defaults(func=cmd_provision)

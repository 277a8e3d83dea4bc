"""Fast checks of the image recipe (seconds): systemd units, shell scripts, the layout.

The full build and boot are ``make image`` / ``make image-test`` (image/README.md). Here:
``systemd-analyze verify`` on the kiosk's units inside a throw-away root made of the overlay plus
this host's systemd units, and shellcheck on every script of the recipe.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

IMAGE = Path(__file__).parents[2] / "image"
OVERLAY = IMAGE / "overlay"
UNITS = sorted(p.name for p in (OVERLAY / "etc/systemd/system").glob("*.service"))
HELPERS = sorted((OVERLAY / "usr/local/lib/kiosk").iterdir())
SCRIPTS = [
    IMAGE / "build.sh",
    IMAGE / "customize.sh",
    IMAGE / "image-test.sh",
    *(p for p in HELPERS if p.read_text().startswith(("#!/bin/sh", "#!/bin/bash"))),
]
GROWDATA = OVERLAY / "usr/local/lib/kiosk/kiosk-growdata"
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", Path(__file__).parents[2] / ".venv")) / "bin"
# Executables the units start that come from Debian packages of the image, not of this host.
FROM_IMAGE_PACKAGES = {"/usr/bin/kmscon": "kmscon"}


def _verify_root(tmp: Path, overlay: Path) -> Path:
    root = tmp / "root"
    shutil.copytree(overlay, root, symlinks=True)
    shutil.copytree("/lib/systemd/system", root / "lib/systemd/system", symlinks=True,
                    dirs_exist_ok=True)  # fmt: skip
    (root / "opt/kiosk/bin").mkdir(parents=True)
    for name in ("kioskctl", "kiosk", "mykey-platform"):  # the venv's real entry points
        shutil.copy2(VENV_BIN / name, root / "opt/kiosk/bin" / name)
    (root / "bin").mkdir(exist_ok=True)
    shutil.copy2("/bin/sh", root / "bin/sh")  # the shell of both the host and the image
    packages = (IMAGE / "build.sh").read_text()
    for path, package in FROM_IMAGE_PACKAGES.items():
        assert re.search(rf"\b{package}\b", packages), f"{package} must be on the image"
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"#!/bin/sh\n# stands for {path} from Debian package {package}\n")
        target.chmod(0o755)
    return root


def _verify(root: Path, units: list[str]) -> str:
    out = subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", "--man=no", "--generators=no", *units],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return (out.stdout + out.stderr).strip()


@pytest.fixture(scope="module")
def verify_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _verify_root(tmp_path_factory.mktemp("units"), OVERLAY)


def test_units_verify(verify_root: Path) -> None:
    assert UNITS, "no units in the overlay"
    assert _verify(verify_root, UNITS) == ""


def test_verify_does_catch_a_broken_unit(verify_root: Path) -> None:
    units = verify_root / "etc/systemd/system"
    broken = (units / "kiosk.service").read_text()
    broken = broken.replace("Restart=on-failure", "Restart=sometimes")
    (units / "kiosk-broken.service").write_text(broken)
    try:
        assert "restart specifier" in _verify(verify_root, ["kiosk-broken.service"])
    finally:
        (units / "kiosk-broken.service").unlink()


def test_kiosk_unit_has_the_watchdog_and_restart() -> None:
    unit = (OVERLAY / "etc/systemd/system/kiosk.service").read_text()
    for line in ("Type=notify", "NotifyAccess=all", "Restart=on-failure", "WatchdogSec=",
                 "Conflicts=getty@tty1.service", "--no-reset-env", "kiosk-login"):  # fmt: skip
        assert line in unit
    login = (OVERLAY / "usr/local/lib/kiosk/kiosk-login").read_text()
    assert "exec 3<" in login and "KIOSK_DEVICE_SECRET_FD=3" in login
    assert "runuser -u kiosk" in login
    manager = (OVERLAY / "etc/systemd/system.conf.d/kiosk-watchdog.conf").read_text()
    assert "RuntimeWatchdogSec=" in manager
    journal = (OVERLAY / "etc/systemd/journald.conf.d/kiosk.conf").read_text()
    assert "Storage=volatile" in journal and "RuntimeMaxUse=" in journal


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck(script: Path) -> None:
    out = subprocess.run(
        ["shellcheck", "--severity=style", "--external-sources", str(script)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout


def test_every_tunable_is_a_kiosk_variable_with_a_default() -> None:
    scripts = [IMAGE / "build.sh", IMAGE / "customize.sh", IMAGE / "image-test.sh"]
    texts = [p.read_text() for p in scripts]
    used = {v for t in texts for v in re.findall(r"\$\{?(KIOSK_[A-Z0-9_]+)", t)}
    defaulted = {v for t in texts for v in re.findall(r': "\$\{(KIOSK_[A-Z0-9_]+):=', t)}
    assert used <= defaulted, f"used without a default: {sorted(used - defaulted)}"
    readme = (IMAGE / "README.md").read_text()
    assert [v for v in sorted(defaulted) if v not in readme] == [], "document them in README"


def test_genimage_layout_is_mbr_boot_root_data() -> None:
    cfg = (IMAGE / "genimage.cfg").read_text()
    assert 'partition-table-type = "mbr"' in cfg
    parts = re.findall(r"partition (\w+) \{", cfg)
    assert parts == ["boot", "rootfs", "data"]
    assert 'mountpoint = "/boot/firmware"' in cfg and 'mountpoint = "/var/lib/kiosk"' in cfg
    fstab = (OVERLAY / "etc/fstab").read_text()
    assert re.search(r"LABEL=rootfs\s+/\s+ext4\s+ro", fstab)
    assert 'overlayroot="tmpfs' in (OVERLAY / "etc/overlayroot.conf").read_text()


def test_helpers_are_shell_or_python_and_all_checked() -> None:
    python = [p for p in HELPERS if p.read_text().startswith("#!/usr/bin/python3")]
    assert sorted(SCRIPTS[3:] + python) == HELPERS and python == [GROWDATA]
    compile(GROWDATA.read_text(), str(GROWDATA), "exec")


def _mbr_disk(path: Path, parts: list[tuple[int, int]], total_mib: int) -> None:
    """A sparse disk image with an MBR of (start, size) sectors, type 0x83 (0x0C first)."""
    mbr = bytearray(512)
    for i, (start, size) in enumerate(parts):
        struct.pack_into("<B3sB3sII", mbr, 446 + 16 * i, 0, b"", 0x0C if i == 0 else 0x83,
                         b"", start, size)  # fmt: skip
    mbr[510:512] = b"\x55\xaa"
    with open(path, "wb") as fh:
        fh.write(mbr)
        fh.truncate(total_mib * 1048576)


def _entry(path: Path, number: int) -> tuple[int, int]:
    with open(path, "rb") as fh:
        mbr = fh.read(512)  # not read_bytes(): the card is 4 GB (sparse)
    _, _, _, _, start, size = struct.unpack_from("<B3sB3sII", mbr, 446 + 16 * (number - 1))
    return start, size


def _growdata(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(GROWDATA), *args], capture_output=True, text=True,
                          timeout=30, check=False)  # fmt: skip


def test_growdata_extends_the_last_partition_to_the_card(tmp_path: Path) -> None:
    disk = tmp_path / "card.img"
    layout = [(8192, 524288), (532480, 2048000), (2580480, 524288)]  # as genimage lays it out
    _mbr_disk(disk, layout, total_mib=4000)
    out = _growdata("--disk", str(disk), "3")
    assert out.returncode == 0, out.stderr
    start, size = _entry(disk, 3)
    assert start == 2580480 and start + size == 4000 * 2048  # the end of the card, 1 MiB-aligned
    assert _entry(disk, 2) == layout[1] and _entry(disk, 1) == layout[0]
    assert "grown to" in out.stdout
    again = _growdata("--disk", str(disk), "3")  # every later boot: nothing to do
    assert again.returncode == 0 and "already fills" in again.stdout
    assert _entry(disk, 3) == (start, size)


def test_growdata_refuses_a_partition_that_is_not_the_last(tmp_path: Path) -> None:
    disk = tmp_path / "card.img"
    layout = [(8192, 524288), (532480, 2048000), (2580480, 524288)]
    _mbr_disk(disk, layout, total_mib=4000)
    out = _growdata("--disk", str(disk), "2")
    assert out.returncode != 0 and "not the last" in out.stderr
    assert _entry(disk, 2) == layout[1]


def test_data_partition_grows_at_boot() -> None:
    fstab = (OVERLAY / "etc/fstab").read_text()
    assert re.search(r"LABEL=kioskdata\s+/var/lib/kiosk\s+ext4\s+\S*x-systemd\.growfs", fstab)
    unit = (OVERLAY / "etc/systemd/system/kiosk-growdata.service").read_text()
    assert "Before=systemd-fsck@dev-disk-by\\x2dlabel-kioskdata.service var-lib-kiosk.mount" in unit
    assert "kiosk-growdata.service" in (IMAGE / "customize.sh").read_text()

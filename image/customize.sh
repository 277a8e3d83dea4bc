#!/bin/bash
# The one customise script mmdebstrap runs (build.sh passes it as --setup-hook and
# --customize-hook). It runs on the build host; "$2" is the arm64 root, entered with chroot.
#   customize.sh setup ROOT      before any package: initramfs settings (so the kernel's first
#                                mkinitramfs under emulation is already the small MODULES=list one)
#   customize.sh customize ROOT  after the packages: overlay, tunables, kiosk user, venv, units
# Every tunable is a KIOSK_ variable with a default; image/README.md lists them.
set -euo pipefail

phase=$1
root=$2
here=$(cd "$(dirname "$0")" && pwd)

: "${KIOSK_BUILD_DIR:=$here/build}"
user=kiosk  # named in the units and udev rules of the overlay too
: "${KIOSK_HOSTNAME:=mykey-kiosk}"
: "${KIOSK_TIMEZONE:=Asia/Tokyo}"
: "${KIOSK_NTP_SERVERS:=ntp.nict.jp}"
: "${KIOSK_FALLBACK_NTP:=0.debian.pool.ntp.org 1.debian.pool.ntp.org}"
: "${KIOSK_FONT:=VL Gothic}"
: "${KIOSK_FONT_SIZE:=20}"
: "${KIOSK_WATCHDOG_SEC:=30}"
: "${KIOSK_RUNTIME_WATCHDOG_SEC:=15}"
: "${KIOSK_JOURNAL_MAX:=32M}"
: "${KIOSK_CONSOLES:=ttyS1,115200 tty3}"
: "${KIOSK_REQUIRE_CLOCK_SYNC:=true}"
# first boot without kiosk-provision.toml: the setup wizard's prefilled platform address (the
# .invalid placeholder is refused: the technician types the municipality's), and more kiosk.toml
# lines for such a kiosk (e.g. its printer), which the wizard saves with what it was told
: "${KIOSK_PLATFORM_URL:=https://mykey-platform.invalid/}"
: "${KIOSK_SETUP_SETTINGS:=card_reader = \"pcsc\"}"
: "${KIOSK_PRINTER_USB_IDS:=0416:5011 04b8:0202 0fe6:811e 28e9:0289}"
: "${KIOSK_SCANNER_USB_IDS:=05e0:1200 0c2e:0b61 1eab:8003}"
: "${KIOSK_INITRAMFS_MODULES:=mmc_block sdhci sdhci_pltfm sdhci_iproc bcm2835 dwc2 xhci_pci
  xhci_plat_hcd pcie_brcmstb reset_raspberrypi usb_storage uas ext4 vfat nls_cp437 nls_ascii
  nls_utf8 overlay virtio_mmio virtio_pci virtio_blk}"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

setup() {
  mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
  cat >"$root/etc/initramfs-tools/conf.d/kiosk.conf" <<CONF
# mkinitramfs under emulation takes 20 min with MODULES=most; the boards need only these
MODULES=list
COMPRESS=zstd
CONF
  local mods
  mods=$(tr -s '[:space:]' ' ' <<<"$KIOSK_INITRAMFS_MODULES")
  # shellcheck disable=SC2016 # the hook's own variables, expanded when mkinitramfs runs it
  {
    echo '#!/bin/sh'
    echo '# kiosk: the modules the Pi 3B+/4 (and the qemu virt smoke test) need to find root'
    echo 'PREREQ=""; prereqs() { echo "$PREREQ"; }; case "$1" in prereqs) prereqs; exit 0;; esac'
    echo '. /usr/share/initramfs-tools/hook-functions'
    echo "for m in $mods; do manual_add_modules \"\$m\"; done"
    echo 'force_load ext4; force_load overlay'
  } >"$root/etc/initramfs-tools/hooks/kiosk-modules"
  chmod 0755 "$root/etc/initramfs-tools/hooks/kiosk-modules"
}

chroot_apt() {
  # systemd-resolved made /etc/resolv.conf a link into /run: lend apt the host's for a moment
  mv "$root/etc/resolv.conf" "$root/etc/resolv.conf.kiosk"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  in_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends "$@" >/dev/null
  rm -f "$root/etc/resolv.conf"
  mv "$root/etc/resolv.conf.kiosk" "$root/etc/resolv.conf"
}

install_kiosk() {
  local wheels=$KIOSK_BUILD_DIR/wheels stage=$root/tmp/kiosk-wheels
  rm -rf "$stage" && mkdir -p "$stage" && cp "$wheels"/* "$stage"/
  if ! ls "$wheels"/pyscard-*-linux_aarch64.whl >/dev/null 2>&1; then
    # No aarch64 wheel on PyPI: build it once under emulation (minutes), keep it for next time
    echo "customize: building pyscard for aarch64 (cached in $wheels afterwards)"
    chroot_apt install gcc swig libpcsclite-dev python3-dev python3-pip python3-setuptools \
      python3-wheel
    in_root sh -c 'cd /tmp/kiosk-wheels && pip3 wheel -q --no-deps --no-build-isolation \
      --no-index -w /tmp/kiosk-wheels pyscard-*.tar.gz'
    cp "$stage"/pyscard-*-linux_aarch64.whl "$wheels"/
    in_root apt-get purge -y -q --autoremove gcc swig libpcsclite-dev python3-dev python3-pip \
      python3-setuptools python3-wheel >/dev/null
  fi
  rm -f "$stage"/pyscard-*.tar.gz
  in_root python3 -m venv /opt/kiosk
  # a reused root (KIOSK_REUSE_ROOTFS=1) has an older build of the same version: replace it
  in_root /opt/kiosk/bin/pip uninstall -q -y --disable-pip-version-check mykey-kiosk \
    >/dev/null 2>&1 || true
  # the same locked set the tests use: requirements.lock is the constraint, no index
  in_root /opt/kiosk/bin/pip install -q --disable-pip-version-check --no-index \
    --find-links /tmp/kiosk-wheels -c /tmp/kiosk-wheels/requirements.lock mykey-kiosk
  in_root /opt/kiosk/bin/pip freeze --disable-pip-version-check --exclude-editable \
    >"$root/opt/kiosk/installed.lock"
  rm -rf "$stage"
  find "$root/opt/kiosk" -name '__pycache__' -prune -o -name '*.py' -print0 >/dev/null
}

tunables() {
  echo "$KIOSK_HOSTNAME" >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost\n' \
    "$KIOSK_HOSTNAME" >"$root/etc/hosts"
  ln -sf "/usr/share/zoneinfo/$KIOSK_TIMEZONE" "$root/etc/localtime"
  echo "$KIOSK_TIMEZONE" >"$root/etc/timezone"
  mkdir -p "$root/etc/systemd/timesyncd.conf.d" "$root/etc/systemd/journald.conf.d" \
    "$root/etc/systemd/system.conf.d" "$root/etc/systemd/system/kiosk.service.d"
  printf '[Time]\nNTP=%s\nFallbackNTP=%s\n' "$KIOSK_NTP_SERVERS" "$KIOSK_FALLBACK_NTP" \
    >"$root/etc/systemd/timesyncd.conf.d/50-kiosk-tunables.conf"
  printf '[Journal]\nRuntimeMaxUse=%s\n' "$KIOSK_JOURNAL_MAX" \
    >"$root/etc/systemd/journald.conf.d/50-kiosk-tunables.conf"
  printf '[Manager]\nRuntimeWatchdogSec=%s\n' "$KIOSK_RUNTIME_WATCHDOG_SEC" \
    >"$root/etc/systemd/system.conf.d/50-kiosk-tunables.conf"
  printf '[Service]\nWatchdogSec=%s\n' "$KIOSK_WATCHDOG_SEC" \
    >"$root/etc/systemd/system/kiosk.service.d/50-kiosk-tunables.conf"
  cat >"$root/etc/default/kiosk" <<ENV
# read by kiosk.service (and kioskctl on a shell): the kiosk's KIOSK_ settings on the image
KIOSK_CONFIG=/var/lib/kiosk/data/kiosk.toml
KIOSK_DATA_DIR=/var/lib/kiosk/data
KIOSK_DEVICE_SECRET=/var/lib/kiosk/system/device-secret
KIOSK_REQUIRE_CLOCK_SYNC=$KIOSK_REQUIRE_CLOCK_SYNC
ENV
  # kiosk-session's settings when the data partition has no kiosk.toml yet (no provisioning
  # file): the setup wizard starts from these and saves kiosk.toml once registered
  mkdir -p "$root/etc/kiosk"
  {
    echo "# first boot without kiosk-provision.toml: the setup wizard's settings (customize.sh)"
    printf 'platform_url = "%s"\n' "$KIOSK_PLATFORM_URL"
    echo 'setup_saves_to = "/var/lib/kiosk/data/kiosk.toml"'
    echo 'device_secret = "/var/lib/kiosk/system/device-secret"  # root-only (kiosk-login)'
    printf '%s\n' "$KIOSK_SETUP_SETTINGS"
  } >"$root/etc/kiosk/setup.toml"
  # not KIOSK_: every KIOSK_ variable in the kiosk's environment is a kiosk setting
  printf 'KMSCON_FONT="%s"\nKMSCON_FONT_SIZE=%s\n' "$KIOSK_FONT" "$KIOSK_FONT_SIZE" \
    >"$root/etc/default/kiosk-console"
  {
    echo "# generated from KIOSK_PRINTER_USB_IDS / KIOSK_SCANNER_USB_IDS by customize.sh"
    for id in $KIOSK_PRINTER_USB_IDS; do
      echo "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"${id%%:*}\", ATTR{idProduct}==\"${id##*:}\", GROUP=\"$user\", MODE=\"0660\", SYMLINK+=\"kiosk-printer\""
    done
    for id in $KIOSK_SCANNER_USB_IDS; do
      echo "SUBSYSTEM==\"hidraw\", ATTRS{idVendor}==\"${id%%:*}\", ATTRS{idProduct}==\"${id##*:}\", GROUP=\"$user\", MODE=\"0660\", SYMLINK+=\"kiosk-scanner\""
    done
  } >"$root/etc/udev/rules.d/71-kiosk-device-ids.rules"
  # raspi-firmware writes config.txt / cmdline.txt from these on every kernel upgrade
  cat >"$root/etc/default/raspi-firmware" <<RPI
ROOTPART=LABEL=rootfs
CONSOLES="$KIOSK_CONSOLES"
KERNEL_ARCH=arm64
RPI
  # on the command line too: the initramfs was built before the overlay's overlayroot.conf landed
  # "ro" after raspi-firmware's fixed "rw" (the last wins in the initramfs): the lower root under
  # the overlay must be mounted read-only (qemu run 2: with "rw" it stayed writable)
  echo "ro overlayroot=tmpfs:recurse=0" >"$root/etc/default/raspi-extra-cmdline"
  cat >"$root/etc/default/raspi-firmware-custom" <<RPI
# kiosk: hardware watchdog (bcm2835_wdt, driven by systemd's RuntimeWatchdogSec) and KMS for kmscon
dtparam=watchdog=on
dtoverlay=vc4-kms-v3d
disable_overscan=1
RPI
}

customize() {
  tar -C "$here/overlay" --owner=0 --group=0 -cf - . | tar -C "$root" -xf -
  tunables
  in_root id -u "$user" >/dev/null 2>&1 || in_root useradd --system --user-group --create-home --home-dir "/home/$user" \
    --shell /usr/sbin/nologin --groups dialout,lp,input "$user"
  install -d -m 0755 "$root/var/lib/kiosk"
  install -d -m 0700 "$root/var/lib/kiosk/system"
  install -d -m 0750 -o "$(in_root id -u "$user")" -g "$(in_root id -g "$user")" \
    "$root/var/lib/kiosk/data"
  install_kiosk
  in_root systemctl enable kiosk.service kiosk-provision.service kiosk-machine-id.service \
    kiosk-growdata.service \
    kiosk-smoke.service \
    kiosk-smoke-platform.service systemd-networkd.service systemd-resolved.service \
    systemd-timesyncd.service pcscd.socket
  in_root systemctl mask getty@tty1.service kmsconvt@tty1.service apt-daily.timer \
    apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer 2>/dev/null || true
  : >"$root/etc/machine-id"  # generated at each boot (the root is read-only)
  rm -f "$root/var/lib/dbus/machine-id"
  # overlayroot's initramfs script needs busybox (grep...), and the initramfs must carry the
  # overlay's /etc/overlayroot.conf: rebuild it now (MODULES=list keeps that to minutes)
  # A reused root (KIOSK_REUSE_ROOTFS=1) skips it when none of its inputs changed (minutes saved).
  local stamp=$root/boot/.kiosk-initramfs.sha256 sum
  sum=$(cd "$root" && cat etc/initramfs-tools/conf.d/* etc/initramfs-tools/hooks/* \
    etc/overlayroot.conf boot/vmlinuz-* | sha256sum | cut -d' ' -f1)
  if [ -s "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && ls "$root"/boot/initrd.img-* >/dev/null 2>&1; then
    echo "customize: initramfs inputs unchanged, kept"
  elif in_root dpkg -s busybox >/dev/null 2>&1; then
    in_root update-initramfs -u -k all
  else
    chroot_apt install busybox  # its trigger rebuilds the initramfs
  fi
  echo "$sum" >"$stamp"
  # raspi-firmware's kernel hook copies kernel, initrd and device trees to the FAT partition
  local kver
  kver=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)
  # the hook does nothing unless told it runs from a package's "configure"
  in_root env DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$kver" || \
    echo "customize: raspi-firmware hook failed (see above)" >&2
  install -m 0644 "$here/provision/kiosk-provision.example.toml" \
    "$root/boot/firmware/kiosk-provision.example.toml"
  rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/tmp/*
}

case "$phase" in
  setup) setup ;;
  customize) customize ;;
  *) echo "usage: $0 setup|customize ROOT" >&2; exit 2 ;;
esac

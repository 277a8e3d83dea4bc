#!/bin/bash
# make image: the SD-card image, built without loop devices or mounts (IMAGE.md).
#   1. binfmt for arm64 (no systemd here, so we mount binfmt_misc ourselves)
#   2. the kiosk's wheels: the locked runtime set for aarch64 from PyPI (host pip), the kiosk
#      itself as a wheel of this checkout; pyscard has no aarch64 wheel, customize.sh builds it
#      once under emulation and caches it in $KIOSK_BUILD_DIR/wheels
#   3. mmdebstrap the arm64 root into a directory; customize.sh lays the overlay and installs
#   4. genimage assembles MBR: FAT boot, ext4 root, ext4 data; then zstd copy and bmap
# Every tunable is a KIOSK_ variable with a default (listed in image/README.md).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

: "${KIOSK_SUITE:=bookworm}"
: "${KIOSK_MIRROR:=http://deb.debian.org/debian}"
: "${KIOSK_BUILD_DIR:=$here/build}"
: "${KIOSK_IMAGE_NAME:=mykey-kiosk-arm64}"
: "${KIOSK_BOOT_MB:=256}"
: "${KIOSK_DATA_MB:=256}"
: "${KIOSK_ROOT_MB:=auto}"
: "${KIOSK_ZSTD_LEVEL:=10}"
: "${KIOSK_PYTHON:=3.11}"
: "${KIOSK_EXTRA_PACKAGES:=}"
# 1 = keep $KIOSK_BUILD_DIR/rootfs from an earlier build: re-run only customize.sh on it (overlay,
# tunables, the kiosk wheel, units, initramfs, firmware hook) and reassemble. Minutes, not ~35;
# for iterating on the recipe. A release image is always a clean build (the default, 0).
: "${KIOSK_REUSE_ROOTFS:=0}"
# 0 = no .img.zst / .bmap (iterating: zstd would also slow a qemu boot started right after)
: "${KIOSK_COMPRESS:=1}"
export KIOSK_SUITE KIOSK_MIRROR KIOSK_BUILD_DIR KIOSK_IMAGE_NAME

start=$(date +%s)
say() { printf '[image %4ss] %s\n' "$(($(date +%s) - start))" "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "make image needs root (mmdebstrap --mode=root, binfmt_misc, genimage ownership)" >&2
  exit 2
fi

# 1. binfmt: without systemd /proc/sys/fs/binfmt_misc is not mounted
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
arch-test arm64 | grep -q 'arm64: ok' || { echo "arm64 binaries cannot run (binfmt)" >&2; exit 1; }

# 2. wheels
wheels=$KIOSK_BUILD_DIR/wheels
mkdir -p "$wheels"
say "wheels: locked runtime set for aarch64"
mapfile -t deps < <(python3 - "$repo/pyproject.toml" <<'PY'
import sys, tomllib
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
# pyscard has no aarch64 wheel on PyPI: customize.sh builds it from this sdist
print("\n".join(d.split(">")[0].split("=")[0] for d in deps if not d.startswith("pyscard")))
PY
)
pip3 download -q --disable-pip-version-check --only-binary=:all: \
  --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 \
  --platform manylinux_2_28_aarch64 --platform any \
  --python-version "$KIOSK_PYTHON" --implementation cp \
  -c "$repo/requirements.lock" -d "$wheels" "${deps[@]}" 2>&1 | grep -v 'is ignored' || true
pyscard=$(grep -i '^pyscard==' "$repo/requirements.lock")
ls "$wheels"/pyscard-*.tar.gz >/dev/null 2>&1 || \
  pip3 download -q --disable-pip-version-check --no-deps --no-binary=pyscard "$pyscard" -d "$wheels"
# the kiosk itself, from the checkout's files minus what git ignores: building from "$repo"
# would make setuptools walk image/build/rootfs (GBs, and /proc while mmdebstrap runs)
rm -f "$wheels"/mykey_kiosk-*.whl
src=$KIOSK_BUILD_DIR/kiosk-src
rm -rf "$src" && mkdir -p "$src"
git -C "$repo" ls-files -co --exclude-standard -z | (cd "$repo" && tar --null -T - -cf -) | tar -C "$src" -xf -
pip3 wheel -q --disable-pip-version-check --no-deps -w "$wheels" "$src" 2>&1 | grep -v 'is ignored' || true
ls "$wheels"/mykey_kiosk-*.whl >/dev/null
rm -rf "$src"
cp "$repo/requirements.lock" "$wheels/requirements.lock"

# 3. root filesystem
rootfs=$KIOSK_BUILD_DIR/rootfs
read -ra extra <<<"$KIOSK_EXTRA_PACKAGES"
if [ "$KIOSK_REUSE_ROOTFS" = 1 ]; then
  test -s "$rootfs/etc/os-release" || { echo "KIOSK_REUSE_ROOTFS=1: no root in $rootfs" >&2; exit 2; }
  # what mmdebstrap's hook would see: /proc, /sys and /dev in the root, in a private mount
  # namespace (no loop device; the binds vanish with the namespace, even on a failure)
  say "reusing $rootfs: customize.sh only (log: $KIOSK_BUILD_DIR/customize.log)"
  # shellcheck disable=SC2016 # $1 $2 are the inner shell's arguments
  unshare --mount --propagation private /bin/sh -ec '
    mount --bind /proc "$2/proc"; mount --rbind /sys "$2/sys"; mount --rbind /dev "$2/dev"
    "$1" setup "$2"; "$1" customize "$2"' sh "$here/customize.sh" "$rootfs" \
    >"$KIOSK_BUILD_DIR/customize.log" 2>&1 || { tail -40 "$KIOSK_BUILD_DIR/customize.log"; exit 1; }
else
rm -rf "$rootfs"
packages=(systemd systemd-sysv systemd-timesyncd systemd-resolved udev dbus kmod
  initramfs-tools busybox overlayroot zstd e2fsprogs dosfstools
  linux-image-arm64 raspi-firmware firmware-brcm80211 wpasupplicant iproute2
  python3 python3-venv ca-certificates
  kmscon fonts-vlgothic fonts-ipafont-gothic
  pcscd libccid libpcsclite1)
include=$(IFS=,; echo "${packages[*]}${extra[*]:+,${extra[*]}}")
say "mmdebstrap $KIOSK_SUITE arm64 (log: $KIOSK_BUILD_DIR/mmdebstrap.log)"
mmdebstrap --mode=root --variant=minbase --architectures=arm64 \
  --components="main non-free-firmware" \
  --include="$include" \
  --aptopt='Acquire::Retries "3"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/ja/*' \
  --setup-hook="'$here/customize.sh' setup \"\$1\"" \
  --customize-hook="'$here/customize.sh' customize \"\$1\"" \
  --format=directory "$KIOSK_SUITE" "$rootfs" "$KIOSK_MIRROR" \
  >"$KIOSK_BUILD_DIR/mmdebstrap.log" 2>&1 || { tail -40 "$KIOSK_BUILD_DIR/mmdebstrap.log"; exit 1; }
fi
say "root filesystem done: $(du -sh --exclude=./boot/firmware "$rootfs" | cut -f1)"

# kernel and initrd for the emulator (the same files the root carries)
out=$KIOSK_BUILD_DIR/out
rm -rf "$out" && mkdir -p "$out"
newest() { find "$rootfs/boot" -maxdepth 1 -name "$1" | sort -V | tail -1; }
cp "$(newest 'vmlinuz-*')" "$out/vmlinuz"
cp "$(newest 'initrd.img-*')" "$out/initrd.img"

# 4. assemble
if [ "$KIOSK_ROOT_MB" = auto ]; then
  used=$(du -sm --exclude=./boot/firmware --exclude=./var/lib/kiosk "$rootfs" | cut -f1)
  KIOSK_ROOT_MB=$(( used * 5 / 4 + 128 ))
fi
sed -e "s/@BOOT_MB@/$KIOSK_BOOT_MB/; s/@ROOT_MB@/$KIOSK_ROOT_MB/; s/@DATA_MB@/$KIOSK_DATA_MB/" \
    -e "s/@NAME@/$KIOSK_IMAGE_NAME/" "$here/genimage.cfg" >"$KIOSK_BUILD_DIR/genimage.cfg"
rm -rf "$KIOSK_BUILD_DIR/genimage-tmp"
say "genimage (boot ${KIOSK_BOOT_MB}M, root ${KIOSK_ROOT_MB}M, data ${KIOSK_DATA_MB}M)"
genimage --config "$KIOSK_BUILD_DIR/genimage.cfg" --rootpath "$rootfs" \
  --tmppath "$KIOSK_BUILD_DIR/genimage-tmp" --inputpath "$out" --outputpath "$out" \
  >"$KIOSK_BUILD_DIR/genimage.log" 2>&1 || { tail -30 "$KIOSK_BUILD_DIR/genimage.log"; exit 1; }
rm -rf "$KIOSK_BUILD_DIR/genimage-tmp"
img=$out/$KIOSK_IMAGE_NAME.img
rm -f "$out"/*.vfat "$out"/*.ext4
if [ "$KIOSK_COMPRESS" = 1 ]; then
  say "compress + bmap"
  zstd -q -T0 "-$KIOSK_ZSTD_LEVEL" -f "$img" -o "$img.zst"
  bmaptool create -o "$img.bmap" "$img"
fi

end=$(date +%s)
echo "image:      $img"
echo "build time: $((end - start)) s"
echo "image size: $(( $(stat -c %s "$img") / 1048576 )) MiB allocated-to $(( $(du -k "$img" | cut -f1) / 1024 )) MiB used"
if [ "$KIOSK_COMPRESS" = 1 ]; then
  echo "compressed: $(( $(stat -c %s "$img.zst") / 1048576 )) MiB ($img.zst)"
  echo "bmap:       $img.bmap"
fi

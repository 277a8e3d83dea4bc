#!/bin/bash
# make image-test: boot the built image under qemu-system-aarch64 -M virt (the same root
# filesystem, kernel and initrd as on the card) with a provisioning file on its FAT partition and
# the smoke flag on the kernel command line, and read the verdict off the serial console.
# Bounded: qemu is killed after KIOSK_TEST_TIMEOUT seconds whatever happens.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
: "${KIOSK_BUILD_DIR:=$here/build}"
: "${KIOSK_IMAGE_NAME:=mykey-kiosk-arm64}"
: "${KIOSK_TEST_TIMEOUT:=1200}"  # run 6: 474 s at load 4-5; twice that on a busier host
: "${KIOSK_TEST_SMP:=2}"
: "${KIOSK_TEST_MEM:=1024}"
: "${KIOSK_TEST_PROVISION:=$here/provision/smoke.toml}"  # none: the setup wizard; migrate: below
: "${KIOSK_TEST_GROW_MB:=512}"  # the test's "SD card" is this much larger than the image

out=$KIOSK_BUILD_DIR/out
img=$out/$KIOSK_IMAGE_NAME.img
test -s "$img" || { echo "no image at $img: run make image first" >&2; exit 2; }
work=$KIOSK_BUILD_DIR/test
mkdir -p "$work"
disk=$work/smoke.img
log=$work/serial.log
if [ "$KIOSK_TEST_PROVISION" = none ]; then log=$work/serial-wizard.log; fi
if [ "$KIOSK_TEST_PROVISION" = migrate ]; then
  # a card from an image before the root-only device secret: the provisioned boot's card again,
  # with its secret put back where those images kept it (data/device-secret, the kiosk user's)
  # and a kiosk.toml that does not name it; kiosk-secret must move it, the kiosk still sign in
  log=$work/serial-migrate.log
  test -s "$disk" || { echo "no $disk: the provisioned boot runs first" >&2; exit 2; }
  data_start=$(sfdisk -d "$disk" | awk -F'[=,]' '/^.*img3 :/ {gsub(/ /, "", $2); print $2}')
  data_fs="$disk?offset=$((data_start * 512))"  # debugfs on the partition: no loop device
  owner=$(debugfs -R "stat /data" "$data_fs" 2>/dev/null | awk '/User:/ {print $2 " " $4; exit}')
  debugfs -R "dump /data/kiosk.toml $work/kiosk.toml" "$data_fs" 2>/dev/null
  grep -v '^device_secret = ' "$work/kiosk.toml" >"$work/kiosk.toml.old"
  debugfs -w -f - "$data_fs" >/dev/null 2>&1 <<DEBUGFS
ln /system/device-secret /data/device-secret
unlink /system/device-secret
set_inode_field /data/device-secret uid ${owner% *}
set_inode_field /data/device-secret gid ${owner#* }
rm /data/kiosk.toml
write $work/kiosk.toml.old /data/kiosk.toml
set_inode_field /data/kiosk.toml uid ${owner% *}
set_inode_field /data/kiosk.toml gid ${owner#* }
set_inode_field /data/kiosk.toml mode 0100600
DEBUGFS
  rm -f "$work/kiosk.toml" "$work/kiosk.toml.old"
  listing=$(debugfs -R "ls -l /data" "$data_fs" 2>/dev/null)
  grep -E 'device-secret|kiosk.toml' <<<"$listing"
  grep -qE " ${owner% *} +${owner#* } +32 .* device-secret\$" <<<"$listing" ||
    { echo "migrate: the device secret could not be put back in data/" >&2; exit 2; }
else
  cp --sparse=always "$img" "$disk"
  truncate -s "+${KIOSK_TEST_GROW_MB}M" "$disk"  # a bigger card: the data partition must grow to it
fi

# the FAT partition (partition 1) by byte offset, for mtools: no loop device, no mount
start=$(sfdisk -d "$disk" | awk -F'[=,]' '/^.*img1 :/ {gsub(/ /, "", $2); print $2}')
fat="$disk@@$((start * 512))"
export MTOOLS_SKIP_CHECK=1  # genimage's FAT geometry is fine for Linux and the Pi
fails=0
static() { if "$@" >/dev/null 2>&1; then echo "static ok: ${*: -1}"; else echo "static FAIL: $*"; fails=$((fails + 1)); fi; }
# what the Pi's GPU firmware will read (QEMU runs none of it): check it statically
listing=$(mdir -i "$fat" -b ::/)
for f in config.txt cmdline.txt bcm2711-rpi-4-b.dtb bcm2837-rpi-3-b-plus.dtb start4.elf fixup4.dat \
    bootcode.bin start.elf; do
  static grep -qx "::/$f" <<<"$listing"
done
config=$(mtype -i "$fat" ::/config.txt)
cmdline=$(mtype -i "$fat" ::/cmdline.txt)
static grep -q 'dtparam=watchdog=on' <<<"$config"
static grep -q 'dtoverlay=vc4-kms-v3d' <<<"$config"
static grep -q 'root=LABEL=rootfs' <<<"$cmdline"
smoke=kiosk.smoke
if [ "$KIOSK_TEST_PROVISION" = none ]; then
  smoke=kiosk.smoke=wizard  # the guest checks that the setup wizard came up instead
elif [ "$KIOSK_TEST_PROVISION" = migrate ]; then
  smoke=kiosk.smoke=migrated  # provisioned already, the old secret moved at this boot
else
  mcopy -o -i "$fat" "$KIOSK_TEST_PROVISION" ::/kiosk-provision.toml
fi
static grep -q 'overlayroot=tmpfs' <<<"$cmdline"
# boot with the card's own cmdline.txt, minus the Pi's console and root device
args=$(tr -d '\r' <<<"$cmdline" | tr ' ' '\n' | grep -v -e '^console=' -e '^root=' -e '^$' | tr '\n' ' ')

echo "booting under qemu-system-aarch64 -M virt (serial log: $log, at most ${KIOSK_TEST_TIMEOUT}s)"
t0=$(date +%s)
set +e
timeout --kill-after=10 "$KIOSK_TEST_TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a72 \
  -smp "$KIOSK_TEST_SMP" -m "$KIOSK_TEST_MEM" -nographic -no-reboot -nic none \
  -kernel "$out/vmlinuz" -initrd "$out/initrd.img" \
  -append "console=ttyAMA0 root=LABEL=rootfs ${args}${smoke}" \
  -drive if=none,file="$disk",format=raw,id=hd0 -device virtio-blk-device,drive=hd0 \
  -device virtio-gpu-pci </dev/null >"$log" 2>&1
rc=$?
set -e
t1=$(date +%s)
tr -d '\r' <"$log" | grep -a 'KIOSK-SMOKE' || true
echo "qemu exited with $rc after $((t1 - t0)) s"

# afterwards, from outside: the provisioning file is gone from the FAT partition, no error file
after=$(mdir -i "$fat" -b ::/)
if grep -q 'kiosk-provision.toml' <<<"$after"; then echo "static FAIL: provisioning file still on FAT"; fails=$((fails + 1))
elif [ "$smoke" = kiosk.smoke ]; then echo "static ok: provisioning file wiped from FAT"; fi
if grep -q 'kiosk-provision-error.txt' <<<"$after"; then echo "static FAIL: error file on FAT:"; mtype -i "$fat" ::/kiosk-provision-error.txt; fails=$((fails + 1)); fi

if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "TIMEOUT: the guest did not power off within ${KIOSK_TEST_TIMEOUT}s"; fails=$((fails + 1)); fi
# the guest's lines come through journald to the console: "[  451.49] kiosk-smoke[341]: KIOSK-SMOKE PASS"
if ! tr -d '\r' <"$log" | grep -aqE '(^|: )KIOSK-SMOKE PASS$' || tr -d '\r' <"$log" | grep -aq 'KIOSK-SMOKE FAIL'; then
  echo "smoke test did not pass; last console lines:"; tr -d '\r' <"$log" | tail -40
  fails=$((fails + 1))
fi
ready=$(tr -d '\r' <"$log" | sed -n 's/.*kiosk.service ready at \([0-9.]*\)s.*/\1/p' | head -1)
echo "boot to kiosk ready (guest clock, kernel start -> READY=1): ${ready:-?} s; whole run $((t1 - t0)) s"
if [ "$fails" = 0 ]; then echo "image-test: PASS"; else echo "image-test: FAILED ($fails)"; exit 1; fi

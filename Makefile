# The few verbs a person needs. `make run` and `make test` set everything up themselves on a
# fresh Debian bookworm machine (venv, pip packages, and Debian packages when run as root).

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
DATA    ?= $(CURDIR)/var
# Debian packages: the PC/SC stack and virtual reader, pyscard's build needs, zbar for the
# label decoder, a CJK font for labels, OpenSC as an independent JPKI client, tmux for UI tests,
# cairo for cairosvg (screenshots of the on-screen barcode, rasterised and decoded); libusb for
# USB label printers (pyusb).
DEBS    := pcscd vsmartcard-vpcd libpcsclite-dev swig gcc python3-dev python3-venv \
           libzbar0 fonts-ipafont-gothic opensc tmux libcairo2 libusb-1.0-0
# image recipe checks in `make test` (issue 7): systemd-analyze verify (works without systemd as
# PID 1) and shellcheck
DEBS    += systemd shellcheck
# the platform on PostgreSQL (issue 5): the tests start a throw-away cluster with its initdb
DEBS    += postgresql
# only for `make image` / `make image-test` (the SD-card image, image/README.md)
IMAGE_DEBS := mmdebstrap qemu-user-static binfmt-support arch-test genimage dosfstools mtools \
              e2fsprogs fdisk qemu-system-arm zstd bmap-tools

.PHONY: run test lint typecheck unit setup debs bench image image-assemble image-test image-debs clean doctor lock snapshots

run: setup ## start the kiosk on the embedded default (virtual card, virtual printer, local platform)
	KIOSK_DATA_DIR=$(DATA) $(BIN)/python -m ui

doctor: setup
	KIOSK_DATA_DIR=$(DATA) $(BIN)/kioskctl doctor

test: setup lint typecheck unit ## everything CI runs

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest -q

snapshots: setup ## rewrite the committed SVG snapshots of the screens (review the diff!)
	UPDATE_SNAPSHOTS=1 $(BIN)/python -m pytest -q tests/ui/test_snapshots.py

bench: setup
	$(BIN)/python -m bench

setup: debs $(VENV)/.installed

debs:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages: $$missing"; \
	  apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -q \
	    --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "missing Debian packages (run as root, or install them): $$missing" >&2; exit 1; \
	fi

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

lock: ## re-pin requirements.lock from the current venv (after changing pyproject.toml)
	$(BIN)/pip freeze --exclude-editable --disable-pip-version-check > requirements.lock

image: image-debs ## the SD-card image: .img, .img.zst, .bmap in image/build/out (~35-40 min)
	image/build.sh

image-assemble: image-debs ## iterate: customize.sh again on image/build/rootfs + reassemble (minutes)
	KIOSK_REUSE_ROOTFS=1 image/build.sh

image-test: image-debs ## boot the image under qemu: provisioned, an older card's secret migrated, the wizard (~15-35 min)
	image/image-test.sh
	KIOSK_TEST_PROVISION=migrate image/image-test.sh
	KIOSK_TEST_PROVISION=none image/image-test.sh

image-debs:
	@$(MAKE) --no-print-directory debs DEBS="$(IMAGE_DEBS)"

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis

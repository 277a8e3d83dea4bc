"""Shared fixtures live in tests/support/, one module per part of the real stack."""

pytest_plugins = [
    "tests.support.platform",
    "tests.support.barcodes",
    "tests.support.pcsc",
    "tests.support.kiosk",
    "tests.support.postgres",
]

# Retries off everywhere by default (STYLE.md 10): a test sees the first failure, at once. The
# tests of the retry policy itself turn them back on, with zero waits (tests/sync/test_retries.py).
import stamina  # noqa: E402

stamina.set_testing(True)

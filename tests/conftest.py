"""Shared fixtures live in tests/support/, one module per part of the real stack."""

pytest_plugins = [
    "tests.support.platform",
    "tests.support.barcodes",
    "tests.support.pcsc",
    "tests.support.kiosk",
]

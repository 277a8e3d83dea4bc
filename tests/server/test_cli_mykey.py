"""``mykey-platform mykey``, run as a real process: creating MyKey IDs by the seed's rules,
changing one (service IDs follow), and recording a re-issued card's certificate."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from server import mykey
from server.cli import main
from server.db import connect, migrate
from server.registry import add_issuer, link_service_id
from server.verify import serial_hex
from tests.server.helpers import new_card
from tests.support.platform import REPO


def _mykey(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", "mykey", args[0], "--db", str(db), *args[1:]],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_create_change_and_renew_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    migrate(db)
    card, other, reissued = new_card(), new_card(), new_card()
    pem, der = tmp_path / "card.pem", tmp_path / "other.der"
    pem.write_bytes(card.certificate.public_bytes(Encoding.PEM))
    der.write_bytes(other.certificate.public_bytes(Encoding.DER))

    drawn = _mykey(db, "create", "--certificate", str(pem), "--redraw", "2")
    assert drawn.returncode == 0, drawn.stderr
    first, how = drawn.stdout.strip().split("\t")
    assert mykey.is_valid(first) and how == "drawn (3 of 3)"
    again = _mykey(db, "create", "--certificate", str(pem))
    assert again.returncode == 1 and "mykey.card_has_id" in again.stderr

    # the citizen's own choice: two taken, the third is free
    chosen = _mykey(db, "create", "--certificate", str(der), "--propose", first, first, "MINE0001")
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stdout.split() == ["MINE0001", "chosen"]
    assert chosen.stderr.count(f"{first}: taken") == 2

    conn = connect(db)
    try:
        add_issuer(conn, "000001", "図書館", handover="D")
        link_service_id(conn, "MINE0001", "000001", "1234")
    finally:
        conn.close()
    taken = _mykey(db, "change", "MINE0001", first)
    assert taken.returncode == 1 and "mykey.taken" in taken.stderr
    assert main(["mykey", "change", "--db", str(db), "MINE0001", "lower123"]) == 1  # not A-Z0-9
    changed = _mykey(db, "change", "MINE0001", "MINE0002")
    assert changed.returncode == 0, changed.stderr

    ca = other.certificate.issuer.rfc4514_string()
    old_serial = serial_hex(other.certificate.serial_number)
    new_serial = serial_hex(reissued.certificate.serial_number)
    renewed = _mykey(db, "renew", "--ca", ca, "--old-serial", old_serial.lower(),
                     "--new-serial", new_serial)  # fmt: skip
    assert renewed.returncode == 0, renewed.stderr
    with pytest.raises(SystemExit) as bad_serial:  # in-process: argparse's usage error
        main(["mykey", "renew", "--db", str(db), "--ca", ca, "--old-serial", "XYZ",
              "--new-serial", "01"])  # fmt: skip
    assert bad_serial.value.code == 2

    conn = connect(db)
    try:
        owner = conn.execute("SELECT mykey_id FROM service_ids").fetchone()[0]
        assert owner == "MINE0002"  # the service ID followed the change
        # the re-issued card is the same citizen at its first use, and the record is spent
        assert mykey.citizen_for_certificate(conn, reissued.certificate) == "MINE0002"
        assert conn.execute("SELECT count(*) FROM cert_successors").fetchone()[0] == 0
        assert mykey.citizen_for_certificate(conn, card.certificate) == first
    finally:
        conn.close()

"""Card: APDUs and wall time for "read certificate + PIN + sign", ours beside OpenSC's.

Through the real stack (pcscd + vpcd + pyscard) with the virtual card, the same work done by:
- our JPKI driver: SELECT AP and token check, certificate, tries left, VERIFY, sign;
- OpenSC on the same card: ``pkcs15-tool --read-certificate`` then ``pkcs11-tool --login --sign``
  (two processes, as a technician would run them; each binds the card anew).
APDUs are counted at the card (the vpcd bridge), so both sides are counted the same way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.proof import digest_info
from appliance.values import Pin
from drivers.card.jpki import JpkiSession
from drivers.card.virtual.inprocess import CardDeck, VirtualReader

if TYPE_CHECKING:
    from drivers.card.virtual.vpcd import VpcdBridge

ROUNDS = 20
PCSCD_ROUNDS = 10
OPENSC_ROUNDS = 5
READER = "Virtual PCD 00 00"
PKCS11 = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
Result = tuple[int, list[float]] | str


def _once(connect: Callable[[], JpkiSession]) -> tuple[int, float]:
    start = time.perf_counter()
    session = connect()
    try:
        session.read_certificate()
        session.pin_tries_left()
        session.verify_pin(Pin("1234"))
        session.sign(digest_info(hashlib.sha256(b"bench").digest()))
    finally:
        session.close()
    return session.apdus_sent, time.perf_counter() - start


def in_process() -> Result:
    deck = CardDeck()
    reader = VirtualReader()
    times = []
    apdus = 0
    for _ in range(ROUNDS):
        reader.slot.insert(deck.card(1))
        apdus, t = _once(lambda: reader.connect(1))
        times.append(t)
    return apdus, times


def _stack_missing() -> str:
    from appliance.errors import CardError
    from drivers.card.pcsc import list_readers

    try:
        if READER not in list_readers():
            return "no vpcd reader (start pcscd with vsmartcard-vpcd installed)"
    except CardError as exc:
        return f"pcscd not reachable: {exc}"
    return ""


def through_pcscd() -> tuple[Result, Result]:
    """Ours and OpenSC's, on one card in one reader, each round on a fresh tap.

    A fresh tap per round (outside the timing) because a card left on the reader may keep its
    PIN verified, and OpenSC's driver refuses to bind a card whose PIN is already verified.
    """
    from drivers.card.pcsc import PcscReader
    from drivers.card.presence import wait_until
    from drivers.card.virtual.vpcd import VpcdBridge

    if missing := _stack_missing():
        return missing, missing
    card = CardDeck().card(1)
    bridge = VpcdBridge(card)

    def tap() -> VpcdBridge:
        bridge.remove()
        if not wait_until(READER, present=False, timeout=5):
            raise TimeoutError("the virtual reader stayed busy")
        bridge.insert()
        if not wait_until(READER, present=True, timeout=5):
            raise TimeoutError("pcscd did not see the card")
        return bridge

    try:
        reader = PcscReader(READER)
        ours: list[float] = []
        apdus = 0
        for _ in range(PCSCD_ROUNDS):
            before = tap().apdus
            _, t = _once(lambda: reader.connect(5))
            apdus = bridge.apdus - before
            ours.append(t)
        return (apdus, ours), _opensc(tap)
    except TimeoutError as exc:
        return str(exc), str(exc)
    finally:
        bridge.remove()


def _opensc(tap: Callable[[], VpcdBridge]) -> Result:
    if shutil.which("pkcs11-tool") is None or not Path(PKCS11).exists():
        return "OpenSC not installed (make setup installs it)"
    times: list[float] = []
    apdus = 0
    with tempfile.TemporaryDirectory() as tmp:
        data, sig = Path(tmp) / "challenge", Path(tmp) / "signature"
        data.write_bytes(b"bench")
        read = ["pkcs15-tool", "--reader", "0", "--read-certificate", "01"]
        sign = ["pkcs11-tool", "--module", PKCS11, "--slot-index", "0", "--login", "--pin", "1234",
                "--sign", "--id", "01", "--mechanism", "SHA256-RSA-PKCS",
                "--input-file", str(data), "--output-file", str(sig)]  # fmt: skip
        for _ in range(OPENSC_ROUNDS):
            bridge = tap()
            before = bridge.apdus
            start = time.perf_counter()
            for argv in (read, sign):
                done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
                if done.returncode != 0:
                    return f"{argv[0]} failed: {done.stderr.decode(errors='replace')[-200:]}"
            times.append(time.perf_counter() - start)
            apdus = bridge.apdus - before
    return apdus, times


def _row(name: str, result: Result) -> str:
    if isinstance(result, str):
        return f"  {name:<34} skipped: {result}"
    apdus, times = result
    return (
        f"  {name:<34} {apdus:>3} APDUs  median {statistics.median(times) * 1000:7.1f} ms"
        f"  max {max(times) * 1000:7.1f} ms  ({len(times)} rounds)"
    )


@contextlib.contextmanager
def _pcsc_stack() -> Iterator[None]:
    """The same pcscd + vpcd the integration tests use, taking turns with them (one lock)."""
    from tests.support.pcsc import _LOCK, PcscStack

    with _LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stack = PcscStack()
        try:
            try:
                stack.start()
            except BaseException as exc:  # pytest.fail outside pytest: report, bench the rest
                print(f"  (could not start pcscd: {exc})")
            yield
        finally:
            stack.stop()
            fcntl.flock(lock, fcntl.LOCK_UN)


def main() -> None:
    print("card: read certificate + PIN tries + VERIFY + sign, same virtual card")
    print(_row("ours, in-process virtual card", in_process()))
    with _pcsc_stack():
        ours, opensc = through_pcscd()
    print(_row("ours, pcscd + vpcd + pyscard", ours))
    print(_row("OpenSC pkcs15-tool + pkcs11-tool", opensc))
    if not isinstance(ours, str) and not isinstance(opensc, str):
        ratio_apdus = opensc[0] / ours[0]
        ratio_time = statistics.median(opensc[1]) / statistics.median(ours[1])
        print(f"  OpenSC sends {ratio_apdus:.1f}x the APDUs and takes {ratio_time:.1f}x the time")


if __name__ == "__main__":
    main()

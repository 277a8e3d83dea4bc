"""Card: APDUs and wall time for "read certificate + PIN + sign", in-process and through pcscd."""

from __future__ import annotations

import hashlib
import statistics
import time

from appliance.proof import digest_info
from appliance.values import Pin
from drivers.card.virtual.inprocess import CardDeck, VirtualReader

ROUNDS = 20


def _once(connect) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    session = connect()
    session.read_certificate()
    session.pin_tries_left()
    session.verify_pin(Pin("1234"))
    session.sign(digest_info(hashlib.sha256(b"bench").digest()))
    elapsed = time.perf_counter() - start
    apdus = session.apdus_sent
    session.close()
    return apdus, elapsed


def in_process() -> tuple[int, list[float]]:
    deck = CardDeck()
    reader = VirtualReader()
    times = []
    apdus = 0
    for _ in range(ROUNDS):
        reader.slot.insert(deck.card(1))
        apdus, t = _once(lambda: reader.connect(1))
        times.append(t)
    return apdus, times


def through_pcscd() -> tuple[int, list[float]] | str:
    from appliance.errors import CardError
    from drivers.card.pcsc import PcscReader, list_readers
    from drivers.card.virtual.vpcd import VpcdBridge

    try:
        if "Virtual PCD 00 00" not in list_readers():
            return "no vpcd reader (start pcscd with vsmartcard-vpcd installed)"
    except CardError as exc:
        return f"pcscd not reachable: {exc}"
    deck = CardDeck()
    reader = PcscReader("Virtual PCD 00 00")
    bridge = VpcdBridge(deck.card(1)).insert()
    times = []
    apdus = 0
    try:
        reader.connect(5).close()  # wait for pcscd to see the card once
        for _ in range(ROUNDS):
            apdus, t = _once(lambda: reader.connect(5))
            times.append(t)
    finally:
        bridge.remove()
    return apdus, times


def _row(name: str, result: tuple[int, list[float]] | str) -> str:
    if isinstance(result, str):
        return f"  {name:<28} skipped: {result}"
    apdus, times = result
    return (
        f"  {name:<28} {apdus:>3} APDUs  median {statistics.median(times) * 1000:7.1f} ms"
        f"  max {max(times) * 1000:7.1f} ms  ({len(times)} rounds)"
    )


def main() -> None:
    print("card: read certificate + PIN tries + VERIFY + sign (our JPKI driver)")
    print(_row("in-process virtual card", in_process()))
    print(_row("pcscd + vpcd + pyscard", through_pcscd()))


if __name__ == "__main__":
    main()

"""SIP2 gateway: latency it adds per message on loopback, and messages per second, next to direct.

The ILS simulator and the gateway run in a child process (as on the kiosk, apart from the
self-checkout); this process is the self-checkout, sending ready-made messages over plain sockets
so that the client costs as little as possible. Direct and gateway runs alternate in blocks within
one run, so both see the same machine. Figures only; nothing here asserts a time.

    python -m bench.sip2
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import socket
import threading
import time
from multiprocessing.connection import Connection

ROUNDS = 4000  # messages per kind and path
BLOCK = 500
CONNECTIONS = 4


def _serve(pipe: Connection) -> None:
    """Child process: ILS simulator + gateway with one token of today; reports ports."""
    from appliance.daytokens import TokenBook
    from drivers.sip2.gateway import GatewayConfig, Sip2Gateway
    from tests.sip2.harness import ITEMS, POLICY, TODAY, Clock, card, patrons
    from tests.sip2.ils import Ils

    async def main() -> None:
        ils = Ils(patrons(), dict(ITEMS))
        await ils.start()
        book = TokenBook([POLICY])
        token = book.issue(card(1), TODAY)
        config = GatewayConfig(upstream_host="127.0.0.1", upstream_port=ils.port, listen_port=0)
        async with Sip2Gateway(config, book=book, clock=Clock()) as gateway:
            assert gateway.address is not None
            pipe.send((ils.port, gateway.address[1], token.value))
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await ils.stop()

    asyncio.run(main())


def _message(text: str) -> bytes:
    from appliance.sip2 import checksum

    body = f"{text}AY1AZ".encode()
    return body + checksum(body) + b"\r"


def _exchange(sock: socket.socket, message: bytes) -> None:
    sock.sendall(message)
    data = b""
    while not data.endswith(b"\r"):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk


def _timed(port: int, message: bytes, rounds: int) -> list[float]:
    times = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(20):
            _exchange(sock, message)
        for _ in range(rounds):
            start = time.perf_counter()
            _exchange(sock, message)
            times.append(time.perf_counter() - start)
    return times


def _throughput(port: int, message: bytes, per_connection: int) -> float:
    """Messages per second with CONNECTIONS self-checkouts at once."""

    def one() -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(per_connection):
                _exchange(sock, message)

    threads = [threading.Thread(target=one) for _ in range(CONNECTIONS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return CONNECTIONS * per_connection / (time.perf_counter() - start)


def _pct(times: list[float], q: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6


def main() -> None:
    from tests.sip2.harness import real_number

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child,), daemon=True)
    proc.start()
    ils_port, gw_port, token = parent.recv()
    date = "20251125    103000"
    kinds = {
        "23 patron status, token swapped": (
            _message(f"23001{date}AOMIDORI|AA{real_number(1)}|AC|AD|"),
            _message(f"23001{date}AOMIDORI|AA{token}|AC|AD|"),
        ),
        "17 item information, pass-through": (
            _message(f"17{date}AOMIDORI|AB301000000001|AC|"),
            _message(f"17{date}AOMIDORI|AB301000000001|AC|"),
        ),
    }
    print(f"sip2 gateway: loopback, {ROUNDS} messages per kind and path, one connection")
    print(f"  {'':<36}{'direct p50/p99 µs':>20}{'gateway p50/p99 µs':>22}{'added p50/p99 µs':>20}")
    try:
        for name, (direct_msg, gateway_msg) in kinds.items():
            direct: list[float] = []
            via: list[float] = []
            for _ in range(ROUNDS // BLOCK):
                direct += _timed(ils_port, direct_msg, BLOCK)
                via += _timed(gw_port, gateway_msg, BLOCK)
            d50, d99, g50, g99 = (
                _pct(direct, 0.5),
                _pct(direct, 0.99),
                _pct(via, 0.5),
                _pct(via, 0.99),
            )
            print(
                f"  {name:<36}{d50:>9.0f} / {d99:<8.0f}{g50:>11.0f} / {g99:<8.0f}"
                f"{g50 - d50:>9.0f} / {g99 - d99:<8.0f}"
            )
            seq_direct = len(direct) / sum(direct)
            seq_via = len(via) / sum(via)
            par_direct = _throughput(ils_port, direct_msg, 1000)
            par_via = _throughput(gw_port, gateway_msg, 1000)
            print(
                f"  {'':<36}messages/s: direct {seq_direct:,.0f} (1 conn) {par_direct:,.0f}"
                f" ({CONNECTIONS} conns); gateway {seq_via:,.0f} (1 conn) {par_via:,.0f}"
                f" ({CONNECTIONS} conns)"
            )
        print("  added = gateway percentile - direct percentile; goal: added p99 <= 1000 µs")
    finally:
        parent.send("stop")
        proc.join(10)


if __name__ == "__main__":
    main()

"""The real stack for gateway tests: ILS simulator <- gateway <- an independent SIP2 client.

The self-checkout side is the PyPI ``sip2`` package (module ``Sip2``), a SIP2 client not written
here. Servers run on 127.0.0.1 with ports the OS picks; :func:`running` hosts them on an event loop
in a thread (started with ``asyncio.run``) so blocking clients can talk to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from Sip2.sip2 import Sip2

from appliance.checkdigits import compute
from appliance.daytokens import ServiceHours, TokenBook, TokenPolicy
from appliance.sip2 import WireOptions
from appliance.values import CardNumber, CheckScheme, Issuer, Symbology
from drivers.sip2.gateway import GatewayConfig, Sip2Gateway
from drivers.sip2.store import TokenStore
from tests.sip2.ils import Ils, Patron

ISSUER = Issuer(
    issuer_id="midori",
    name="みどり市立図書館",
    symbology=Symbology.CODABAR,
    codabar_start="A",
    codabar_stop="A",
    check=CheckScheme.MOD10_W21,
    lengths=(10,),
)
POLICY = TokenPolicy(ISSUER, "9000000000", "9999999999", ServiceHours(dt.time(9), dt.time(20)))
TODAY = dt.datetime(2025, 11, 25, 10, 30)  # a Tuesday, within opening hours
ITEMS = {f"3010000{i:05d}": f"本 {i}" for i in range(200)}


def real_number(n: int) -> str:
    body = str(100000000 + n)
    return body + compute(body, CheckScheme.MOD10_W21.value)


def card(n: int) -> CardNumber:
    return CardNumber(ISSUER, real_number(n))


def patrons(count: int = 50) -> dict[str, Patron]:
    return {real_number(n): Patron(f"Patron {n}") for n in range(count)}


@dataclass
class Clock:
    now: dt.datetime = TODAY

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Stack:
    ils: Ils
    gateway: Sip2Gateway
    clock: Clock
    loop: asyncio.AbstractEventLoop | None = None
    stop: asyncio.Event | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        assert self.gateway.address is not None
        return self.gateway.address[1]

    @property
    def book(self) -> TokenBook:
        return self.gateway.book

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the servers' event loop (for state that loop owns)."""
        assert self.loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(5)


@contextlib.asynccontextmanager
async def stack(
    *,
    book: TokenBook | None = None,
    store: TokenStore | None = None,
    clock: Clock | None = None,
    terminator: bytes = b"\r",
    ils_ssl: ssl.SSLContext | None = None,
    ils_patrons: dict[str, Patron] | None = None,
    **config: Any,
) -> AsyncIterator[Stack]:
    """ILS simulator + gateway in front of it; ``config`` goes to :class:`GatewayConfig`."""
    clock = clock or Clock()
    ils = Ils(ils_patrons or patrons(), dict(ITEMS), terminator=terminator)
    await ils.start(ils_ssl)
    config.setdefault("upstream_host", "127.0.0.1")
    config.setdefault("upstream_port", ils.port)
    cfg = GatewayConfig(listen_port=0, wire=WireOptions(terminator=terminator), **config)
    if book is None and store is None:
        book = TokenBook([POLICY])
    gateway = Sip2Gateway(cfg, book=book, store=store, clock=clock)
    try:
        async with gateway:
            yield Stack(ils, gateway, clock)
    finally:
        await ils.stop()


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[Stack]:
    """The stack on an event loop in a thread, for blocking clients."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        async with stack(**kwargs) as s:
            s.loop, s.stop = asyncio.get_running_loop(), asyncio.Event()
            box["stack"] = s
            ready.set()
            await s.stop.wait()

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # surfaced in the test thread
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=main, name="sip2-stack", daemon=True)
    thread.start()
    ready.wait(10)
    if "error" in box:
        raise box["error"]
    s: Stack = box["stack"]
    try:
        yield s
    finally:
        assert s.loop is not None and s.stop is not None
        s.loop.call_soon_threadsafe(s.stop.set)
        thread.join(10)
        if "error" in box:
            raise box["error"]


@contextlib.contextmanager
def selfcheck(port: int, *, patron: str = "", terminator: str = "\r") -> Iterator[Sip2]:
    """A self-checkout machine: the PyPI ``sip2`` client, connected to ``port``."""
    sc = Sip2()
    sc.hostName = "127.0.0.1"
    sc.hostPort = port
    sc.tlsEnable = False
    sc.msgTerminator = terminator
    sc.institutionId = "MIDORI"
    sc.scLocation = "SC1"
    sc.patron = patron
    sc.log = logging.getLogger("tests.sip2.selfcheck")  # not the kiosk's log; not to a file
    sc.log.setLevel(logging.WARNING)  # it logs every message it sends, in clear
    sc.connect()
    try:
        yield sc
    finally:
        if sc._socket is not None:
            with contextlib.suppress(OSError):
                sc._socket.shutdown(socket.SHUT_RDWR)
            sc._socket.close()
            sc._socket = None

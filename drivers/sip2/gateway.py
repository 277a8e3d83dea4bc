"""The SIP2 gateway: a TCP server the self-checkout machine talks to instead of the library system.

One upstream connection per self-checkout connection; every decision is
:func:`appliance.sip2.route`'s, made per message and never per connection, so this module only
moves bytes. It never logs message content: a connection number, a command code and a reason are
all a log line ever holds. A failure of one connection (garbage, an upstream drop) closes that
connection only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import ssl
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.daytokens import TokenBook
from appliance.errors import ConfigError
from appliance.ports import DeviceStatus
from appliance.sip2 import (
    Answer,
    Forward,
    GatewayError,
    GatewayStatus,
    Reject,
    WireOptions,
    restore,
    route,
)
from drivers.sip2.status import device_status, write_status_file
from drivers.sip2.store import TokenStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayConfig:
    """Where to listen, where the library system is, and how long to wait (seconds)."""

    upstream_host: str
    upstream_port: int = 6001
    listen_host: str = "127.0.0.1"
    listen_port: int = 6001  # 0 = any free port (tests)
    tls: bool = False  # TLS toward the library system, certificate verified
    cafile: str | None = None  # CA bundle for a library system with a private CA
    server_hostname: str | None = None  # name in its certificate; default upstream_host
    wire: WireOptions = field(default_factory=WireOptions)
    connect_timeout_s: float = 5.0
    response_timeout_s: float = 30.0  # longest the library system may take to answer
    idle_timeout_s: float | None = None  # close an SC connection silent this long; None = never
    max_response_bytes: int = 1 << 20  # a patron's item lists can be long
    housekeeping_s: float = 30.0  # purge expired tokens, reload the store, write the status file
    status_path: str | None = None  # counts-only JSON for ``kioskctl doctor``

    def problems(self) -> list[str]:
        found = []
        if self.wire.terminator not in (b"\r", b"\r\n"):
            found.append("terminator: CR or CRLF")
        try:
            "x".encode(self.wire.encoding)
        except LookupError:
            found.append(f"encoding: unknown {self.wire.encoding!r}")
        for name in ("upstream_port", "listen_port"):
            if not 0 <= getattr(self, name) <= 65535:
                found.append(f"{name}: 0..65535")
        for name in ("connect_timeout_s", "response_timeout_s", "housekeeping_s"):
            if getattr(self, name) <= 0:
                found.append(f"{name}: must be more than 0 seconds")
        if self.wire.max_length < 64:
            found.append("max_length: at least 64 bytes")
        if self.cafile and not self.tls:
            found.append("cafile given without tls")
        return found


@dataclass
class _Counters:
    connections_open: int = 0
    connections_total: int = 0
    forwarded: int = 0
    answered_locally: int = 0
    rejected: int = 0
    upstream_reachable: bool | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class Sip2Gateway:
    """``async with Sip2Gateway(config, store=...) as gw:`` serves until the block ends."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        book: TokenBook | None = None,
        store: TokenStore | None = None,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        found = config.problems()
        if found:
            raise ConfigError(found)
        self.config = config
        self.store = store
        self._clock = clock
        self.book = book if book is not None else (store.load() if store else TokenBook())
        self._ssl = ssl_context
        if config.tls and ssl_context is None:
            self._ssl = ssl.create_default_context(cafile=config.cafile)
            self._ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server: asyncio.Server | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[object]] = set()
        self._n = _Counters()
        self.address: tuple[str, int] | None = None

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        """Listen; returns the bound (host, port)."""
        self._server = await asyncio.start_server(
            self._serve_connection,
            self.config.listen_host,
            self.config.listen_port,
            limit=self.config.wire.max_length,
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = (str(host), int(port))
        self._housekeeping = asyncio.create_task(self._housekeep())
        log.info("sip2 gateway listening on %s:%d", host, port)
        return self.address

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        # A connection accepted just before the close has a handler task that has not run yet:
        # let it register, then cancel until none is left, so every socket is closed here.
        await asyncio.sleep(0)
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        while self._n.tasks:
            for task in list(self._n.tasks):
                task.cancel()
            await asyncio.gather(*self._n.tasks, return_exceptions=True)
        if self._housekeeping is not None:
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        await self.flush()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self._write_status()
        log.info("sip2 gateway stopped")

    async def flush(self) -> None:
        """Wait until background writes to the token store (``used`` marks, purges) are done."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def __aenter__(self) -> Sip2Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> GatewayStatus:
        n = self.book.counts
        today = n.day == self._clock().date()
        return GatewayStatus(
            listening=f"{self.address[0]}:{self.address[1]}" if self.address else "",
            upstream=f"{self.config.upstream_host}:{self.config.upstream_port}",
            upstream_reachable=self._n.upstream_reachable,
            connections_open=self._n.connections_open,
            connections_total=self._n.connections_total,
            forwarded=self._n.forwarded,
            answered_locally=self._n.answered_locally,
            rejected=self._n.rejected,
            tokens_issued_today=n.issued if today else 0,
            tokens_used_today=n.used if today else 0,
        )

    def device_status(self) -> DeviceStatus:
        return device_status(self.status())

    async def probe_upstream(self) -> bool:
        """Open and close one connection to the library system; remembers the answer."""
        try:
            _, writer = await self._connect_upstream()
        except (OSError, TimeoutError):
            self._n.upstream_reachable = False
            return False
        await _close(writer)
        self._n.upstream_reachable = True
        return True

    # -- one self-checkout connection -----------------------------------------------------------

    async def _serve_connection(
        self, sc_reader: asyncio.StreamReader, sc_writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._n.tasks.add(task)
        self._n.connections_open += 1
        self._n.connections_total += 1
        cid = self._n.connections_total
        up_writer: asyncio.StreamWriter | None = None
        try:
            try:
                up_reader, up_writer = await self._connect_upstream()
            except (OSError, TimeoutError) as exc:
                self._n.upstream_reachable = False
                log.warning("conn %d: library system unreachable (%s)", cid, type(exc).__name__)
                return
            self._n.upstream_reachable = True
            log.debug("conn %d: open", cid)
            await self._relay(cid, sc_reader, sc_writer, up_reader, up_writer)
        except asyncio.CancelledError:
            # Only stop() cancels; ending normally spares 3.11's stream callback a traceback.
            log.debug("conn %d: cancelled by stop", cid)
        except OSError as exc:
            log.info("conn %d: self-checkout connection lost (%s)", cid, type(exc).__name__)
        except Exception as exc:  # never crash the gateway; never log content either
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "conn %d: internal error %s at %s:%s",
                cid,
                type(exc).__name__,
                Path(where.filename).name,
                where.lineno,
            )
        finally:
            self._n.connections_open -= 1
            self._n.tasks.discard(task)
            if up_writer is not None:
                await _close(up_writer)
            await _close(sc_writer)
            log.debug("conn %d: closed", cid)

    async def _relay(
        self,
        cid: int,
        sc_reader: asyncio.StreamReader,
        sc_writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        wire = self.config.wire
        term = wire.terminator
        last_answer: bytes | None = None  # what "97" (resend) repeats: ours, token restored
        while True:
            try:
                raw = await asyncio.wait_for(sc_reader.readuntil(term), self.config.idle_timeout_s)
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    self._n.rejected += 1
                    log.info("conn %d: closed mid-message, %d bytes dropped", cid, len(exc.partial))
                return
            except (asyncio.LimitOverrunError, ValueError):
                self._n.rejected += 1
                log.info("conn %d: message longer than %d bytes, closing", cid, wire.max_length)
                return
            except TimeoutError:
                log.info("conn %d: idle, closing", cid)
                return
            except OSError:
                return
            decision = await self._decide(raw)
            if isinstance(decision, Reject):
                self._n.rejected += 1
                log.info("conn %d: refused (%s), closing", cid, decision.reason)
                return
            if isinstance(decision, Forward) and raw.startswith(b"97") and last_answer:
                # The library system would resend *its* last message, which may hold the real
                # number; the self-checkout asked for ours.
                decision = Answer(last_answer, "resend")
            if isinstance(decision, Answer):
                self._n.answered_locally += 1
                log.info("conn %d: %s answered locally (%s)", cid, _code(raw), decision.reason)
                sc_writer.write(decision.data)
                await sc_writer.drain()
                if decision.reason != "resend":
                    last_answer = decision.data
                continue
            try:
                up_writer.write(decision.data)
                await up_writer.drain()
                answer = await asyncio.wait_for(
                    up_reader.readuntil(term), self.config.response_timeout_s
                )
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                self._n.upstream_reachable = False
                log.warning("conn %d: library system dropped (%s)", cid, type(exc).__name__)
                return
            except (asyncio.LimitOverrunError, ValueError):
                log.warning("conn %d: library system answer too long, closing", cid)
                return
            self._n.forwarded += 1
            log.debug("conn %d: %s forwarded%s", cid, _code(raw), " (token)" * bool(decision.token))
            last_answer = restore(answer, decision.restore, wire)
            sc_writer.write(last_answer)
            await sc_writer.drain()

    async def _decide(self, raw: bytes) -> Forward | Answer | Reject:
        now = self._clock()
        used_before = self.book.counts.used
        decision = route(raw, self.book, now, self.config.wire)
        if (
            isinstance(decision, Answer)
            and decision.reason == "unknown"
            and self.store is not None
            and self.store.changed()
        ):
            await self._reload()
            used_before = self.book.counts.used
            decision = route(raw, self.book, now, self.config.wire)
        if isinstance(decision, Forward) and decision.token and self.book.counts.used > used_before:
            token = decision.token
            if self.store is not None:  # persist "used" for a restart; the patron never waits
                self._in_background(self._store_write(lambda book: book.mark_used(token)))
        return decision

    async def _connect_upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        cfg = self.config
        return await asyncio.wait_for(
            asyncio.open_connection(
                cfg.upstream_host,
                cfg.upstream_port,
                ssl=self._ssl,
                server_hostname=(cfg.server_hostname or cfg.upstream_host) if self._ssl else None,
                limit=cfg.max_response_bytes,
            ),
            cfg.connect_timeout_s,
        )

    # -- housekeeping ---------------------------------------------------------------------------

    async def _reload(self) -> None:
        assert self.store is not None
        try:
            fresh = await asyncio.to_thread(self.store.load)
        except GatewayError as exc:
            log.error("token store: %s", exc.detail)
            return
        for token in self.book.tokens():
            if self.book.is_used(token):
                fresh.mark_used(token)
        fresh.purge(self._clock())  # the clock may have passed closing time while it loaded
        self.book = fresh

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.config.housekeeping_s)
            now = self._clock()
            if self.book.purge(now):
                log.info("sip2 tokens of a finished service day purged")
                if self.store is not None:  # and out of the file, not only out of memory
                    await self._store_write(lambda book: None)
            if self.store is not None and self.store.changed():
                await self._reload()
            self._write_status()

    async def _store_write(self, change: Callable[[TokenBook], None]) -> None:
        assert self.store is not None
        try:
            await asyncio.to_thread(self.store.update, change)
        except GatewayError as exc:
            log.error("token store: %s", exc.detail)

    def _in_background(self, job: Coroutine[Any, Any, object]) -> None:
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[object]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("token store: %s", type(task.exception()).__name__)

    def _write_status(self) -> None:
        if self.config.status_path:
            write_status_file(self.config.status_path, self.status())


def _code(raw: bytes) -> str:
    code = raw[:2]
    return code.decode("ascii") if code.isdigit() else "??"


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.TimeoutError):
        await writer.wait_closed()

"""Blocking calls on a worker thread of their own, those that arrive together in one go:
:class:`Batcher`.

A request's blocking work (SQL, on PostgreSQL a socket round trip) must leave the event loop,
and each hand-over to another thread costs more CPU than a lookup's own SQL: the GIL changes
hands (and cores) at every hand-over, and each one wakes a thread (bench/platform.py measured
~20 context switches per lookup when each lookup took its own trip to the thread pool).
Lookups run one at a time anyway (the write lock, server/api.py), so they get one thread of
their own instead of anyio's pool: a call is put on a C-level queue (no capacity limiter, no
per-call task and condition variable), and the thread takes every call waiting there at once,
runs them in order, each still its own call (its own transaction, its own answer or
exception), and wakes the event loop once for the lot. Under load that is a fraction of a
wake-up per request; alone, a request is one hand-over each way and waits for nothing.

A caller that is cancelled (the client went away) stops waiting; its call still runs if it was
already queued, as a call already started would. The thread starts with the first call and
stops at :meth:`Batcher.close` (the app's shutdown); it is a daemon, so a process that never
closes it still exits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_Call = tuple[Callable[..., T], tuple[Any, ...], "asyncio.Future[T]"]
_STOP = None  # put on the queue by close()


def _run_all(batch: list[_Call[T]]) -> list[tuple[bool, Any]]:
    """In the worker thread: every call, in order; (True, result) or (False, exception)."""
    out: list[tuple[bool, Any]] = []
    for function, args, _future in batch:
        try:
            out.append((True, function(*args)))
        except Exception as exc:  # handed to that call's caller, the others go on
            out.append((False, exc))
    return out


def _deliver(batch: list[_Call[T]], results: list[tuple[bool, Any]]) -> None:
    """On the event loop: each answer or exception to its caller (skipping cancelled ones)."""
    for (_function, _args, future), (ok, value) in zip(batch, results, strict=True):
        if future.done():  # the caller was cancelled meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class Batcher(Generic[T]):
    """Runs blocking calls on its own worker thread, those queued meanwhile together."""

    def __init__(self, name: str = "batcher") -> None:
        self._name = name
        self._queue: queue.SimpleQueue[tuple[_Call[T], asyncio.AbstractEventLoop] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._ensure_thread()
        self._queue.put(((function, args, future), loop))
        return await future

    def close(self) -> None:
        """Stop the worker thread after the calls already queued (idempotent)."""
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=self._name, daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            waiting = [first]
            while True:  # everything queued meanwhile goes in this batch
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)  # stop after this batch
                    break
                waiting.append(item)
            self._run(waiting)

    @staticmethod
    def _run(waiting: list[tuple[_Call[T], asyncio.AbstractEventLoop]]) -> None:
        """One batch, answered on each caller's loop (one wake-up per loop; tests run several
        loops one after another, a server runs one)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[_Call[T]]] = {}
        for call, loop in waiting:
            by_loop.setdefault(loop, []).append(call)
        for loop, batch in by_loop.items():
            try:
                results = _run_all(batch)
            except BaseException as exc:  # SystemExit and the like: every caller hears it
                results = [(False, exc)] * len(batch)
            try:
                loop.call_soon_threadsafe(_deliver, batch, results)
            except RuntimeError:  # that loop is closed: nobody waits for these answers
                pass

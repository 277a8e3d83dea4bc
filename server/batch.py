"""One hop to the thread pool for several requests: :class:`Batcher`.

A request's blocking work (SQL, on PostgreSQL a socket round trip) must leave the event loop,
and each hop to a worker thread costs more CPU than a lookup's own work: the GIL changes hands
(and cores) at every hop and at every point where the worker releases it, and each hand-over
wakes a thread (bench/platform.py measured ~20 context switches per lookup). Lookups run one
at a time anyway (the write lock, server/api.py), so the ones that arrive while others are in
a worker thread wait on the loop and then go together in the next hop, each still its own
call (its own transaction, its own answer or exception). Under load that is a fraction of a
hop per request; alone, a request takes one hop as before and waits for nothing.

Only the event loop's thread touches the queue, so it needs no lock. A caller that is
cancelled (the client went away) stops waiting; its call still runs if it was already queued,
as a call already in a worker thread would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
_Call = tuple[Callable[..., T], tuple[Any, ...], "asyncio.Future[T]"]


def _run_all(batch: list[_Call[T]]) -> list[tuple[bool, Any]]:
    """In the worker thread: every call, in order; (True, result) or (False, exception)."""
    out: list[tuple[bool, Any]] = []
    for function, args, _future in batch:
        try:
            out.append((True, function(*args)))
        except Exception as exc:  # handed to that call's caller, the others go on
            out.append((False, exc))
    return out


class Batcher(Generic[T]):
    """Runs blocking calls in the thread pool, those queued meanwhile together in one hop."""

    def __init__(self) -> None:
        self._pending: list[_Call[T]] = []
        self._draining: asyncio.Task[None] | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((function, args, future))
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await run_in_threadpool(_run_all, batch)
                except BaseException as exc:  # the hop itself failed: every caller hears it
                    batch, self._pending = batch + self._pending, []
                    for _function, _args, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    raise
                for (_function, _args, future), (ok, value) in zip(batch, results, strict=True):
                    if future.done():  # the caller was cancelled meanwhile
                        continue
                    if ok:
                        future.set_result(value)
                    else:
                        future.set_exception(value)
        finally:
            self._draining = None

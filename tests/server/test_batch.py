"""server/batch.py: lookups that arrive together go to the worker thread in one batch, and each
still gets its own answer or its own error (unit tests: real asyncio, a real worker thread)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from server import batch
from server.batch import Batcher


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch the worker thread ran."""
    sizes: list[int] = []
    plain = batch._run_all

    def counted(calls: list[Any]) -> list[tuple[bool, Any]]:
        sizes.append(len(calls))
        return plain(calls)

    monkeypatch.setattr(batch, "_run_all", counted)
    return sizes


def test_calls_that_arrive_while_one_runs_go_together_in_the_next_hop(hops: list[int]) -> None:
    release = threading.Event()
    loop_thread: list[int] = []

    def first() -> str:
        assert release.wait(10)
        return "first"

    def square(n: int) -> tuple[int, int]:
        return n * n, threading.get_ident()

    async def main() -> tuple[str, list[tuple[int, int]]]:
        loop_thread.append(threading.get_ident())
        batcher: Batcher[Any] = Batcher()
        running = asyncio.ensure_future(batcher.run(first))
        await asyncio.sleep(0.05)  # the first call is in a worker thread now
        rest = [asyncio.ensure_future(batcher.run(square, n)) for n in range(5)]
        await asyncio.sleep(0.05)
        release.set()
        return await running, list(await asyncio.gather(*rest))

    head, squares = asyncio.run(main())
    assert head == "first"
    assert [value for value, _ in squares] == [0, 1, 4, 9, 16]
    assert all(thread != loop_thread[0] for _, thread in squares)  # never on the event loop
    assert hops == [1, 5]


def test_a_call_alone_takes_one_hop_and_waits_for_nothing(hops: list[int]) -> None:
    async def main() -> list[int]:
        batcher: Batcher[int] = Batcher()
        return [await batcher.run(int, "7"), await batcher.run(int, "8")]

    assert asyncio.run(main()) == [7, 8]
    assert hops == [1, 1]


def test_each_error_goes_to_its_own_caller_and_the_others_still_get_answers(
    hops: list[int],
) -> None:
    release = threading.Event()

    def wait() -> int:
        assert release.wait(10)
        return 0

    async def main() -> list[object]:
        batcher: Batcher[int] = Batcher()
        calls = [asyncio.ensure_future(batcher.run(wait))]
        await asyncio.sleep(0.05)
        calls += [asyncio.ensure_future(batcher.run(int, text)) for text in ("1", "x", "3")]
        await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(*calls, return_exceptions=True))

    zero, one, bad, three = asyncio.run(main())
    assert (zero, one, three) == (0, 1, 3)
    assert isinstance(bad, ValueError)
    assert hops == [1, 3]


def test_a_cancelled_caller_does_not_disturb_the_others(hops: list[int]) -> None:
    release = threading.Event()
    ran: list[str] = []

    def wait() -> str:
        assert release.wait(10)
        return "waited"

    def note(what: str) -> str:
        ran.append(what)
        return what

    async def main() -> tuple[str, bool, str]:
        batcher: Batcher[str] = Batcher()
        first = asyncio.ensure_future(batcher.run(wait))
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(batcher.run(note, "gone"))
        kept = asyncio.ensure_future(batcher.run(note, "kept"))
        await asyncio.sleep(0.05)
        gone.cancel()
        release.set()
        return await first, gone.cancelled() or not gone.done(), await kept

    assert asyncio.run(main()) == ("waited", True, "kept")
    assert ran == ["gone", "kept"]  # queued before the cancel: it ran, as a started call would
    assert hops == [1, 2]


def test_the_worker_thread_stops_at_close_and_a_later_call_starts_another() -> None:
    async def main(batcher: Batcher[int]) -> int:
        return await batcher.run(int, "5")

    batcher: Batcher[int] = Batcher("test")
    before = {t.name for t in threading.enumerate()}
    assert asyncio.run(main(batcher)) == 5
    assert "test" in {t.name for t in threading.enumerate()} - before
    batcher.close()
    assert "test" not in {t.name for t in threading.enumerate()}
    assert asyncio.run(main(batcher)) == 5  # a new loop, a new thread
    batcher.close()
    batcher.close()  # idempotent

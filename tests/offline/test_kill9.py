"""kill -9 at random points during resolution: no assertion lost, none resolved twice.

A separate kiosk process resolves; the parent watches the outbox and kills it (SIGKILL) a random
few milliseconds after it settled one to three more assertions, so kills land between a request, the
platform's commit and the kiosk's own write. Then it starts another one, until all are settled.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from server.demo import demo_card_number
from tests.offline.conftest import Plug
from tests.offline.test_offline_tap import PINS, tap
from tests.support.platform import REPO
from ui.offline_wiring import OfflineKit

TAPS = [1, 2, 3, 1, 2, 3]


def _settled(db_path: Path) -> int:
    db = sqlite3.connect(db_path, timeout=10)
    try:
        (n,) = db.execute("SELECT count(*) FROM assertions WHERE state != 'pending'").fetchone()
        return int(n)
    finally:
        db.close()


def _platform_counts(plug: Plug) -> tuple[int, int]:
    db = sqlite3.connect(plug.db_path, timeout=10)
    try:
        (seen,) = db.execute("SELECT count(*) FROM offline_seen").fetchone()
        row = db.execute(
            "SELECT coalesce(sum(count), 0) FROM daily_counts WHERE kind = 'offline_resolved'"
        ).fetchone()
        return int(seen), int(row[0])
    finally:
        db.close()


def test_kill_9_during_resolution_loses_nothing_and_resolves_nothing_twice(
    bookmobile: OfflineKit, plug: Plug
) -> None:
    seen_before, counted_before = _platform_counts(plug)
    tokens = [tap(bookmobile, n, PINS[n]).job.number.value for n in TAPS]
    data_dir = Path(bookmobile.kiosk.config.data_dir)
    db_path = data_dir / "offline.sqlite"
    rng = random.Random()
    kills = rounds = 0
    while _settled(db_path) < len(TAPS):
        rounds += 1
        assert rounds <= len(TAPS) + 3, "resolution makes no progress"
        before = _settled(db_path)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.offline._resolver", str(data_dir), plug.base_url],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            target = before + rng.randint(1, 3)  # let it settle a few, then strike
            while proc.poll() is None and _settled(db_path) < target:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.04))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        finally:
            proc.wait(timeout=10)
    assert kills >= 2, "the resolver was never killed mid-way"

    assert sum(bookmobile.store.counts().values()) == len(TAPS)  # none lost
    resolved = {m.token: m.card_number for m in bookmobile.store.mappings()}
    assert resolved == {t: demo_card_number(n) for t, n in zip(tokens, TAPS, strict=True)}
    seen, counted = _platform_counts(plug)
    # each accepted exactly once by the platform
    assert (seen - seen_before, counted - counted_before) == (len(TAPS), len(TAPS))

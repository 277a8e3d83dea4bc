"""kill -9 at random points: every event recorded on the kiosk reaches the platform exactly once.

Kiosk children (tests/support/outbox_child.py) fill their outbox and flush it in the background
while this test kills them with SIGKILL after a random delay, over and over (>= 200 kills in
all), and another thread restarts the real platform (uvicorn + SQLite, same port and database)
at random moments, so kills also land while the platform is down, starting, or mid-answer.
Afterwards one clean flush delivers what is left, and the platform's events must be exactly the
kiosks' outboxes: none lost, none doubled. The idempotency key fixed at record time is what makes
this hold.

Children are forked by a zygote process that has the kiosk's modules imported already, so each
kill is a real process that started in milliseconds. A child needs ~0.1 s to open its store and
~0.3 s to sign in (the platform's scrypt) before it delivers, so children live up to 1.2 s, and
``LANES`` kiosks (each its own terminal and outbox file, one process at a time) run side by side
to keep the whole test near half a minute (~50 s on a machine with load 10).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sync.store import LocalStore
from tests.support import outbox_child
from tests.support.platform import (
    REPO,
    PlatformServer,
    fake_fingerprint,
    free_port,
    running_platform,
)

KILLS = 200  # in all, over LANES kiosks
LANES = 4
MAX_DELAY_S = 1.2


class Restarter(threading.Thread):
    """Stops and restarts the platform at random moments until ``done``; then keeps it up for
    the final check until ``finished``."""

    def __init__(self, workdir: Path, port: int) -> None:
        super().__init__(name="platform-restarter", daemon=True)
        self.workdir, self.port = workdir, port
        self.done, self.finished, self.up = threading.Event(), threading.Event(), threading.Event()
        self.restarts = 0
        self.server: PlatformServer | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            demo = True  # the first start loads the demo data; restarts find it there
            while True:
                with running_platform(self.workdir, port=self.port, demo=demo) as server:
                    self.server, demo = server, False
                    self.up.set()
                    if self.done.wait(random.uniform(2.0, 5.0)):
                        self.finished.wait(120)
                        return
                    self.up.clear()
                self.restarts += 1
                time.sleep(random.uniform(0.0, 0.5))  # kills land while it is down
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc
        finally:
            self.up.clear()


class Zygote:
    """The forking process, shared by the lanes (one request at a time)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.outbox_child"],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self.lock = threading.Lock()

    def ask(self, line: str) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self.lock:
            self.proc.stdin.write(line + "\n")
            return int(self.proc.stdout.readline())

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(10)
        self.proc.stdout.close()


class Lane(threading.Thread):
    """One kiosk (its own terminal and outbox file) killed ``kills`` times at random moments."""

    def __init__(self, args: list[str], kills: int, zygote: Zygote, restarter: Restarter) -> None:
        super().__init__(name=f"kiosk-lane-{args[2]}", daemon=True)
        self.args, self.kills, self.zygote, self.restarter = args, kills, zygote, restarter
        self.killed = self.killed_while_down = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for _ in range(self.kills):
                pid = self.zygote.ask(f"fork {json.dumps(self.args)}")
                time.sleep(random.uniform(0, MAX_DELAY_S))
                if not self.restarter.up.is_set():
                    self.killed_while_down += 1
                os.kill(pid, signal.SIGKILL)
                status = self.zygote.ask(f"wait {pid}")
                # killed by us, not exited on its own (a crash shows as an exit status)
                assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
                self.killed += 1
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc


class Check(threading.Thread):
    """One lane's final flush and comparison: the platform holds its events exactly once."""

    def __init__(self, args: list[str], platform_db: Path) -> None:
        super().__init__(name=f"check-{args[2]}", daemon=True)
        self.args, self.platform_db = args, platform_db
        self.before = self.recorded = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            db, _url, terminal_id, *_ = self.args
            self.before = len(_platform_events(self.platform_db, terminal_id))
            with LocalStore(db) as store:
                with outbox_child.client(*self.args[1:]) as client:
                    # as the background flusher does: a flush stops at a timeout (a loaded
                    # machine), the next one goes on; what matters is exactly once in the end
                    deadline = time.monotonic() + 90
                    while store.pending_count() and time.monotonic() < deadline:
                        if not store.flush(client):
                            time.sleep(0.5)
                assert store.pending_count() == 0
                recorded = _recorded(store)
            counts = Counter(str(e["u"]) for e in _platform_events(self.platform_db, terminal_id))
            assert [u for u, n in counts.items() if n > 1] == [], "delivered twice"
            assert set(counts) == set(recorded), "lost or invented"
            self.recorded = len(recorded)
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc


def _platform_events(db: Path, terminal_id: str) -> list[dict[str, object]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT fields FROM events WHERE terminal_id = ? AND kind = 'label_printed'",
            (terminal_id,),
        ).fetchall()
    finally:
        conn.close()
    return [json.loads(fields) for (fields,) in rows]


def _recorded(store: LocalStore) -> list[str]:
    """The ``u`` of every event the kiosk ever recorded (sent or not)."""
    rows = store._db.execute("SELECT fields FROM outbox WHERE kind = 'label_printed'").fetchall()
    return [str(json.loads(fields)["u"]) for (fields,) in rows]


def test_kill_minus_nine_at_random_points_loses_and_doubles_nothing(tmp_path: Path) -> None:
    restarter = Restarter(tmp_path / "platform", free_port())
    restarter.start()
    zygote = Zygote()
    try:
        assert restarter.up.wait(60), restarter.error
        assert restarter.server is not None
        platform = restarter.server
        lanes = []
        for n in range(LANES):
            terminal = platform.add_terminal()
            args = [str(tmp_path / f"kiosk-{n}.sqlite"), platform.base_url, terminal.terminal_id,
                    terminal.password, fake_fingerprint(terminal.terminal_id)]  # fmt: skip
            lanes.append(Lane(args, -(-KILLS // LANES), zygote, restarter))
        for lane in lanes:
            lane.start()
        for lane in lanes:
            lane.join(180)
        restarter.done.set()
        assert [lane.error for lane in lanes] == [None] * LANES
        assert restarter.up.wait(60), restarter.error  # the last start, kept for the check
        checks = [Check(lane.args, platform.db_path) for lane in lanes]
        for check in checks:  # side by side: each flush is bound by fsyncs, not CPU
            check.start()
        for check in checks:
            check.join(150)
        assert [check.error for check in checks] == [None] * LANES
        by_children = sum(check.before for check in checks)
        total = sum(check.recorded for check in checks)
    finally:
        restarter.done.set()
        restarter.finished.set()
        zygote.close()
        restarter.join(60)
    assert restarter.error is None, restarter.error
    kills = sum(lane.killed for lane in lanes)
    killed_while_down = sum(lane.killed_while_down for lane in lanes)
    assert kills >= KILLS and restarter.restarts >= 2 and killed_while_down > 0
    # children delivered part of it themselves; with a fast platform they may deliver all of it
    # before their kill, which still tests the kills (killed_while_down: events were pending)
    assert 0 < by_children <= total
    print(
        f"\n{kills} kills, {restarter.restarts} platform restarts, {killed_while_down} kills "
        f"while it was down; {total} events, {by_children} delivered by the children"
    )

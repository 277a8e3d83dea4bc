"""Platform: lookups per second and latency on loopback, beside a bare FastAPI endpoint.

Both servers are uvicorn child processes with the same settings (one worker, access log off),
running at the same time and hit by the same client threads over keep-alive connections
(http.client). A lookup is the real thing: the platform checks the challenge, the certificate
chain and the RSA signature, finds the library card and commits the spent nonce and the day's
counter (``synchronous=NORMAL``, see ``server/db.py``). The challenges and the card's
signatures are made before the clock starts, so the figures are the server's (a real card
takes ~1 s per signature anyway). The bare endpoint takes the same JSON body and returns a
small JSON object: the framework's ceiling on this machine. Goal: >= 50 % of it.

Both are FastAPI routes as shipped. The bare one is a plain ``def`` (FastAPI's default: its
body in the thread pool). The lookup is an ``async def`` route that reads the raw body and
takes everything else (validating the body, session check, SQL, chain, signature) to the
lookups' own worker thread, in one go with the lookups that arrive meanwhile
(server/batch.py), and sends a pre-serialised answer; none of that skips a check. The
lookup server's CPU is also given per thread (the event loop, the others), which says where
a change went.
The bare route is left as it is: rewriting it to batch or to skip its hop would measure a
different thing, and the ``async`` row below already shows the framework with no hop at all.

The goal is the SQLite row's (the platform's default). The same lookups on PostgreSQL (a
throw-away cluster from tests/support/postgres.py on a unix socket, ``fsync=off`` as in the
tests; lookups commit with ``synchronous_commit=off`` there anyway, see server/pg.py) run in
the same rounds, for the fleet-scale path.

The machine is shared (2 cores, other engineers' tests), so one long run of each after the
other measured mostly how busy the machine was at the time: the two are now measured in
alternating rounds (ROUNDS, order swapped every round) after a warm-up, and the ratio is
given per round and over all rounds. A third row, an ``async def`` bare endpoint (no hop to
the thread pool), is the framework's absolute floor, for information only.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256
from fastapi import FastAPI

from appliance.proof import challenge_digest
from appliance.values import Challenge
from drivers.card.virtual.demo import demo_citizen
from server.demo import DEMO_TERMINAL
from tests.support.postgres import postgres_cluster
from ui.child import free_port

REQUESTS = int(os.environ.get("BENCH_PLATFORM_REQUESTS", "3000"))  # lookups, all rounds
ROUNDS = int(os.environ.get("BENCH_PLATFORM_ROUNDS", "6"))
WARM_UP = 100
THREADS = 4
REPO = Path(__file__).resolve().parents[1]

bare_app = FastAPI()


@bare_app.post("/bare")
def bare(body: dict[str, Any]) -> dict[str, bool]:
    return {"ok": bool(body)}


@bare_app.post("/bare-async")
async def bare_async(body: dict[str, Any]) -> dict[str, bool]:
    return {"ok": bool(body)}


@contextmanager
def _serving(command: list[str], port: int) -> Iterator[tuple[str, int]]:
    proc = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _stat_seconds(stat: Path) -> float:
    """User + system CPU seconds from a /proc ``stat`` file (a process's or one thread's)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_cpu(pid: int) -> tuple[float, float]:
    """(event loop thread, all other threads) CPU seconds of a uvicorn process: its main
    thread runs the loop."""
    loop = other = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            seconds = _stat_seconds(task / "stat")
        except OSError:  # the thread ended meanwhile
            continue
        if task.name == str(pid):
            loop += seconds
        else:
            other += seconds
    return loop, other


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): what a request cost the
    server, whatever else the shared machine was doing meanwhile."""
    return _stat_seconds(Path(f"/proc/{pid}/stat"))


def _load(
    url: str, bodies: list[tuple[str, dict[str, Any], dict[str, str]]]
) -> tuple[float, list[float]]:
    """Send every (path, body, headers) from THREADS threads; (wall seconds, latencies).

    http.client with pre-encoded bodies, not httpx: the load generator shares the machine with
    the server, and httpx's own per-request cost made the *client* the ceiling of both runs.
    """
    host, port = url.removeprefix("http://").split(":")
    encoded = [
        (path, json.dumps(body).encode(), {**headers, "Content-Type": "application/json"})
        for path, body, headers in bodies
    ]
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []

    def worker(chunk: list[tuple[str, bytes, dict[str, str]]]) -> None:
        mine = []
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            for path, body, headers in chunk:
                start = time.perf_counter()
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                text = response.read()
                mine.append(time.perf_counter() - start)
                if response.status != 200:
                    failures.append(f"{path}: HTTP {response.status} {text[:80]!r}")
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(encoded[i::THREADS],)) for i in range(THREADS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} failed, e.g. {failures[0]}")
    return wall, latencies


def _lookups(url: str) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """REQUESTS signed lookup bodies for demo citizen 1 over fresh challenges."""
    card = demo_citizen(1).credentials()
    with httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/v1/sessions", json={**DEMO_TERMINAL._asdict(), "fingerprint": "b" * 64})
        auth = {"Authorization": f"Bearer {r.json()['token']}"}
        bodies = []
        for _ in range(REQUESTS + WARM_UP):
            nonce = client.post("/v1/challenges", json={"purpose": "lookup"}, headers=auth)
            raw = base64.b64decode(nonce.json()["nonce"])
            digest = challenge_digest(Challenge(raw, DEMO_TERMINAL.terminal_id, "lookup"))
            signature = card.key.sign(digest, PKCS1v15(), Prehashed(SHA256()))
            body = {
                "nonce": nonce.json()["nonce"],
                "certificate": base64.b64encode(card.certificate_der).decode(),
                "signature": base64.b64encode(signature).decode(),
            }
            bodies.append(("/v1/lookups", body, auth))
    return bodies


def _row(name: str, wall: float, latencies: list[float]) -> tuple[str, float]:
    rate = len(latencies) / wall
    q = statistics.quantiles(latencies, n=100)
    return (
        f"  {name:<34} {rate:7.0f} req/s  p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms"
        f"  ({len(latencies)} requests, {THREADS} threads)"
    ), rate


Bodies = list[tuple[str, dict[str, Any], dict[str, str]]]


@dataclass
class Run:
    """One endpoint's share of the alternating rounds."""

    url: str
    pid: int
    bodies: Bodies
    wall: float = 0.0
    cpu: float = 0.0
    threads: tuple[float, float] = (0.0, 0.0)
    latencies: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    def round(self, r: int) -> None:
        size = len(self.bodies) // ROUNDS
        cpu, threads = _cpu_seconds(self.pid), _thread_cpu(self.pid)
        wall, latencies = _load(self.url, self.bodies[r * size : (r + 1) * size])
        self.cpu += _cpu_seconds(self.pid) - cpu
        after = _thread_cpu(self.pid)
        self.threads = (
            self.threads[0] + after[0] - threads[0],
            self.threads[1] + after[1] - threads[1],
        )
        self.wall += wall
        self.latencies += latencies
        self.rates.append(len(latencies) / wall)

    def cpu_ms(self) -> float:
        return self.cpu / len(self.latencies) * 1000


LOOKUP, LOOKUP_PG = "lookup (platform)", "lookup (platform on PostgreSQL)"
BARE, FLOOR = "bare endpoint (same framework)", "bare async endpoint (floor)"


def main() -> None:
    print("platform: POST /v1/lookups on loopback (real chain + signature check) vs bare FastAPI")
    uvicorn_args = ["--host", "127.0.0.1", "--log-level", "warning"]
    with tempfile.TemporaryDirectory() as tmp, postgres_cluster() as cluster:
        port, pg_port, bare_port = free_port(), free_port(), free_port()
        serve = [sys.executable, "-m", "server", "serve", "--port", str(port), "--demo",
                 *uvicorn_args]  # fmt: skip
        pg_serve = [*serve, "--db", cluster.new_database("bench"), "--port", str(pg_port)]
        bare_cmd = [sys.executable, "-m", "uvicorn", "bench.platform:bare_app", "--port",
                    str(bare_port), "--no-access-log", *uvicorn_args]  # fmt: skip
        with (
            _serving([*serve, "--db", f"{tmp}/p.sqlite"], port) as (url, pid),
            _serving(pg_serve, pg_port) as (pg_url, pg_pid),
            _serving(bare_cmd, bare_port) as (bare, bpid),
        ):
            bodies, pg_bodies = _lookups(url), _lookups(pg_url)
            sample = bodies[0][1]
            runs = {
                LOOKUP: Run(url, pid, bodies),
                LOOKUP_PG: Run(pg_url, pg_pid, pg_bodies),
                BARE: Run(bare, bpid, [("/bare", sample, {})] * (REQUESTS + WARM_UP)),
                FLOOR: Run(bare, bpid, [("/bare-async", sample, {})] * (REQUESTS + WARM_UP)),
            }
            for run in runs.values():  # warm-up: connections, caches, the WAL
                _load(run.url, run.bodies[:WARM_UP])
                run.bodies = run.bodies[WARM_UP:]
            for r in range(ROUNDS):  # alternating, the order swapped every round
                for run in list(runs.values())[:: 1 if r % 2 == 0 else -1]:
                    run.round(r)
    _report(runs)


def _report(runs: dict[str, Run]) -> None:
    rates = {}
    for name, run in runs.items():
        line, rates[name] = _row(name, run.wall, run.latencies)
        print(f"{line}  server CPU {run.cpu_ms():.2f} ms/request")
    for name in (LOOKUP, LOOKUP_PG):
        lookup, bare = runs[name], runs[BARE]
        loop_ms, other_ms = (t / len(lookup.latencies) * 1000 for t in lookup.threads)
        per_round = [a / b for a, b in zip(lookup.rates, bare.rates, strict=True)]
        print(f"  {name}: server CPU by thread: event loop {loop_ms:.2f} ms, "
              f"other threads {other_ms:.2f} ms per request")  # fmt: skip
        print("    per round: " + " ".join(f"{x:.0%}" for x in per_round)
              + f" (median {statistics.median(per_round):.0%})")  # fmt: skip
        ratio, floor = rates[name] / rates[BARE], rates[name] / rates[FLOOR]
        print(f"    {ratio:.0%} of the bare rate (goal >= 50 %); {floor:.0%} of the floor; by "
              f"server CPU per request (what the shared machine's load does not skew) "
              f"{bare.cpu_ms() / lookup.cpu_ms():.0%} of the bare endpoint")  # fmt: skip


if __name__ == "__main__":
    main()

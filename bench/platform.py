"""Platform: lookups per second and latency on loopback, beside a bare FastAPI endpoint.

Both servers are uvicorn child processes with the same settings (one worker, access log off),
hit by the same client threads over keep-alive connections (http.client). A lookup is the real
thing: the platform checks the challenge, the certificate chain and the RSA signature, finds
the library card and commits the spent nonce and the day's counter (``synchronous=NORMAL``, see
``server/db.py``). The challenges and the card's signatures are made before the clock starts,
so the figures are the server's (a real card takes ~1 s per signature anyway). The bare
endpoint takes the same JSON body and returns a small JSON object: the framework's ceiling on
this machine. Goal: >= 50 % of it.
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

REQUESTS = int(os.environ.get("BENCH_PLATFORM_REQUESTS", "1500"))
THREADS = 4
REPO = Path(__file__).resolve().parents[1]

bare_app = FastAPI()


@bare_app.post("/bare")
def bare(body: dict[str, Any]) -> dict[str, bool]:
    return {"ok": bool(body)}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serving(command: list[str], port: int) -> Iterator[str]:
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
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
        for _ in range(REQUESTS):
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


def main() -> None:
    print("platform: POST /v1/lookups on loopback (real chain + signature check) vs bare FastAPI")
    uvicorn_args = ["--host", "127.0.0.1", "--log-level", "warning"]
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        serve = [sys.executable, "-m", "server", "serve", "--db", f"{tmp}/p.sqlite",
                 "--port", str(port), "--demo", *uvicorn_args]  # fmt: skip
        with _serving(serve, port) as url:
            bodies = _lookups(url)
            _load(url, bodies[:50])  # warm-up: connections, caches
            lookup_line, lookup_rate = _row("lookup (platform)", *_load(url, bodies[50:]))
        port = _free_port()
        bare_cmd = [sys.executable, "-m", "uvicorn", "bench.platform:bare_app", "--port",
                    str(port), "--no-access-log", *uvicorn_args]  # fmt: skip
        with _serving(bare_cmd, port) as url:
            sample = bodies[0][1]
            same = [("/bare", sample, {})] * len(bodies)
            _load(url, same[:50])
            bare_line, bare_rate = _row("bare endpoint (same framework)", *_load(url, same[50:]))
    print(lookup_line)
    print(bare_line)
    print(f"  lookups reach {lookup_rate / bare_rate:.0%} of the bare rate (goal >= 50 %)")


if __name__ == "__main__":
    main()

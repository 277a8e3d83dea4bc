"""Child processes on loopback: the embedded reference platform of ``make run`` (ui.wiring), and
the servers the tests and benchmarks start the same way.

A port is found by binding port 0 and closing again: the child binds it a moment later, which
can race another process on a busy machine, but a child that loses the race fails to start and
says so (its health check never answers). Stopping asks first (SIGTERM: uvicorn finishes its
requests and closes the database) and kills only a child still there after ``grace_s``.
"""

from __future__ import annotations

import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_child(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """End a child: terminate, and kill it if it has not gone after ``grace_s`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

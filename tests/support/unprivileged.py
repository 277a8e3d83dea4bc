"""Run a function in a forked child that has dropped root for an unprivileged user.

What ``kiosk-login`` does on the image (root opens the device secret, ``runuser -u kiosk``
keeps the descriptor): a forked child inherits the parent's descriptors and imported modules,
then gives up root for good with ``setgroups``/``setgid``/``setuid``, so what it can open is
exactly what that user can. A fork rather than ``runuser ... python``: this machine's Python
lives under ``/root``, which an unprivileged user cannot even start. The child's answer (any
JSON value) or its exception's text comes back over a pipe.
"""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from typing import Any


def run_as(user: str, fn: Callable[[], Any]) -> Any:
    """``fn()``'s JSON-able result, run as ``user`` in a child; ``RuntimeError`` if it raised."""
    entry = pwd.getpwnam(user)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(entry.pw_gid)
            os.setuid(entry.pw_uid)
            reply = {"ok": fn(), "uid": os.getuid()}
        except BaseException as exc:  # everything goes back to the parent
            reply = {"error": f"{type(exc).__name__}: {exc}"}
            code = 1
        try:
            os.write(write, json.dumps(reply).encode())
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        reply = json.loads(fh.read() or b'{"error": "no answer"}')
    os.waitpid(pid, 0)
    if "error" in reply:
        raise RuntimeError(reply["error"])
    assert reply["uid"] == entry.pw_uid  # root really was given up
    return reply["ok"]

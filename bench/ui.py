"""UI: cold start to first frame and steady-state RSS, kiosk app vs a minimal Textual app.

Each run is a fresh process (a cold start: interpreter and imports included). The child prints
the wall time from the parent's spawn to the first screen being mounted and painted, and its RSS
after a second of idling.
Devices are left out (a kiosk with no parts): their start-up is the wiring's, not the UI's.

Both apps start from bytecode, as they do on the box (pip compiles what it installs, the
kiosk's wheel as Textual's): the kiosk's own packages are byte-compiled before the runs. In a
shell with PYTHONDONTWRITEBYTECODE=1 and the editable install of a checkout, the kiosk's
modules were otherwise compiled from source in every run while Textual's were not.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 9  # medians of 9: the machine is shared, 5 moved the ratio by +-0.15 run to run

_CHILD = r"""
import time, sys
which, spawned = sys.argv[1], float(sys.argv[2])
if which == "kiosk":
    from types import SimpleNamespace
    from appliance.config import load_config
    from ui.app import KioskApp
    app = KioskApp(SimpleNamespace(demo=None, config=load_config({"data_dir": "/nonexistent"})))
else:
    from textual.app import App
    from textual.widgets import Static
    class Minimal(App):
        def compose(self):
            yield Static("Tap your card")
    app = Minimal()

def rss_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0

async def pilot(p):
    await p.pause()
    first = time.time() - spawned
    await p.pause(1.0)
    print(f"{first:.4f} {rss_kib()}", flush=True)
    app.exit()

app.run(headless=True, size=(100, 32), auto_pilot=pilot)
"""


def _once(which: str, into: tuple[list[float], list[int], list[float]]) -> None:
    firsts, rss, walls = into
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, which, repr(time.time())],
        capture_output=True,
        text=True,
        check=True,
    )
    walls.append(time.perf_counter() - start)
    first, kib = out.stdout.split()[-2:]
    firsts.append(float(first))
    rss.append(int(kib))


def _compile_ahead() -> None:
    """Write the kiosk's bytecode (``__pycache__``, git-ignored), as installing it would."""
    root = Path(__file__).resolve().parent.parent
    for package in ("appliance", "ui", "drivers", "sync"):
        compileall.compile_dir(root / package, quiet=1)


def main() -> None:
    _compile_ahead()
    print(f"ui: cold start to first frame and RSS, median of {RUNS} fresh processes (headless)")
    # Alternating runs (the order swapped every round): on a shared machine, all of one app
    # and then all of the other measured mostly how busy the machine was at the time.
    results: dict[str, tuple[list[float], list[int], list[float]]] = {
        "minimal": ([], [], []),
        "kiosk": ([], [], []),
    }
    for r in range(RUNS):
        order = ("minimal", "kiosk") if r % 2 == 0 else ("kiosk", "minimal")
        for which in order:
            _once(which, results[which])
    for which, (firsts, rss, walls) in results.items():
        print(
            f"  {which:<8} first frame {statistics.median(firsts) * 1000:7.0f} ms"
            f"  (process start to exit {statistics.median(walls) * 1000:6.0f} ms)"
            f"  RSS {statistics.median(rss) / 1024:6.1f} MiB"
        )
    k, m = results["kiosk"], results["minimal"]
    print(
        f"  kiosk / minimal: first frame x{statistics.median(k[0]) / statistics.median(m[0]):.2f},"
        f" RSS x{statistics.median(k[1]) / statistics.median(m[1]):.2f}"
    )


if __name__ == "__main__":
    main()

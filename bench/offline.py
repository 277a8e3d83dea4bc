"""Bookmobile: an offline tap end to end, resolution throughput, and a large .koc rewrite."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from appliance.config import load_config
from appliance.daytokens import TokenPolicy
from appliance.koc import rewrite_koc
from appliance.values import CheckScheme, Issuer, Pin

TAPS = 20
KOC_LINES = 20_000


def _kit(data_dir: Path, url: str):  # type: ignore[no-untyped-def]
    from server.demo import DEMO_TERMINAL
    from ui.offline_wiring import build_offline
    from ui.wiring import build_kiosk

    config = load_config(
        {
            "data_dir": str(data_dir),
            "platform_url": url,
            "terminal_password": DEMO_TERMINAL.password,  # a real platform: no default password
            "card_reader": "virtual",
            "offline_token_low": "8000000000",
            "offline_token_high": "8999999999",
            "offline_stop": "宮前公民館前",
        }
    )
    return build_offline(build_kiosk(config))


def taps_and_resolution() -> list[str]:
    from tests.support.platform import running_platform

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        with running_platform(Path(tmp) / "platform") as server:
            kit = _kit(Path(tmp) / "kiosk", server.base_url)
            try:
                kit.prepare()
                assert kit.kiosk.demo is not None
                times = []
                for _ in range(TAPS):
                    kit.kiosk.demo.tap(1)
                    start = time.perf_counter()
                    flow = kit.flow()
                    flow.finish(flow.begin(5), Pin("1234"))
                    times.append(time.perf_counter() - start)
                rows.append(
                    f"  offline tap (in-process card, label printed)  median "
                    f"{statistics.median(times) * 1000:7.1f} ms  max {max(times) * 1000:7.1f} ms"
                    f"  ({TAPS} taps)"
                )
                start = time.perf_counter()
                report = kit.resolve()
                elapsed = time.perf_counter() - start
                rows.append(
                    f"  resolution over loopback HTTP                  {report.resolved} in "
                    f"{elapsed * 1000:7.1f} ms = {report.resolved / elapsed:6.1f} assertions/s"
                )
            finally:
                kit.close()
                kit.kiosk.close()
    return rows


def koc_rewrite() -> str:
    issuer = Issuer("000001", "bench", check=CheckScheme.MOD10_W21, lengths=(10,))
    policy = TokenPolicy(issuer, "8000000000", "8999999999")
    mapping = {policy.make(800000000 + i): f"18{i:08d}" for i in range(1000)}
    tokens = list(mapping)
    lines = ["Version=1.0\tGenerator=bench\tGeneratorVersion=1"]
    for i in range(KOC_LINES):
        lines.append(f"2026-12-01 10:00:00 {i}\tissue\t{tokens[i % 1000]}\t31{i:012d}")
    text = "\n".join(lines) + "\n"
    start = time.perf_counter()
    rewrite_koc(text, mapping, bare=policy.bare, is_token=policy.claims)
    elapsed = time.perf_counter() - start
    name = ".koc rewrite"
    return f"  {name:<46} {KOC_LINES} lines in {elapsed * 1000:7.1f} ms"


def main() -> None:
    print("offline: bookmobile lending (issue 9)")
    for row in taps_and_resolution():
        print(row)
    print(koc_rewrite())


if __name__ == "__main__":
    main()

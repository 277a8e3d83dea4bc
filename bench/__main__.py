"""Run every benchmark and print its figures."""

from __future__ import annotations

from bench import card, labels, offline, sip2, ui
from bench import platform as platform_bench


def main() -> None:
    card.main()
    sip2.main()
    ui.main()
    labels.main()
    offline.main()
    platform_bench.main()


if __name__ == "__main__":
    main()

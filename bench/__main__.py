"""Run every benchmark and print its figures."""

from __future__ import annotations

from bench import card, labels, offline, sip2, ui


def main() -> None:
    card.main()
    sip2.main()
    ui.main()
    labels.main()
    offline.main()


if __name__ == "__main__":
    main()

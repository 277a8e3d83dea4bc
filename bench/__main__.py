"""Run every benchmark and print its figures."""

from __future__ import annotations

from bench import card


def main() -> None:
    card.main()


if __name__ == "__main__":
    main()

"""The kiosk's side of token labels: :class:`appliance.ports.DayTokens` on the shared store.

The kiosk issues the token when it prints the label; the gateway (another process, see
:mod:`drivers.sip2.cli`) resolves it at the self-checkout. Both open the same encrypted
:class:`~drivers.sip2.store.TokenStore` file, so a label printed a second ago is honoured at once.
The policy travels with each issue: the issuer's rules come from the platform's answer (the
looked-up card number carries its :class:`~appliance.values.Issuer`), the reserved range and the
hours from the kiosk's configuration.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from appliance.config import KioskConfig, parse_hours
from appliance.daytokens import DayToken, ServiceHours, TokenPolicy
from appliance.values import CardNumber
from drivers.sip2.store import TokenStore
from sync.devicesecret import ensure_device_secret, secret_path


class KioskTokens:
    """Day tokens for one configured issuer; every other issuer prints plain labels."""

    def __init__(
        self, store: TokenStore, issuer_id: str, low: str, high: str, hours: ServiceHours
    ) -> None:
        self._store = store
        self._issuer_id = issuer_id
        self._low = low
        self._high = high
        self._hours = hours

    def __repr__(self) -> str:
        return f"KioskTokens({self._issuer_id!r}, {self._store!r})"

    def token_for(self, number: CardNumber) -> DayToken | None:
        if number.issuer.issuer_id != self._issuer_id:
            return None
        policy = TokenPolicy(number.issuer, self._low, self._high, self._hours).check()
        return self._store.issue(number, policy)


def paths(config: KioskConfig) -> tuple[Path, Path, Path]:
    """Device secret, token store and gateway status file: configured, or in the data folder."""
    data = Path(config.data_dir)
    return (
        secret_path(config.device_secret, data),
        Path(config.sip2_store or data / "sip2-tokens.bin"),
        Path(config.sip2_status or data / "sip2-status.json"),
    )


def kiosk_tokens(config: KioskConfig) -> KioskTokens | None:
    """The adapter for ``config``, or ``None`` where no issuer uses token labels.

    A missing device secret is created (owner-only) on first start, the same one the terminal
    credentials are sealed under; one that others can read is refused by the store with every
    problem listed (``ConfigError``).
    """
    if not config.token_issuer:
        return None
    secret, store_path, _status = paths(config)
    ensure_device_secret(secret)
    opens, closes = parse_hours(config.token_hours)
    hours = ServiceHours(dt.time(*opens), dt.time(*closes))
    store = TokenStore(store_path, secret)
    return KioskTokens(store, config.token_issuer, config.token_low, config.token_high, hours)

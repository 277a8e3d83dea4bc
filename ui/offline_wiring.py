"""Wiring of bookmobile lending: the offline store, the local verifier and the offline tap flow.

Kept apart from ``ui/wiring.py`` (one place per feature meets its adapters): ``build_offline``
takes a built :class:`ui.wiring.Kiosk` and adds what the bookmobile needs. The tap flow is made
afresh from the store on every use, so trust material fetched by ``prepare`` is in force at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from appliance.config import KioskConfig
from appliance.daytokens import TokenPolicy
from appliance.errors import ConfigError
from appliance.offline import OfflineTapFlow
from sync.devicesecret import ensure_device_secret, secret_path
from sync.offline import OfflineApi, OfflineStore, ResolveReport
from sync.offline_trust import LocalVerifier, TrustStatus, trust_status
from ui.wiring import Kiosk


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def device_secret(config: KioskConfig) -> Path:
    """The device secret everything at rest is keyed from, made on first start if missing."""
    path = secret_path(config.device_secret, Path(config.data_dir))
    ensure_device_secret(path)
    return path


@dataclass
class OfflineKit:
    kiosk: Kiosk
    store: OfflineStore
    api: OfflineApi

    @property
    def max_age(self) -> dt.timedelta:
        return dt.timedelta(hours=self.kiosk.config.offline_crl_max_age_h)

    def policy(self) -> TokenPolicy | None:
        """The provisional range for the library the cached trust names (None = not ready)."""
        config = self.kiosk.config
        material = self.store.trust()
        if not (config.offline_token_low and material and material.issuers):
            return None
        policy = TokenPolicy(
            material.issuers[0], config.offline_token_low, config.offline_token_high
        )
        problems = policy.problems()
        if problems:
            raise ConfigError(problems)
        return policy

    def flow(self) -> OfflineTapFlow:
        config = self.kiosk.config
        return OfflineTapFlow(
            reader=self.kiosk.reader,
            verifier=LocalVerifier(self.store.trust(), self.max_age),
            outbox=self.store,
            printer=self.kiosk.printer,
            events=self.kiosk.store,
            policy=self.policy(),
            terminal_id=config.terminal_id,
            stop=config.offline_stop,
            now=_now,
            pin_required=config.pin_required,
            clock_sync=self.kiosk.flow.clock_sync,
        )

    def status(self) -> TrustStatus:
        return trust_status(self.store.trust(), _now(), self.max_age)

    def prepare(self) -> TrustStatus:
        """Before departure: fetch and keep CA certificates, revocation lists and the issuer."""
        self.store.save_trust(self.api.trust())
        return self.status()

    def resolve(self) -> ResolveReport:
        self.store.purge()
        return self.store.resolve(self.api)

    def close(self) -> None:
        self.store.close()


def build_offline(kiosk: Kiosk) -> OfflineKit:
    config = kiosk.config
    store = OfflineStore(
        Path(config.data_dir) / "offline.sqlite",
        device_secret(config),
        keep=dt.timedelta(days=config.offline_keep_days),
    )
    store.purge()
    return OfflineKit(kiosk, store, OfflineApi(kiosk.platform))

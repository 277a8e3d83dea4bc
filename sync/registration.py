"""Terminal registration from the setup wizard: form 10 to the platform, then enrol locally.

The wizard (``ui/setup.py``) collects the ministry's terminal ID and password and the contact
details; this sends them with the board's fingerprint and, once the platform has accepted them,
seals the credentials into the local store under the device secret, so that the next start signs
in with them. The idempotency key is derived from what is sent: pressing "register" twice, or a
retry after a lost answer, registers once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import ssl
from pathlib import Path

from appliance.contact import ContactDetails
from sync.client import PlatformClient
from sync.credentials import TerminalIdentity, enrol
from sync.store import LocalStore


class PlatformRegistrar:
    """Serves the wizard's ``TerminalRegistrar`` with the platform client's form-10 call."""

    def __init__(
        self,
        base_url: str,
        fingerprint: str,
        store: LocalStore,
        secret: Path,
        *,
        verify: ssl.SSLContext | None = None,
        kiosk_client: PlatformClient | None = None,
    ) -> None:
        """``kiosk_client``, the running kiosk's client, signs in with the new credentials
        once they are enrolled: a kiosk set up by the wizard works without a restart."""
        self._base_url = base_url
        self._fingerprint = fingerprint
        self._store = store
        self._secret = secret
        self._verify = verify
        self._kiosk_client = kiosk_client

    def __repr__(self) -> str:
        return f"PlatformRegistrar({self._base_url!r})"

    def register_terminal(
        self, terminal_id: str, password: str, contact: ContactDetails, platform_url: str = ""
    ) -> None:
        """Raises only ``KioskError``: ``RegistrationInvalid`` lists every problem at once.

        ``platform_url`` is the address the first-boot wizard was given ("" = the configured
        one); the kiosk's own client keeps its address, so it takes the new credentials only
        when the two are the same (otherwise the kiosk starts again with the saved address)."""
        base_url = platform_url or self._base_url
        details = dataclasses.asdict(contact.normalised())
        sent = json.dumps([terminal_id, self._fingerprint, details], sort_keys=True)
        key = hashlib.sha256(sent.encode()).hexdigest()[:40]
        with PlatformClient(
            base_url, terminal_id, password, self._fingerprint, verify=self._verify
        ) as client:
            client.register_terminal(details, key)
        enrol(self._store, TerminalIdentity(terminal_id, password, self._fingerprint), self._secret)
        if self._kiosk_client is not None and base_url == self._base_url:
            self._kiosk_client.session.use_credentials(terminal_id, password)

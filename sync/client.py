"""The platform client: ``appliance.ports.Platform`` and ``ServiceIds`` over HTTP (httpx).

:class:`PlatformClient` is the one object the kiosk's wiring, ``kioskctl`` and the tests hold;
it only assembles the parts, each in a module of its own because each has its own reason to
change:

=====================  ===============================================================
module                 what it owns
=====================  ===============================================================
:mod:`sync.transport`  the httpx client, TLS verification, bounded retries, httpx errors
:mod:`sync.session`    sign-in, token renewal, what a refused answer means
:mod:`sync.cards`      a tap's challenge and lookup, the proof's wire fields
:mod:`sync.service_ids` the staff flows: link and unlink a library card number
:mod:`sync.terminal`   issuers, outbox events, the doctor line, form-10 registration
:mod:`sync.tls`        the configured CA file -> the context that checks the platform
=====================  ===============================================================

Other modules that talk to the platform (the bookmobile's :mod:`sync.offline`) use
:attr:`PlatformClient.session`, the public home of the session and its error translation.

How answers become errors (all :class:`appliance.errors.SyncError` subclasses)::

    connect error, timeout, broken connection     PlatformUnreachable
    HTTP 502 / 503 / 504                          PlatformUnreachable (a proxy in front, or restart)
    TLS: certificate not from the configured CA   PlatformCertificateRejected (never retried)
    no password (not enrolled yet)                SetupNeeded (the setup wizard's cue)
    401 terminal.credentials, 409 terminal.fingerprint,
    403 terminal.unregistered, 429 signin.throttled,
    401 session.invalid right after signing in    TerminalRejected
    service-ID registration / deletion refused    ServiceIdRefused (``code`` says why)
    terminal registration form refused            RegistrationInvalid (every field's problems)
    403 card.rejected, 403 card.pin_required      CardRejected
    400 challenge.invalid                         ChallengeRefused (took too long: tap again)
    anything else unexpected, or a body that does
    not match the OpenAPI document                MalformedReply

One deliberate exception: a looked-up card number that fails its issuer's rules (length, check
digit) raises ``appliance.errors.InvalidCardNumber`` from :meth:`PlatformClient.lookup`. The
transport worked; the *data* is wrong, which staff must fix at the counter, and that error's
message says exactly so (it is a ``LabelError``: such a number is never printed).

The log gets method, path, status and error code; never a body, card number or certificate.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import TracebackType

import httpx

from appliance.ports import DeviceStatus, RegisteredServiceId, ServiceIds
from appliance.values import CardProof, Challenge, Issuer, LookupMatch
from sync import cards, service_ids, terminal
from sync.session import ChallengeRefused, PlatformSession
from sync.transport import DEFAULT_RETRY, RetryPolicy, Transport

__all__ = ["ChallengeRefused", "PlatformClient", "RetryPolicy"]


class PlatformClient:
    """The kiosk's terminal-authenticated connection to the MyKey Platform.

    ``fingerprint`` is :func:`sync.fingerprint.board_fingerprint` on a real kiosk. ``transport``
    lets tests put an ``httpx.MockTransport`` in place of the network; ``verify`` is the TLS
    context from :func:`sync.tls.platform_verify` (``None``: the system trust store).
    Thread-safe: the UI's workers and the outbox flusher may share one client.
    """

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        password: str,
        fingerprint: str,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        http = Transport(base_url, timeout=timeout, transport=transport, retry=retry, verify=verify)
        self.session = PlatformSession(http, terminal_id, password, fingerprint)

    @property
    def terminal_id(self) -> str:
        return self.session.terminal_id

    def __repr__(self) -> str:
        return f"PlatformClient({self.session.transport.base_url!r}, terminal={self.terminal_id})"

    # -- the Platform port ---------------------------------------------------------------------

    def issuers(self) -> list[Issuer]:
        """The ID-issuers (libraries) this terminal serves, with their card-number rules."""
        return terminal.issuers(self.session)

    def challenge(self, purpose: str = "lookup") -> Challenge:
        """A fresh single-use nonce for this terminal and ``purpose``."""
        return cards.challenge(self.session, purpose)

    def lookup(self, proof: CardProof) -> list[LookupMatch]:
        """The library card numbers linked to the card, for the issuers this terminal serves.

        An empty list means the card is genuine but not linked here. Never carries the MyKey ID.
        """
        return cards.lookup(self.session, proof)

    def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None:
        """Deliver one outbox event; ``key`` makes a repeat delivery harmless."""
        terminal.send_event(self.session, key, kind, fields)

    def status(self) -> DeviceStatus:
        """One ``kioskctl doctor`` line (see :func:`sync.terminal.status`). Never raises."""
        return terminal.status(self.session)

    # -- staff flows and setup (issue 5): service IDs, terminal registration ------------------

    def register_service_id(
        self, proof: CardProof, issuer_id: str, card_number: str, *, address_notice: bool
    ) -> RegisteredServiceId:
        """Link ``card_number`` at ``issuer_id`` to the card that made ``proof``."""
        return service_ids.register(
            self.session, proof, issuer_id, card_number, address_notice=address_notice
        )

    def delete_service_id(self, proof: CardProof, issuer_id: str) -> None:
        """Remove the card's registration at ``issuer_id``."""
        service_ids.delete(self.session, proof, issuer_id)

    def register_terminal(self, details: Mapping[str, str], key: str) -> str:
        """Form 10 (see :func:`sync.terminal.register`): "registered", "re-registered" or
        "updated"; RegistrationInvalid lists every problem at once."""
        return terminal.register(self.session, details, key)

    def close(self) -> None:
        self.session.transport.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _as_service_ids(client: PlatformClient) -> ServiceIds:
    """Never called: mypy checks here that the client satisfies the staff port."""
    return client

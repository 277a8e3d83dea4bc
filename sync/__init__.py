"""The kiosk's side of the platform: HTTP client, local store and outbox, board fingerprint.

``sync`` implements two of the core's ports (``appliance.ports``): :class:`sync.client.
PlatformClient` is the ``Platform`` (httpx), :class:`sync.store.LocalStore` the ``Outbox``
(SQLite through sqlite-utils). It never imports ``server``: the contract is the platform's
OpenAPI document, and a test checks the client's requests and parsing against it.

Every failure leaves this package as an ``appliance.errors.SyncError`` subclass; httpx and
sqlite exceptions are translated at the boundary (``raise PlatformUnreachable(...) from exc``).
Nothing here logs a card number, certificate, PIN or request body.
"""

"""The reference MyKey Platform: what the kiosk's ``sync/`` package talks to over HTTP.

The real platform's API is not public, so this package defines ours (``/v1``, published as OpenAPI
at ``/openapi.json``) and implements it for real: FastAPI on loopback, SQLite, X.509 chain and RSA
signature checks. ``server/`` and ``sync/`` never import each other; the OpenAPI document is the
contract between them.

Modules: :mod:`server.db` (schema and migrations), :mod:`server.registry` (writes that set the
platform up: CAs, issuers, terminals, citizens), :mod:`server.verify` (card proof checks),
:mod:`server.models` (the wire format), :mod:`server.app` (the routes), :mod:`server.demo` (demo
data matching the virtual cards), :mod:`server.cli` (``mykey-platform``).
"""

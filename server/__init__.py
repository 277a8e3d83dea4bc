"""The reference MyKey Platform: what the kiosk's ``sync/`` package talks to over HTTP.

The real platform's API is not public, so this package defines ours (``/v1``, published as OpenAPI
at ``/openapi.json``) and implements it for real: FastAPI on loopback, SQLite or PostgreSQL,
X.509 chain and RSA signature checks. ``server/`` and ``sync/`` never import each other; the
OpenAPI document is the contract between them.

Modules: :mod:`server.db` (schema, migrations, connection pools), :mod:`server.dbapi` (what
the server needs of a connection), :mod:`server.pg` and :mod:`server.pg_schema` (PostgreSQL),
:mod:`server.registry`
(writes that set the platform up: CAs, CRLs, issuers, terminals, citizens, successor records),
:mod:`server.formii` (the ministry's terminal list), :mod:`server.enrolment` (terminal
registration, contact confirmation), :mod:`server.ratelimit` (failed sign-ins),
:mod:`server.verify` (card proof checks, revocation), :mod:`server.mykey` (MyKey ID rules,
certificate renewal), :mod:`server.cardrules` (card-number rules), :mod:`server.models` (the
wire format), :mod:`server.api` (what the routes share), :mod:`server.routes_terminals` and
:mod:`server.routes_cards` (the routes), :mod:`server.app` (assembly), :mod:`server.demo` (demo
data matching the virtual cards), :mod:`server.cli` (``mykey-platform``).
"""

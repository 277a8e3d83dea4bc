"""SIP2 gateway: same-day token labels that the library system really enforces.

The pure rules live in :mod:`appliance.sip2` (messages, routing) and :mod:`appliance.daytokens`
(tokens); this package does the IO: the asyncio TCP gateway (:mod:`.gateway`), the encrypted token
store shared with the kiosk (:mod:`.store`) and the ``kioskctl sip2-gateway`` command (:mod:`.cli`).
"""

from drivers.sip2.gateway import GatewayConfig, Sip2Gateway
from drivers.sip2.status import device_status, read_status_file
from drivers.sip2.store import TokenStore, create_device_secret, secret_problems

__all__ = [
    "GatewayConfig",
    "Sip2Gateway",
    "TokenStore",
    "create_device_secret",
    "device_status",
    "read_status_file",
    "secret_problems",
]

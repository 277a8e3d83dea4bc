"""The kiosk's pure core: values, rules, ports and use-case flows.

Nothing here touches a device, a socket, a file or a screen: the adapters in ``drivers/`` and
``sync/`` do, behind the Protocols in :mod:`appliance.ports`. That keeps every rule testable with
the shipped fakes and lets the same flow drive the Textual UI, ``kioskctl`` and the image's smoke
test.
"""

"""A virtual My Number Card (JPKI AP only), its test PKI, and the ways to plug it in.

The same card logic serves the in-process fake (unit tests, ``make run`` without pcscd) and the
vpcd bridge that plugs it into the real PC/SC stack (integration tests).
"""

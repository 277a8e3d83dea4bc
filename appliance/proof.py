"""What the card signs, and how: the challenge digest and its DER DigestInfo.

The card adds PKCS#1 v1.5 padding but does not hash (JPKI.md), so the kiosk hashes the challenge
and wraps it in a SHA-256 DigestInfo. Binding terminal ID and purpose into the digest stops a
signature made at one terminal, or for registration, being replayed as a lookup elsewhere.
"""

from __future__ import annotations

import hashlib

from appliance.values import Challenge

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def challenge_digest(challenge: Challenge) -> bytes:
    """SHA-256(nonce || terminal ID || purpose): the value the platform recomputes."""
    h = hashlib.sha256()
    h.update(challenge.nonce)
    h.update(challenge.terminal_id.encode("ascii"))
    h.update(challenge.purpose.encode("ascii"))
    return h.digest()


def digest_info(digest: bytes) -> bytes:
    """The 51-byte DER DigestInfo the card's sign command takes."""
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")
    return SHA256_DIGEST_INFO_PREFIX + digest

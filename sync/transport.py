"""One HTTP request to the platform, retried only where that is safe, errors translated.

This is the bottom of the client (:mod:`sync.client`): it owns the ``httpx.Client`` (base URL,
timeout, TLS verification) and is the one place where httpx exceptions become
:class:`appliance.errors.SyncError` subclasses, so nothing from httpx escapes (STYLE.md 3).

Retries (STYLE.md 10) are bounded (:class:`RetryPolicy`: a few attempts, capped waits, a total
time limit, through ``stamina``) and only on *named* transient failures, never on a 4xx:

=========================================  ============================================
failure                                    retried for
=========================================  ============================================
connection refused / connect timeout        every call (the request never left the kiosk)
HTTP 502 / 503 / 504                        every call except a lookup
read timeout, connection cut mid-answer     every call except a lookup
=========================================  ============================================

A lookup spends a single-use nonce: once the request may have reached the platform, repeating it
can only earn ``challenge.invalid``, and the patron is standing there; it is retried only when
it surely never left. Every other call is harmless to repeat (a new nonce, a new token, the
issuer list, an event with its idempotency key). Tests switch retries off with
``stamina.set_testing`` (tests/conftest.py), or keep them with zero waits where they test them.

A TLS failure (the platform's certificate does not chain to the configured CA, or names another
host) is :class:`appliance.errors.PlatformCertificateRejected` and never retried: waiting does
not change a certificate, and the technician must see that it is not an outage.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

from appliance.errors import MalformedReply, PlatformCertificateRejected, PlatformUnreachable

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({502, 503, 504})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_CUT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
        httpx.RemoteProtocolError)  # fmt: skip
_NOT_REPEATABLE = frozenset({"/v1/lookups"})  # a lookup's nonce is single-use


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it is ``PlatformUnreachable``. The defaults keep a waiting
    patron's worst case near 8 s; ``attempts=1`` switches retries off."""

    attempts: int = 3
    wait_initial_s: float = 0.3  # first wait; doubles each time, with jitter
    wait_max_s: float = 2.0  # no single wait is longer
    timeout_s: float = 8.0  # all attempts and waits of one call together


DEFAULT_RETRY = RetryPolicy()  # frozen: one default shared on purpose


class _Transient(PlatformUnreachable):
    """A failure worth one more attempt; what is left of it after the last is the caller's
    PlatformUnreachable. Only this type is retried: stamina has no catch-all default."""


class Transport:
    """The kiosk's HTTP connection to one platform. Thread-safe (httpx.Client is)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        """``verify`` is the context that checks the platform's certificate (see
        :func:`sync.tls.platform_verify`); ``None`` means the system trust store (made only
        for an https:// URL: loading it costs milliseconds that a loopback test need not pay)."""
        self._retry = retry
        if verify is None and base_url.startswith("https://"):
            verify = ssl.create_default_context()
        try:
            self._http = httpx.Client(
                base_url=base_url,
                timeout=timeout,
                transport=transport,
                headers={"User-Agent": "mykey-kiosk"},
                verify=verify if verify is not None else True,
            )
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise PlatformUnreachable(f"invalid platform URL: {exc}") from exc

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, retried per :class:`RetryPolicy` on transient failures only."""
        repeatable = path not in _NOT_REPEATABLE
        policy = self._retry
        try:
            for attempt in stamina.retry_context(
                on=_Transient,
                attempts=policy.attempts,
                timeout=policy.timeout_s,
                wait_initial=policy.wait_initial_s,
                wait_max=policy.wait_max_s,
            ):
                with attempt:
                    response = self._once(method, path, json, headers, repeatable)
        except _Transient as exc:  # the retries are spent: the caller's plain error
            raise PlatformUnreachable(exc.detail) from exc.__cause__
        return response

    def close(self) -> None:
        self._http.close()

    def _once(
        self,
        method: str,
        path: str,
        json: Any,
        headers: Mapping[str, str] | None,
        repeatable: bool,
    ) -> httpx.Response:
        where = f"{method} {path}"
        try:
            response = self._http.request(method, path, json=json, headers=headers)
        except httpx.ConnectError as exc:
            if _tls_failure(exc):
                raise PlatformCertificateRejected(f"{where}: {exc}") from exc
            raise _Transient(f"{where}: {type(exc).__name__}: {exc}") from exc
        except _NOT_SENT as exc:
            raise _Transient(f"{where}: {type(exc).__name__}: {exc}") from exc
        except _CUT as exc:
            error = _Transient if repeatable else PlatformUnreachable
            raise error(f"{where}: {type(exc).__name__}: {exc}") from exc
        except httpx.TransportError as exc:
            raise PlatformUnreachable(f"{where}: {type(exc).__name__}: {exc}") from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise MalformedReply(f"{where}: {type(exc).__name__}") from exc
        log.debug("%s -> %d", where, response.status_code)
        if repeatable and response.status_code in TRANSIENT_STATUS:
            raise _Transient(f"{where}: HTTP {response.status_code}")
        return response


def _tls_failure(exc: httpx.ConnectError) -> bool:
    """httpx reports a failed handshake as a ConnectError; its cause is the ssl error."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):  # SSLCertVerificationError is one
            return True
        cause = cause.__cause__ or cause.__context__
    return False

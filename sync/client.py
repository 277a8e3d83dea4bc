"""The platform client: ``appliance.ports.Platform`` over HTTP (httpx).

It signs in lazily on the first call that needs a session, and signs in again **once** when the
platform answers 401 ``session.invalid`` (expired token, platform restarted).

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

How answers become errors (all :class:`appliance.errors.SyncError` subclasses)::

    connect error, timeout, broken connection     PlatformUnreachable
    HTTP 502 / 503 / 504                          PlatformUnreachable (a proxy in front, or restart)
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

import base64
import hashlib
import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NoReturn

import httpx
import stamina

from appliance.errors import (
    CardRejected,
    MalformedReply,
    PlatformUnreachable,
    RegistrationInvalid,
    ServiceIdRefused,
    SyncError,
    TerminalRejected,
)
from appliance.ports import DeviceState, DeviceStatus, RegisteredServiceId, ServiceIds
from appliance.values import CardProof, Challenge, Issuer, LookupMatch
from sync import _wire

log = logging.getLogger(__name__)

_TRANSIENT_STATUS = frozenset({502, 503, 504})
_BEARER = re.compile(r"[A-Za-z0-9._~+/-]{1,512}=*")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_CUT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
        httpx.RemoteProtocolError)  # fmt: skip


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it is ``PlatformUnreachable``. The defaults keep a waiting
    patron's worst case near 8 s; ``attempts=1`` switches retries off."""

    attempts: int = 3
    wait_initial_s: float = 0.3  # first wait; doubles each time, with jitter
    wait_max_s: float = 2.0  # no single wait is longer
    timeout_s: float = 8.0  # all attempts and waits of one call together


class _Transient(PlatformUnreachable):
    """A failure worth one more attempt; what is left of it after the last is the caller's
    PlatformUnreachable. Only this type is retried: stamina has no catch-all default."""


class ChallengeRefused(SyncError):
    """The platform no longer accepts the challenge: expired (120 s) or already used.

    Usually the patron took long over the PIN; the remedy is a fresh tap. It shares the
    "try again" message until the catalogue has a dedicated one.
    """

    key = "error.platform.down"


class PlatformClient:
    """The kiosk's terminal-authenticated connection to the MyKey Platform.

    ``fingerprint`` is :func:`sync.fingerprint.board_fingerprint` on a real kiosk. ``transport``
    lets tests put an ``httpx.MockTransport`` in place of the network. Thread-safe: the UI's
    workers and the outbox flusher may share one client.
    """

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        password: str,
        fingerprint: str,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),  # frozen: one default shared on purpose
    ) -> None:
        self.terminal_id = terminal_id
        self._retry = retry
        self._password = password
        self._fingerprint = fingerprint
        self._token: str | None = None
        self._lock = threading.Lock()
        try:
            self._http = httpx.Client(
                base_url=base_url,
                timeout=timeout,
                transport=transport,
                headers={"User-Agent": "mykey-kiosk"},
            )
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise PlatformUnreachable(f"invalid platform URL: {exc}") from exc

    def __repr__(self) -> str:
        return f"PlatformClient({str(self._http.base_url)!r}, terminal={self.terminal_id})"

    # -- the Platform port ---------------------------------------------------------------------

    def issuers(self) -> list[Issuer]:
        """The ID-issuers (libraries) this terminal serves, with their card-number rules."""
        body = self._expect(self._authed("GET", "/v1/issuers"), 200)
        return [_wire.issuer(obj) for obj in _wire.field(body, "issuers", list)]

    def challenge(self, purpose: str = "lookup") -> Challenge:
        """A fresh single-use nonce for this terminal and ``purpose``."""
        body = self._expect(self._authed("POST", "/v1/challenges", json={"purpose": purpose}), 200)
        nonce = _wire.b64_field(body, "nonce")
        if len(nonce) < 16:
            raise MalformedReply("field 'nonce': shorter than 16 bytes")
        return Challenge(nonce=nonce, terminal_id=self.terminal_id, purpose=purpose)

    def lookup(self, proof: CardProof) -> list[LookupMatch]:
        """The library card numbers linked to the card, for the issuers this terminal serves.

        An empty list means the card is genuine but not linked here. Never carries the MyKey ID.
        """
        payload = {
            "nonce": _b64(proof.nonce),
            "certificate": _b64(proof.certificate),
        }
        if proof.signature:  # empty: a certificate-only proof (an issuer's PIN-less policy)
            payload["signature"] = _b64(proof.signature)
        body = self._expect(self._authed("POST", "/v1/lookups", json=payload), 200)
        matches = [_wire.match(obj) for obj in _wire.field(body, "matches", list)]
        log.info("lookup: %d match(es)", len(matches))
        return matches

    def send_event(self, key: str, kind: str, fields: Mapping[str, str | int]) -> None:
        """Deliver one outbox event; ``key`` makes a repeat delivery harmless."""
        response = self._authed(
            "POST",
            "/v1/events",
            json={"kind": kind, "fields": dict(fields)},
            headers={"Idempotency-Key": key},
        )
        body = self._expect(response, 200, 201)
        if body.get("accepted") is not True:
            raise MalformedReply("field 'accepted': expected true")

    def status(self) -> DeviceStatus:
        """One ``kioskctl doctor`` line: reachable, accepts this terminal, serves a library?

        Goes through a real authenticated call (the issuer list), so an expired or revoked
        session shows here rather than at the next patron's tap. Never raises.
        """
        try:
            body = self._expect(self._send("GET", "/v1/health"), 200)
            if body.get("status") != "ok":
                raise MalformedReply("health: status is not ok")
            served = [issuer.issuer_id for issuer in self.issuers()]
        except (PlatformUnreachable, TerminalRejected) as exc:
            return DeviceStatus("platform", DeviceState.FAULT, f"{exc.key}: {exc.detail}")
        except SyncError as exc:
            return DeviceStatus("platform", DeviceState.WARNING, f"{exc.key}: {exc.detail}")
        where = f"{self._http.base_url} reachable; terminal {self.terminal_id} signed in"
        if not served:
            return DeviceStatus("platform", DeviceState.WARNING, f"{where}; serves no library")
        return DeviceStatus("platform", DeviceState.OK, f"{where}; serves {', '.join(served)}")

    # -- staff flows and setup (issue 5): service IDs, terminal registration ------------------

    def register_service_id(
        self, proof: CardProof, issuer_id: str, card_number: str, *, address_notice: bool
    ) -> RegisteredServiceId:
        """Link ``card_number`` at ``issuer_id`` to the card that made ``proof`` (a challenge
        of purpose ``register``). Raises ServiceIdRefused with the platform's reason."""
        payload = {
            **_proof_fields(proof),
            "issuer_id": issuer_id,
            "card_number": card_number,
            "address_notice": address_notice,
        }
        response = self._authed(
            "POST", "/v1/service-ids", json=payload, headers={"Idempotency-Key": _key(payload)}
        )
        if response.status_code != 201:
            self._refuse_service_id(response)
        body = _wire.json_object(response)
        issuer = _wire.issuer(body.get("issuer"))
        return RegisteredServiceId(
            issuer_id=issuer.issuer_id,
            card_number=_wire.field(body, "card_number", str),
            address_notice=_wire.field(body, "address_notice", bool),
        )

    def delete_service_id(self, proof: CardProof, issuer_id: str) -> None:
        """Remove the card's registration at ``issuer_id`` (a challenge of purpose
        ``unregister``). Raises ServiceIdRefused ``service_id.unknown`` if there is none."""
        payload = {**_proof_fields(proof), "issuer_id": issuer_id}
        response = self._authed(
            "POST",
            "/v1/service-ids/deletions",
            json=payload,
            headers={"Idempotency-Key": _key(payload)},
        )
        if response.status_code != 200:
            self._refuse_service_id(response)
        if _wire.json_object(response).get("deleted") is not True:
            raise MalformedReply("field 'deleted': expected true")

    def register_terminal(self, details: Mapping[str, str], key: str) -> str:
        """Form 10: bind this board to the terminal with ``details`` (place, name, issuer_id,
        person, postal_code, address, phone, email, email_again). Returns "registered",
        "re-registered" or "updated"; RegistrationInvalid lists every problem at once.
        ``key`` (8-64 of A-Z a-z 0-9 _ -) makes a repeated submission of the same form harmless.
        """
        payload = {
            **details,
            "terminal_id": self.terminal_id,
            "password": self._password,
            "fingerprint": self._fingerprint,
        }
        response = self._send(
            "POST", "/v1/terminal-registrations", json=payload, headers={"Idempotency-Key": key}
        )
        code = _wire.error_code(response)
        if response.status_code == 400 and code == "registration.invalid":
            found: dict[str, list[str]] = {}
            for problem in _wire.field(_wire.json_object(response), "problems", list):
                if not isinstance(problem, dict):
                    raise MalformedReply("problems: expected objects")
                found.setdefault(_wire.field(problem, "field", str), []).append(
                    _wire.field(problem, "code", str)
                )
            raise RegistrationInvalid(found)
        if response.status_code in (401, 429) and code in (
            "terminal.credentials",
            "signin.throttled",
        ):
            raise TerminalRejected(f"terminal {self.terminal_id}: registration refused ({code})")
        status = _wire.field(self._expect(response, 200), "status", str)
        if status not in ("registered", "re-registered", "updated"):
            raise MalformedReply("field 'status': unknown value")
        with self._lock:
            self._token = None  # a re-registration ended any session of this terminal
        return status

    def _refuse_service_id(self, response: httpx.Response) -> NoReturn:
        code = _wire.error_code(response)
        if code in ServiceIdRefused.KEYS:
            problems = _wire.json_object(response).get("problems", [])
            listed = problems if isinstance(problems, list) else []
            codes = [
                p["code"] for p in listed if isinstance(p, dict) and isinstance(p.get("code"), str)
            ]
            raise ServiceIdRefused(code, f"HTTP {response.status_code} {code}", codes)
        self._refuse(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, retried per :class:`RetryPolicy` on transient failures only."""
        repeatable = path != "/v1/lookups"  # a lookup's nonce is single-use
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
                    response = self._send_once(method, path, json, headers, repeatable)
        except _Transient as exc:  # the retries are spent: the caller's plain error
            raise PlatformUnreachable(exc.detail) from exc.__cause__
        return response

    def _send_once(
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
        if repeatable and response.status_code in _TRANSIENT_STATUS:
            raise _Transient(f"{where}: HTTP {response.status_code}")
        return response

    def _session(self) -> str:
        with self._lock:
            if self._token is None:
                self._token = self._sign_in()
            return self._token

    def _sign_in(self) -> str:
        response = self._send(
            "POST",
            "/v1/sessions",
            json={
                "terminal_id": self.terminal_id,
                "password": self._password,
                "fingerprint": self._fingerprint,
            },
        )
        code = _wire.error_code(response)
        if response.status_code == 401 and code == "terminal.credentials":
            raise TerminalRejected(f"terminal {self.terminal_id}: ID or password refused")
        if response.status_code == 409 and code == "terminal.fingerprint":
            raise TerminalRejected(
                f"terminal {self.terminal_id} is bound to another board: register again"
            )
        if response.status_code == 403 and code == "terminal.unregistered":
            raise TerminalRejected(f"terminal {self.terminal_id} is not registered yet")
        if response.status_code == 429 and code == "signin.throttled":
            wait = response.headers.get("Retry-After", "")
            throttled = TerminalRejected(
                f"terminal {self.terminal_id}: too many failed sign-ins",
                retry_after=int(wait) if wait.isdigit() else 0,
            )
            throttled.key = "error.platform.throttled"
            raise throttled
        body = self._expect(response, 200)
        token = _wire.field(body, "token", str)
        if not _BEARER.fullmatch(token):  # it goes into a header: ASCII b64token only
            raise MalformedReply("field 'token': not a bearer token (RFC 6750)")
        log.info("terminal %s signed in", self.terminal_id)
        return token

    def _authed(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with the session token; on 401 session.invalid sign in again, once."""
        for attempt in (1, 2):
            token = self._session()
            response = self._send(
                method,
                path,
                json=json,
                headers={**(headers or {}), "Authorization": f"Bearer {token}"},
            )
            if response.status_code != 401 or _wire.error_code(response) != "session.invalid":
                return response
            with self._lock:
                if self._token == token:
                    self._token = None
            log.info("session refused (attempt %d); signing in again", attempt)
        raise TerminalRejected(f"{method} {path}: session refused right after signing in")

    def _expect(self, response: httpx.Response, *ok: int) -> dict[str, Any]:
        """The JSON object of a successful answer, or the SyncError its status means."""
        if response.status_code in ok:
            return _wire.json_object(response)
        self._refuse(response)

    def _refuse(self, response: httpx.Response) -> NoReturn:
        status, code = response.status_code, _wire.error_code(response)
        where = f"{response.request.method} {response.request.url.path}"
        log.warning("%s refused: HTTP %d %s", where, status, code or "-")
        if status == 403 and code in ("card.rejected", "card.pin_required"):
            raise CardRejected(f"{where}: the platform refused the card's proof")
        if status == 400 and code == "challenge.invalid":
            raise ChallengeRefused(f"{where}: challenge unknown, used or expired")
        if status in _TRANSIENT_STATUS:
            raise PlatformUnreachable(f"{where}: HTTP {status}")
        raise MalformedReply(f"{where}: unexpected HTTP {status} {code}".rstrip())


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _as_service_ids(client: PlatformClient) -> ServiceIds:
    """Never called: mypy checks here that the client satisfies the staff port."""
    return client


def _proof_fields(proof: CardProof) -> dict[str, str]:
    return {
        "nonce": _b64(proof.nonce),
        "certificate": _b64(proof.certificate),
        "signature": _b64(proof.signature),
    }


def _key(payload: Mapping[str, object]) -> str:
    """The idempotency key of a proof-carrying write: a digest of the whole request, which
    holds the challenge. A retry of the same call replays; the same proof with a corrected
    card number is a new request (and a spent challenge then says "tap again")."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "p-" + hashlib.sha256(canonical.encode()).hexdigest()[:40]

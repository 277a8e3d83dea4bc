"""The terminal's session with the platform, and what a refused answer means.

Every call module (:mod:`sync.cards`, :mod:`sync.service_ids`, :mod:`sync.terminal`,
:mod:`sync.offline`) goes through one :class:`PlatformSession`: it signs in lazily on the first
call that needs a session and signs in again **once** when the platform answers 401
``session.invalid`` (expired token, platform restarted). :meth:`PlatformSession.expect` and
:meth:`PlatformSession.refuse` are the one translation of HTTP statuses into
:class:`appliance.errors.SyncError` subclasses, so that the call modules only add the refusals
that are their own (a service ID taken, a registration form's problems).

A session without a password (a kiosk that is not enrolled yet) never sends one: the first call
that needs a session is :class:`appliance.errors.SetupNeeded`, the setup wizard's cue.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any, NoReturn

import httpx

from appliance.errors import (
    CardRejected,
    MalformedReply,
    PlatformUnreachable,
    SetupNeeded,
    SyncError,
    TerminalRejected,
)
from sync import _wire
from sync.transport import TRANSIENT_STATUS, Transport

log = logging.getLogger(__name__)

_BEARER = re.compile(r"[A-Za-z0-9._~+/-]{1,512}=*")


class ChallengeRefused(SyncError):
    """The platform no longer accepts the challenge: expired (120 s) or already used.

    Usually the patron took long over the PIN; the remedy is a fresh tap. It shares the
    "try again" message until the catalogue has a dedicated one.
    """

    key = "error.platform.down"


class PlatformSession:
    """Terminal ID + password + board fingerprint -> a bearer token, renewed when refused.

    Thread-safe: the UI's workers and the outbox flusher may share one session.
    """

    def __init__(
        self, transport: Transport, terminal_id: str, password: str, fingerprint: str
    ) -> None:
        self.transport = transport
        self.terminal_id = terminal_id
        self._password = password
        self._fingerprint = fingerprint
        self._token: str | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PlatformSession({self.transport.base_url!r}, terminal={self.terminal_id})"

    def credentials(self) -> dict[str, str]:
        """What a sign-in and a terminal registration send: ID, password and fingerprint."""
        return {
            "terminal_id": self.terminal_id,
            "password": self._password,
            "fingerprint": self._fingerprint,
        }

    def use_credentials(self, terminal_id: str, password: str) -> None:
        """Sign in with these from the next call on (the wizard has just enrolled them)."""
        with self._lock:
            self.terminal_id, self._password, self._token = terminal_id, password, None

    def forget_token(self) -> None:
        """The next call signs in again (a re-registration ended this terminal's sessions)."""
        with self._lock:
            self._token = None

    def token(self) -> str:
        """The current bearer token, signing in first if there is none."""
        with self._lock:
            if self._token is None:
                self._token = self._sign_in()
            return self._token

    def authed(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send with the session token; on 401 session.invalid sign in again, once."""
        for attempt in (1, 2):
            token = self.token()
            response = self.transport.request(
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

    def expect(self, response: httpx.Response, *ok: int) -> dict[str, Any]:
        """The JSON object of a successful answer, or the SyncError its status means."""
        if response.status_code in ok:
            return _wire.json_object(response)
        self.refuse(response)

    def refuse(self, response: httpx.Response) -> NoReturn:
        """Raise what an unsuccessful answer means for any call (see :mod:`sync.client`)."""
        status, code = response.status_code, _wire.error_code(response)
        where = f"{response.request.method} {response.request.url.path}"
        log.warning("%s refused: HTTP %d %s", where, status, code or "-")
        if status == 403 and code in ("card.rejected", "card.pin_required"):
            raise CardRejected(f"{where}: the platform refused the card's proof")
        if status == 400 and code == "challenge.invalid":
            raise ChallengeRefused(f"{where}: challenge unknown, used or expired")
        if status in TRANSIENT_STATUS:
            raise PlatformUnreachable(f"{where}: HTTP {status}")
        raise MalformedReply(f"{where}: unexpected HTTP {status} {code}".rstrip())

    def refuse_terminal(self, response: httpx.Response, doing: str) -> None:
        """Raise TerminalRejected if the platform refused this terminal's ID or password
        (or throttled it), for a sign-in and for a registration alike."""
        code, tid = _wire.error_code(response), self.terminal_id
        if response.status_code == 401 and code == "terminal.credentials":
            raise TerminalRejected(f"terminal {tid}: {doing}: ID or password refused")
        if response.status_code == 429 and code == "signin.throttled":
            wait = response.headers.get("Retry-After", "")
            throttled = TerminalRejected(
                f"terminal {tid}: {doing}: too many failed sign-ins",
                retry_after=int(wait) if wait.isdigit() else 0,
            )
            throttled.key = "error.platform.throttled"
            raise throttled

    def _sign_in(self) -> str:
        if not self._password:
            raise SetupNeeded(f"terminal {self.terminal_id}: not enrolled, no password to sign in")
        response = self.transport.request("POST", "/v1/sessions", json=self.credentials())
        self.refuse_terminal(response, "sign-in")
        code = _wire.error_code(response)
        if response.status_code == 409 and code == "terminal.fingerprint":
            raise TerminalRejected(
                f"terminal {self.terminal_id} is bound to another board: register again"
            )
        if response.status_code == 403 and code == "terminal.unregistered":
            raise TerminalRejected(f"terminal {self.terminal_id} is not registered yet")
        body = self.expect(response, 200)
        token = _wire.field(body, "token", str)
        if not _BEARER.fullmatch(token):  # it goes into a header: ASCII b64token only
            raise MalformedReply("field 'token': not a bearer token (RFC 6750)")
        log.info("terminal %s signed in", self.terminal_id)
        return token

"""The terminal's own calls: its issuers, its outbox events, its health line, its registration.

None of these carries anything about a patron; they are what the outbox flusher, ``kioskctl
doctor`` and the setup wizard use. Registration (form 10) is the one call that goes out without a
session: it is how a terminal earns the right to sign in.
"""

from __future__ import annotations

from collections.abc import Mapping

from appliance.errors import (
    MalformedReply,
    PlatformUnreachable,
    RegistrationInvalid,
    SyncError,
    TerminalRejected,
)
from appliance.ports import DeviceState, DeviceStatus
from appliance.values import Issuer
from sync import _wire
from sync.session import PlatformSession

REGISTRATION_STATUSES = ("registered", "re-registered", "updated")


def issuers(session: PlatformSession) -> list[Issuer]:
    """The ID-issuers (libraries) this terminal serves, with their card-number rules."""
    body = session.expect(session.authed("GET", "/v1/issuers"), 200)
    return [_wire.issuer(obj) for obj in _wire.field(body, "issuers", list)]


def send_event(
    session: PlatformSession, key: str, kind: str, fields: Mapping[str, str | int]
) -> None:
    """Deliver one outbox event; ``key`` makes a repeat delivery harmless."""
    response = session.authed(
        "POST",
        "/v1/events",
        json={"kind": kind, "fields": dict(fields)},
        headers={"Idempotency-Key": key},
    )
    if session.expect(response, 200, 201).get("accepted") is not True:
        raise MalformedReply("field 'accepted': expected true")


def status(session: PlatformSession) -> DeviceStatus:
    """One ``kioskctl doctor`` line: reachable, accepts this terminal, serves a library?

    Goes through a real authenticated call (the issuer list), so an expired or revoked session
    shows here rather than at the next patron's tap. Never raises.
    """
    try:
        body = session.expect(session.transport.request("GET", "/v1/health"), 200)
        if body.get("status") != "ok":
            raise MalformedReply("health: status is not ok")
        served = [issuer.issuer_id for issuer in issuers(session)]
    except (PlatformUnreachable, TerminalRejected) as exc:
        return DeviceStatus("platform", DeviceState.FAULT, f"{exc.key}: {exc.detail}")
    except SyncError as exc:
        return DeviceStatus("platform", DeviceState.WARNING, f"{exc.key}: {exc.detail}")
    where = f"{session.transport.base_url} reachable; terminal {session.terminal_id} signed in"
    if not served:
        return DeviceStatus("platform", DeviceState.WARNING, f"{where}; serves no library")
    return DeviceStatus("platform", DeviceState.OK, f"{where}; serves {', '.join(served)}")


def register(session: PlatformSession, details: Mapping[str, str], key: str) -> str:
    """Form 10: bind this board to the terminal with ``details`` (place, name, issuer_id,
    person, postal_code, address, phone, email, email_again). Returns "registered",
    "re-registered" or "updated"; RegistrationInvalid lists every problem at once.
    ``key`` (8-64 of A-Z a-z 0-9 _ -) makes a repeated submission of the same form harmless.
    """
    payload = {**details, **session.credentials()}
    response = session.transport.request(
        "POST", "/v1/terminal-registrations", json=payload, headers={"Idempotency-Key": key}
    )
    if response.status_code == 400 and _wire.error_code(response) == "registration.invalid":
        found: dict[str, list[str]] = {}
        for problem in _wire.field(_wire.json_object(response), "problems", list):
            if not isinstance(problem, dict):
                raise MalformedReply("problems: expected objects")
            found.setdefault(_wire.field(problem, "field", str), []).append(
                _wire.field(problem, "code", str)
            )
        raise RegistrationInvalid(found)
    session.refuse_terminal(response, "registration")
    registered = _wire.field(session.expect(response, 200), "status", str)
    if registered not in REGISTRATION_STATUSES:
        raise MalformedReply("field 'status': unknown value")
    session.forget_token()  # a re-registration ended any session of this terminal
    return registered

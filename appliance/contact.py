"""A terminal's registration details (form II credentials + the contact form), checked at once.

Pure rules shared by the setup wizard on the kiosk and the platform's own check of the same form,
so both agree on what "a valid postal code" is. Every problem is returned together, one per field,
as a message key (STYLE.md 5-6): the wizard shows each one under its field.

Input is normalised with NFKC first: a technician on a Japanese keyboard may type full-width
digits (``２１３－０００１``) or a full-width at sign, which mean the same thing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields

# Field names, in the order the form shows them (the SEED's registration screen).
REQUIRED = ("place", "name", "postal_code", "address", "phone", "email")
_DASHES = "-‐‑‒–—―−ー"  # what a hyphen looks like after NFKC on a Japanese keyboard
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_URL = re.compile(r"^(https?)://([^/\s:]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?(/\S*)?$")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ContactDetails:
    """The contact form. ``email_again`` must be typed a second time (the wizard refuses paste)."""

    place: str = ""  # installation place (required), e.g. 高津図書館
    name: str = ""  # terminal name (required), e.g. 高津図書館1台目
    issuer_id: str = ""  # ID-issuer for a kind-ア terminal; "" = the platform's default
    person: str = ""  # person in charge (optional)
    postal_code: str = ""  # 7 digits, a hyphen after the third allowed
    address: str = ""
    phone: str = ""  # Japanese number: 10 or 11 digits starting with 0, hyphens allowed
    email: str = ""
    email_again: str = field(default="", repr=False)

    def normalised(self) -> ContactDetails:
        """NFKC, trimmed; postal code and phone reduced to digits when they are well formed."""
        values = {f.name: _clean(getattr(self, f.name)) for f in fields(self)}
        for name in ("postal_code", "phone"):
            stripped = _strip_dashes(values[name])
            if stripped.isascii() and stripped.isdigit():
                values[name] = stripped
        return ContactDetails(**values)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one field: ``key`` is a message key of ``appliance.messages``."""

    field: str
    key: str


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _strip_dashes(text: str) -> str:
    return "".join(ch for ch in text if ch not in _DASHES and ch != " ")


def credential_problems(terminal_id: str, password: str) -> list[Problem]:
    """The form II credentials: an 8-digit terminal ID and a non-empty password."""
    found: list[Problem] = []
    tid = _clean(terminal_id)
    if not tid:
        found.append(Problem("terminal_id", "form.required"))
    elif not (len(tid) == 8 and tid.isascii() and tid.isdigit()):
        found.append(Problem("terminal_id", "form.terminal_id"))
    if not password:
        found.append(Problem("password", "form.required"))
    return found


def contact_problems(details: ContactDetails) -> list[Problem]:
    """Every problem of the contact form at once; an empty list means it can be sent."""
    d = details.normalised()
    found = [Problem(name, "form.required") for name in REQUIRED if not getattr(d, name)]
    missing = {p.field for p in found}
    if "postal_code" not in missing and not (
        len(d.postal_code) == 7 and d.postal_code.isascii() and d.postal_code.isdigit()
    ):
        found.append(Problem("postal_code", "form.postal_code"))
    if "phone" not in missing and not (
        d.phone.isascii() and d.phone.isdigit() and d.phone.startswith("0")
        and len(d.phone) in (10, 11)
    ):  # fmt: skip
        found.append(Problem("phone", "form.phone"))
    if "email" not in missing and not _EMAIL.match(d.email):
        found.append(Problem("email", "form.email"))
    if d.email and d.email_again != d.email:
        found.append(Problem("email_again", "form.email_again"))
    return found


def url_parts(url: str) -> tuple[str, str] | None:
    """``(scheme, host)`` of an http(s) URL of the platform, or None when it is not one."""
    m = _URL.match(url)
    return (m.group(1), m.group(2)) if m else None


def platform_url_problems(url: str) -> list[Problem]:
    """The platform's address, as the wizard takes it (the provisioning file has the same rule).

    https only, except a loopback test platform; a host under ``.invalid`` (RFC 2606) is the
    image's placeholder, left for the technician to replace, never a platform to register with.
    """
    url = _clean(url)
    if not url:
        return [Problem("platform_url", "form.required")]
    parts = url_parts(url)
    if parts is None:
        return [Problem("platform_url", "form.platform_url")]
    scheme, host = parts
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        return [Problem("platform_url", "form.platform_url.https")]
    if host.lower().rstrip(".").endswith(".invalid"):
        return [Problem("platform_url", "form.platform_url.placeholder")]
    return []

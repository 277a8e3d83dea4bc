"""The token store's content: a :class:`TokenBook` as JSON-able data and back.

It holds card numbers, so :mod:`drivers.sip2.store` only ever writes it encrypted. Policies (the
reserved ranges) are kept with the tokens so that the gateway recognises a token of a past day
even when no token was issued today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from appliance.daytokens import DayCounts, DayToken, ServiceHours, TokenBook, TokenPolicy
from appliance.values import CardNumber, issuer_from_record, issuer_record

VERSION = 1


def to_records(book: TokenBook) -> dict[str, Any]:
    return {
        "version": VERSION,
        "policies": [_policy_record(p) for p in book.policies],
        "tokens": [
            {
                "issuer": t.issuer_id,
                "value": t.value,
                "number": t.number.value,
                "issued_at": t.issued_at.isoformat(),
                "valid_until": t.valid_until.isoformat(),
                "used": book.is_used(t),
            }
            for t in book.tokens()
        ],
        "counts": {
            "day": book.counts.day.isoformat(),
            "issued": book.counts.issued,
            "used": book.counts.used,
        },
    }


def from_records(data: Mapping[str, Any], now: dt.datetime) -> TokenBook:
    """A book from :func:`to_records` data, purged as of ``now``.

    Raises ``ValueError``/``KeyError``/``TypeError`` (or a ``KioskError`` for a number or policy
    that fails the issuer's rules) on data that does not have the expected shape.
    """
    if data.get("version") != VERSION:
        raise ValueError("unknown token store version")
    book = TokenBook(_policy_from(p) for p in data.get("policies", []))
    issuers = {p.issuer.issuer_id: p.issuer for p in book.policies}
    for rec in data.get("tokens", []):
        token = DayToken(
            value=str(rec["value"]),
            number=CardNumber(issuers[str(rec["issuer"])], str(rec["number"])),
            issued_at=dt.datetime.fromisoformat(str(rec["issued_at"])),
            valid_until=dt.datetime.fromisoformat(str(rec["valid_until"])),
        )
        book.remember(token, used=bool(rec.get("used")))
    counts = data.get("counts")
    if counts:
        book.counts = DayCounts(
            dt.date.fromisoformat(str(counts["day"])), int(counts["issued"]), int(counts["used"])
        )
    book.purge(now)
    return book


def _policy_record(policy: TokenPolicy) -> dict[str, Any]:
    """The issuer's fields (:func:`~appliance.values.issuer_record`) plus the reserved range and
    hours, in one flat object as version 1 always had them."""
    return {
        **issuer_record(policy.issuer),
        "low": policy.low,
        "high": policy.high,
        "opens": policy.hours.opens.isoformat(),
        "closes": policy.hours.closes.isoformat(),
    }


def _policy_from(rec: Mapping[str, Any]) -> TokenPolicy:
    issuer = issuer_from_record(rec)  # ignores the range and hours keys
    hours = ServiceHours(dt.time.fromisoformat(rec["opens"]), dt.time.fromisoformat(rec["closes"]))
    return TokenPolicy(issuer, str(rec["low"]), str(rec["high"]), hours)

"""Koha's offline circulation file (``.koc``): check it line by line and swap tokens for cards.

The format, as Koha's own reader ``offline_circ/process_koc.pl`` parses it (file version 1.0):

* line 1, the header: tab-separated ``key=value`` pairs, ``Version=1.0\\tGenerator=<tool>\\t
  GeneratorVersion=<v>``; Koha refuses another ``Version``;
* every other line: ``<timestamp>\\t<command>\\t<arguments...>``, where the timestamp is
  ``YYYY-MM-DD HH:MM:SS`` optionally followed by a space and a numeric id (Koha's own offline
  tools write milliseconds there; some write the time as ``HH-MM-SS``), and the arguments are
  ``issue``: cardnumber, item barcode; ``return``: item barcode; ``payment``: cardnumber, amount.
  Trailing empty fields (one tool ends issue lines with a tab) are ignored, as Perl's ``split``
  ignores them.

The bookmobile crew's offline circulation records loans against the provisional *token*; this
module rewrites the cardnumber field of ``issue`` and ``payment`` lines from token to card number,
keeping everything else byte for byte (line endings, header, other patrons' lines). It is pure
(text in, text out): the caller writes the result atomically, or nothing when any line is bad.
Problems name the line and what is wrong with it, never the numbers on it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from appliance.errors import KocError

FILE_VERSION = "1.0"
ARGUMENTS = {
    "issue": ("cardnumber", "barcode"),
    "return": ("barcode",),
    "payment": ("cardnumber", "amount"),
}
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2})[:-](\d{2})[:-](\d{2})(?: \d+)?$")
_AMOUNT = re.compile(r"^-?\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class Rewritten:
    text: str
    replaced: int  # cardnumber fields swapped from a token to a card number
    lines: int  # command lines checked


def rewrite_koc(
    text: str,
    mapping: Mapping[str, str],
    *,
    bare: Callable[[str], str] = lambda value: value,
    is_token: Callable[[str], bool] = lambda value: False,
) -> Rewritten:
    """``text`` with every token in ``mapping`` replaced by its card number.

    ``bare`` strips a Codabar frame the scanner may have kept (the frame is put back around the
    card number); ``is_token`` says whether a bare value lies in a reserved token range, so that a
    token missing from ``mapping`` is a problem rather than a loan against a card that does not
    exist. Raises :class:`KocError` with one problem per bad line; returns nothing half-done.
    """
    lines = text.splitlines(keepends=True)
    problems: list[str] = []
    if not lines:
        raise KocError(["line 1: empty file, expected the header Version=1.0..."])
    problems.extend(_header_problems(lines[0]))
    out = [lines[0]]
    replaced = checked = 0
    for number, raw in enumerate(lines[1:], start=2):
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        if not body.strip():
            out.append(raw)
            continue
        checked += 1
        fields = body.split("\t")  # kept whole, trailing empty fields included
        meaningful = list(fields)
        while len(meaningful) > 2 and meaningful[-1] == "":
            meaningful.pop()
        found = _line_problems(meaningful)
        if found:
            problems.extend(f"line {number}: {p}" for p in found)
        elif fields[1] in ("issue", "payment"):
            card = fields[2]
            token = bare(card)
            if token in mapping:
                start = card.index(token)
                fields[2] = card[:start] + mapping[token] + card[start + len(token) :]
                body = "\t".join(fields)
                replaced += 1
            elif is_token(token):
                problems.append(f"line {number}: provisional token not resolved yet")
        out.append(body + ending)
    if problems:
        raise KocError(problems)
    return Rewritten("".join(out), replaced, checked)


def _header_problems(line: str) -> list[str]:
    pairs = line.rstrip("\r\n").lstrip("\ufeff").split("\t")
    info: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            return ["line 1: the header is tab-separated key=value pairs (Version=1.0...)"]
        info[key] = value
    if info.get("Version") != FILE_VERSION:
        return [f"line 1: file version must be {FILE_VERSION}"]
    return []


def _line_problems(fields: list[str]) -> list[str]:
    if len(fields) < 2:
        return ["expected timestamp, command and arguments separated by tabs"]
    found = []
    match = _TIMESTAMP.match(fields[0])
    if match is None:
        found.append("timestamp is not YYYY-MM-DD HH:MM:SS")
    else:
        try:
            dt.datetime.fromisoformat(f"{match[1]}T{match[2]}:{match[3]}:{match[4]}")
        except ValueError:
            found.append("timestamp is not a real date and time")
    command = fields[1]
    names = ARGUMENTS.get(command)
    if names is None:
        return [*found, "command must be issue, return or payment"]
    args = fields[2:]
    if len(args) != len(names) or any(not a.strip() for a in args):
        found.append(f"{command} takes {', '.join(names)}")
    elif command == "payment" and not _AMOUNT.match(args[1]):
        found.append("payment amount is not a number")
    return found

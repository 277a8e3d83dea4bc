"""Importing the ministry's terminal list ("form II", 様式II) from a municipality's CSV.

Columns, by their header names (order free, extra columns ignored)::

    区分  項番  ID付与事業者名  設置場所  端末名  端末ID  端末パスワード  削除要否
    kind  row   ID-issuer name  place     name    8 digits password       deletion flag

The file may be UTF-8 (with or without BOM) or Shift_JIS (cp932, the usual spreadsheet export);
anything else is refused by name. Every bad row is reported at once, with its line in the file,
its 項番 and what is wrong; if there is any problem, *nothing* is imported. The writes then run
in one transaction, and the password hashes (scrypt, tens of ms each) are computed before it
starts, so a 608-row list does not hold the database's write lock for half a minute.

Importing the same file again changes nothing; a changed row updates its terminal (a new
password replaces the old hash, the board binding stays); a row whose deletion flag is set
(要 / 削除 / 1 / ○) retires its terminal and ends its sessions.
"""

from __future__ import annotations

import csv
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from server.db import hash_password, verify_password
from server.dbapi import Connection, Row

COLUMNS = {
    "区分": "kind",
    "項番": "row_no",
    "ID付与事業者名": "issuer_name",
    "設置場所": "place",
    "端末名": "name",
    "端末ID": "terminal_id",
    "端末パスワード": "password",
    "削除要否": "delete",
}
KINDS = ("ア", "イ", "ウ", "エ")
_DELETE = {"要", "削除", "1", "○", "〇", "◯"}
_KEEP = {"", "否", "不要", "0"}
_FULL_WIDTH_DIGITS = set("０１２３４５６７８９")


class FormError(Exception):
    """The file cannot be imported; ``problems`` holds every reason, one sentence each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class TerminalRow:
    line: int
    kind: str
    row_no: int
    issuer_name: str
    place: str
    name: str
    terminal_id: str
    password: str
    delete: bool


@dataclass
class ImportReport:
    encoding: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unknown_issuers: set[str] = field(default_factory=set)


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was in: UTF-8 first, then cp932."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "shift_jis"
    except UnicodeDecodeError as exc:
        raise FormError(
            [
                "the file is neither UTF-8 nor Shift_JIS (cp932): undecodable bytes at offset"
                f" {exc.start}; save it again as UTF-8 or Shift_JIS CSV"
            ]
        ) from exc


def parse(text: str) -> list[TerminalRow]:
    """Every row, or FormError with every problem of every row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise FormError(["the file is empty"])
    names = [h.strip() for h in header]
    missing = [h for h in COLUMNS if h not in names]
    if missing:
        hint = (
            " (is the file really form II, in UTF-8 or Shift_JIS?)"
            if len(missing) == len(COLUMNS)
            else ""
        )
        raise FormError([f"missing column(s): {', '.join(missing)}{hint}"])
    index = {COLUMNS[h]: names.index(h) for h in COLUMNS}
    rows: list[TerminalRow] = []
    problems: list[str] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(names):
            problems.append(f"line {line}: {len(cells)} fields, the header has {len(names)}")
            continue
        value = {k: cells[i].strip() for k, i in index.items()}
        row, found = _row(line, value)
        label = f"line {line} (項番 {value['row_no'] or '?'})"
        problems += [f"{label}: {p}" for p in found]
        if row is not None:
            rows.append(row)
    if not rows and not problems:
        problems.append("the file has a header but no terminal rows")
    problems += _duplicates(rows)
    if problems:
        raise FormError(problems)
    return rows


def _row(line: int, v: dict[str, str]) -> tuple[TerminalRow | None, list[str]]:
    found: list[str] = []
    if v["kind"] not in KINDS:
        found.append(f"区分 (kind) {v['kind']!r} is not one of {'/'.join(KINDS)}")
    row_no = 0
    if not (v["row_no"].isascii() and v["row_no"].isdigit() and int(v["row_no"]) > 0):
        found.append(f"項番 (row number) {v['row_no']!r} is not a positive number")
    else:
        row_no = int(v["row_no"])
    if v["kind"] == "ア" and not v["issuer_name"]:
        found.append("ID付与事業者名 (ID-issuer) is required for kind ア")
    elif v["kind"] in KINDS[1:] and v["issuer_name"]:
        found.append("ID付与事業者名 (ID-issuer) is only for kind ア")
    for key, label in (("place", "設置場所 (place)"), ("name", "端末名 (terminal name)")):
        if not v[key]:
            found.append(f"{label} is empty")
        elif len(v[key]) > 200:
            found.append(f"{label} is longer than 200 characters")
    tid = v["terminal_id"]
    if not (len(tid) == 8 and tid.isascii() and tid.isdigit()):
        what = "full-width digits" if set(tid) & _FULL_WIDTH_DIGITS else repr(tid)
        found.append(f"端末ID (terminal ID) must be 8 digits 0-9, not {what}")
    password = v["password"]
    if not password:
        found.append("端末パスワード (password) is empty")
    elif not (password.isascii() and password.isprintable() and " " not in password):
        found.append("端末パスワード (password) must be printable ASCII without spaces")
    elif len(password) > 128:
        found.append("端末パスワード (password) is longer than 128 characters")
    if v["delete"] not in _DELETE | _KEEP:
        found.append(f"削除要否 (deletion flag) {v['delete']!r}: leave empty, or 要 to delete")
    if found:
        return None, found
    return TerminalRow(
        line, v["kind"], row_no, v["issuer_name"], v["place"], v["name"], tid, password,
        v["delete"] in _DELETE,
    ), []  # fmt: skip


def _duplicates(rows: list[TerminalRow]) -> list[str]:
    found: list[str] = []
    by_id: dict[str, int] = {}
    by_no: dict[tuple[str, str, int], int] = {}
    for row in rows:
        if row.terminal_id in by_id:
            found.append(
                f"line {row.line}: 端末ID {row.terminal_id} repeats line {by_id[row.terminal_id]}"
            )
        by_id.setdefault(row.terminal_id, row.line)
        number = (row.kind, row.issuer_name, row.row_no)
        if number in by_no:
            found.append(
                f"line {row.line}: 項番 {row.row_no} of {row.kind} {row.issuer_name}".rstrip()
                + f" repeats line {by_no[number]}"
            )
        by_no.setdefault(number, row.line)
    return found


def import_terminals(conn: Connection, data: bytes, *, now: float | None = None) -> ImportReport:
    """Check the whole file, then apply it in one transaction; FormError if anything is wrong."""
    text, encoding = decode(data)
    rows = parse(text)
    now = time.time() if now is None else now
    report = ImportReport(encoding)
    stored = {
        r["terminal_id"]: r
        for r in conn.execute(
            "SELECT terminal_id, password_hash, kind, row_no, issuer_name, place, name,"
            " deleted_at FROM terminals"
        )
    }
    issuers: dict[str, list[str]] = {}
    for r in conn.execute("SELECT issuer_id, name FROM issuers"):
        issuers.setdefault(r["name"], []).append(r["issuer_id"])

    # The slow part (scrypt) before the transaction: new hashes, and which passwords changed.
    def new_hash(row: TerminalRow) -> str | None:
        old = stored.get(row.terminal_id)
        keep = old is not None and verify_password(row.password, old["password_hash"])
        return None if keep or row.delete else hash_password(row.password)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # scrypt frees the GIL
        hashes = dict(zip((r.terminal_id for r in rows), pool.map(new_hash, rows), strict=True))
    conn.execute("BEGIN IMMEDIATE")
    try:
        for row in rows:
            _apply(conn, row, stored.get(row.terminal_id), hashes[row.terminal_id], issuers, now,
                   report)  # fmt: skip
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return report


def _apply(
    conn: Connection,
    row: TerminalRow,
    old: Row | None,
    new_hash: str | None,
    issuers: dict[str, list[str]],
    now: float,
    report: ImportReport,
) -> None:
    tid = row.terminal_id
    if row.delete:
        if old is not None and old["deleted_at"] is None:
            conn.execute("UPDATE terminals SET deleted_at = ? WHERE terminal_id = ?", (now, tid))
            conn.execute("DELETE FROM sessions WHERE terminal_id = ?", (tid,))
            report.deleted.append(tid)
        else:
            report.unchanged.append(tid)
        return
    matches = issuers.get(row.issuer_name, []) if row.kind == "ア" else []
    issuer_id = matches[0] if len(matches) == 1 else None
    if row.kind == "ア" and issuer_id is None:
        report.unknown_issuers.add(row.issuer_name)
    fields = (row.kind, row.row_no, row.issuer_name or None, row.place, row.name)
    if old is None:
        conn.execute(
            "INSERT INTO terminals (terminal_id, password_hash, kind, row_no, issuer_name, place,"
            " name, issuer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tid, new_hash, *fields, issuer_id),
        )
        report.added.append(tid)
        return
    same = (old["kind"], old["row_no"], old["issuer_name"], old["place"], old["name"]) == fields
    if same and new_hash is None and old["deleted_at"] is None:
        report.unchanged.append(tid)
        return
    conn.execute(
        "UPDATE terminals SET kind = ?, row_no = ?, issuer_name = ?, place = ?, name = ?,"
        " issuer_id = coalesce(issuer_id, ?), deleted_at = NULL WHERE terminal_id = ?",
        (*fields, issuer_id, tid),
    )
    if new_hash is not None:
        conn.execute(
            "UPDATE terminals SET password_hash = ? WHERE terminal_id = ?", (new_hash, tid)
        )
    report.updated.append(tid)

"""A small library system (ILS) that speaks SIP2, for the gateway tests and the benchmark.

Written straight from the 3M SIP2 2.00 text and deliberately independent of ``appliance.sip2``:
its own framing, field parsing and checksum. It records every message it receives and notes any
that a strict library system would refuse (``problems``), so a test can prove the gateway never
forwards garbage. ``AB`` = :data:`DROP_ITEM` makes it send half an answer and hang up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import ssl
from dataclasses import dataclass, field

DROP_ITEM = "DROP-MID-MESSAGE"
# Fixed part after the 2-character code, for the requests this ILS understands.
FIXED = {"01": 19, "09": 37, "11": 38, "15": 19, "17": 18, "19": 18, "23": 21, "25": 18,
         "29": 38, "35": 18, "37": 25, "63": 31, "65": 18, "93": 2, "97": 0, "99": 8}  # fmt: skip


def sip_checksum(text: bytes) -> str:
    return f"{(0x10000 - sum(text) % 0x10000) % 0x10000:04X}"


@dataclass
class Patron:
    name: str
    charged: list[str] = field(default_factory=list)


@dataclass
class Ils:
    patrons: dict[str, Patron]
    items: dict[str, str] = field(default_factory=dict)  # barcode -> title
    terminator: bytes = b"\r"
    institution: str = "MIDORI"
    received: list[bytes] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> int:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, ssl=ssl_context, limit=1 << 20
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await asyncio.sleep(0)  # a connection accepted just before the close: let it register
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    raw = await reader.readuntil(self.terminator)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.received.append(raw)
                answer = self.answer(raw)
                if answer is None:  # the drop: half an answer, then the line goes dead
                    writer.write(b"12")
                    await writer.drain()
                    writer.transport.abort()
                    return
                self.sent.append(answer)
                writer.write(answer)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    # -- the library's side of each conversation --------------------------------------------------

    def check(self, raw: bytes) -> tuple[str, dict[str, list[str]], str | None] | None:
        """(code, fields, sequence) of a well-formed request, else None and a noted problem."""
        if not raw.endswith(self.terminator):
            self.problems.append("no terminator")
            return None
        body = raw[: -len(self.terminator)]
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append("not UTF-8")
            return None
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            self.problems.append("control characters")
            return None
        code = text[:2]
        if code not in FIXED or len(text) < 2 + FIXED[code]:
            self.problems.append(f"unknown or short message {code!r}")
            return None
        match = re.search(r"AY(\d)\|?AZ([0-9A-Fa-f]{1,4})$", text) or re.search(
            r"()AZ([0-9A-Fa-f]{1,4})$", text
        )
        if not match:
            self.problems.append("no checksum")
            return None
        covered = body[: len(body) - len(match.group(2))]
        if (sum(covered) + int(match.group(2), 16)) & 0xFFFF:
            self.problems.append("checksum mismatch")
            return None
        fields: dict[str, list[str]] = {}
        for piece in text[2 + FIXED[code] : match.start()].split("|"):
            if piece:
                fields.setdefault(piece[:2], []).append(piece[2:])
        return code, fields, match.group(1) or None

    def answer(self, raw: bytes) -> bytes | None:
        checked = self.check(raw)
        if checked is None:
            return self._frame("96", None)
        code, fields, seq = checked
        now = dt.datetime.now().strftime("%Y%m%d    %H%M%S")
        aa = fields.get("AA", [""])[0]
        ab = fields.get("AB", [""])[0]
        patron = self.patrons.get(aa)
        inst = f"AO{self.institution}|"
        if ab == DROP_ITEM:
            return None
        if code == "93":
            return self._frame("941", seq)
        if code == "99":
            return self._frame(
                f"98YYYYNN100003{now}2.00{inst}AMMidori City Library|BXYYYYYYYYYYYYYYYY|", seq
            )
        if code in ("23", "63"):
            status = " " * 14 if patron else "Y" * 4 + " " * 10
            name = patron.name if patron else ""
            valid = "Y" if patron else "N"
            text = f"{code[0]}4{status}001{now}"
            if code == "63":
                charged = len(patron.charged) if patron else 0
                text += f"0000{0:04d}{charged:04d}000000000000"
            text += f"{inst}AA{aa}|AE{name}|BL{valid}|"
            if code == "63" and patron:
                text += "".join(f"AU{item}|" for item in patron.charged)
            text += f"AFWelcome {name}|AGPatron {aa}|" if patron else "AFUnknown patron|"
            return self._frame(text, seq)
        if code in ("11", "29"):
            ok = patron is not None and ab in self.items
            if ok and patron is not None and code == "11":
                patron.charged.append(ab)
            due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
            return self._frame(
                f"{'30' if code == '29' else '12'}{int(ok)}NNY{now}{inst}AA{aa}|AB{ab}|"
                f"AJ{self.items.get(ab, '')}|AH{due if ok else ''}|"
                f"AF{'Checked out to ' + aa if ok else 'Cannot check out'}|",
                seq,
            )
        if code == "09":
            for p in self.patrons.values():
                if ab in p.charged:
                    p.charged.remove(ab)
            return self._frame(f"101YNN{now}{inst}AB{ab}|AQMAIN|AJ{self.items.get(ab, '')}|", seq)
        if code == "17":
            return self._frame(f"18030001{now}AB{ab}|AJ{self.items.get(ab, '')}|", seq)
        if code == "35":
            return self._frame(f"36Y{now}{inst}AA{aa}|", seq)
        if code == "37":
            return self._frame(f"38Y{now}{inst}AA{aa}|", seq)
        return self._frame("96", None)

    def _frame(self, text: str, seq: str | None) -> bytes:
        body = text.encode("utf-8")
        if seq is not None:
            body += f"AY{seq}".encode()
        body += b"AZ"
        return body + sip_checksum(body).encode() + self.terminator

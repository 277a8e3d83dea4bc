"""The technician's provisioning file (``kiosk-provision.toml``), checked all at once.

A field technician edits this file on the SD card's FAT partition, on a laptop, with no way to see
a log. So validation never stops at the first mistake: every problem is collected, each in
Japanese and English, and the importer writes them all to the screen and to
``kiosk-provision-error.txt`` next to the file. This module is pure (no IO): it gets the parsed
TOML and, where the file names one, the text of the CA file; the importer (``ui/provisioning.py``)
does the reading, the import and the wipe.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from appliance.config import PRINTERS
from appliance.contact import LOOPBACK_HOSTS, url_parts
from appliance.errors import ProvisioningError

PLACEHOLDER_PASSWORDS = frozenset({"change-me-now", "", "password"})
SECTIONS: dict[str, tuple[str, ...]] = {
    "terminal": ("id", "password"),
    "platform": ("url", "ca_pem", "ca_file"),
    "library": ("issuer",),
    "printer": ("kind", "paper_width_dots"),
    "wifi": ("country", "ssid", "psk", "hidden"),
}
REQUIRED = ("terminal", "platform", "library")
_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*(?P<body>[A-Za-z0-9+/=\s]*?)\s*-----END CERTIFICATE-----"
)
_SAFE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Problem:
    """One thing the technician must fix: where, then the same sentence in both languages."""

    where: str
    ja: str
    en: str

    def __str__(self) -> str:
        return f"{self.where}: {self.ja} / {self.en}"


@dataclass(frozen=True)
class Wifi:
    country: str
    ssid: str
    psk: str = field(repr=False)
    hidden: bool = False


@dataclass(frozen=True)
class Provisioning:
    """A valid provisioning file. ``platform_ca_pem`` is "" only for a loopback http:// URL."""

    terminal_id: str
    terminal_password: str = field(repr=False)
    platform_url: str
    platform_ca_pem: str
    issuer: str
    printer: str
    paper_width_dots: int
    wifi: Wifi | None

    def kiosk_settings(self) -> dict[str, str | int | bool]:
        """The :class:`appliance.config.KioskConfig` fields this file sets (a real card reader)."""
        return {
            "terminal_id": self.terminal_id,
            "terminal_password": self.terminal_password,
            "platform_url": self.platform_url,
            "printer": self.printer,
            "paper_width_dots": self.paper_width_dots,
            "card_reader": "pcsc",
        }


def ca_file_name(doc: dict[str, Any]) -> str | None:
    """The CA file the document names, if it is a plain name next to the file (else ``None``)."""
    platform = doc.get("platform")
    name = platform.get("ca_file") if isinstance(platform, dict) else None
    return name if isinstance(name, str) and _SAFE_FILE.match(name) else None


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, where: str, ja: str, en: str) -> None:
        self.problems.append(Problem(where, ja, en))

    def text(self, table: dict[str, Any], section: str, key: str, *, required: bool) -> str | None:
        where = f"{section}.{key}"
        if key not in table:
            if required:
                self.bad(where, "必須の項目がありません", "is required but missing")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.bad(
                where,
                f'文字列にしてください（"" で囲む）: {value!r}',
                f"must be text in quotes, got {value!r}",
            )
            return None
        return value.strip()

    def digits(self, table: dict[str, Any], section: str, key: str, n: int) -> str:
        value = self.text(table, section, key, required=True)
        if value is not None and not (len(value) == n and value.isascii() and value.isdigit()):
            self.bad(
                f"{section}.{key}",
                f"{n}桁の数字にしてください: {value!r}",
                f"must be exactly {n} digits, got {value!r}",
            )
        return value or ""


def _tables(doc: dict[str, Any], c: _Checker) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for name, value in doc.items():
        if name not in SECTIONS:
            guess = difflib.get_close_matches(name, SECTIONS, n=1)
            hint_ja = f"（{guess[0]} の誤り？）" if guess else ""
            hint_en = f" (did you mean [{guess[0]}]?)" if guess else ""
            c.bad(f"[{name}]", f"不明なセクションです{hint_ja}", f"unknown section{hint_en}")
        elif not isinstance(value, dict):
            c.bad(name, "[セクション] として書いてください", f"must be a [{name}] table")
        else:
            tables[name] = value
            for key in value:
                if key not in SECTIONS[name]:
                    guess = difflib.get_close_matches(key, SECTIONS[name], n=1)
                    hint_ja = f"（{guess[0]} の誤り？）" if guess else ""
                    hint_en = f" (did you mean {guess[0]!r}?)" if guess else ""
                    c.bad(f"{name}.{key}", f"不明な項目です{hint_ja}", f"unknown key{hint_en}")
    for name in REQUIRED:
        if name not in doc:
            c.bad(f"[{name}]", "必須のセクションがありません", "required section is missing")
    return tables


def _platform(t: dict[str, Any], ca_file_text: str | None, c: _Checker) -> tuple[str, str]:
    url = c.text(t, "platform", "url", required=True) or ""
    loopback = False
    if url:
        parts = url_parts(url)
        if parts is None:
            c.bad(
                "platform.url",
                f"URL の形式が正しくありません: {url!r}",
                f"not a valid http(s) URL: {url!r}",
            )
        else:
            loopback = parts[1] in LOOPBACK_HOSTS
            if parts[0] == "http" and not loopback:
                c.bad(
                    "platform.url",
                    "https:// にしてください（http:// は試験用の 127.0.0.1 のみ）",
                    "must be https:// (http:// only for a loopback test platform)",
                )
    inline = c.text(t, "platform", "ca_pem", required=False)
    named = c.text(t, "platform", "ca_file", required=False)
    if inline and named:
        c.bad(
            "platform",
            "ca_pem と ca_file はどちらか一方だけにしてください",
            "give ca_pem or ca_file, not both",
        )
    pem = inline or ""
    if named:
        if not _SAFE_FILE.match(named):
            c.bad(
                "platform.ca_file",
                f"同じフォルダのファイル名だけを書いてください: {named!r}",
                f"must be a plain file name next to this file, got {named!r}",
            )
        elif ca_file_text is None:
            c.bad(
                "platform.ca_file",
                f"ファイル {named} が見つかりません",
                f"file {named} not found next to kiosk-provision.toml",
            )
        else:
            pem = ca_file_text
    where = "platform.ca_file" if named else "platform.ca_pem"
    if pem:
        pem = _check_pem(pem, where, c)
    elif url.startswith("https://") and not named:
        c.bad(
            "platform.ca_pem",
            "プラットフォームの CA 証明書（PEM）が必要です",
            "the platform's CA certificate (PEM) is required",
        )
    return url, pem


def _check_pem(pem: str, where: str, c: _Checker) -> str:
    blocks = list(_PEM.finditer(pem))
    if not blocks:
        c.bad(
            where,
            "PEM 形式の証明書（-----BEGIN CERTIFICATE-----）がありません",
            "no PEM certificate (-----BEGIN CERTIFICATE-----) found",
        )
        return ""
    for i, block in enumerate(blocks, 1):
        try:
            der = base64.b64decode("".join(block.group("body").split()), validate=True)
        except (binascii.Error, ValueError):
            der = b""
        if len(der) < 64 or der[0] != 0x30:
            c.bad(
                where,
                f"{i}番目の証明書が壊れています（貼り付けを確認）",
                f"certificate {i} is not valid base64 DER (check the paste)",
            )
    return "\n".join(b.group(0) for b in blocks) + "\n"


def _printer(t: dict[str, Any], c: _Checker) -> tuple[str, int]:
    kind = c.text(t, "printer", "kind", required=False) or "virtual"
    if kind not in PRINTERS:
        c.bad(
            "printer.kind",
            f"次のどれかにしてください {PRINTERS}: {kind!r}",
            f"must be one of {PRINTERS}, got {kind!r}",
        )
    width = t.get("paper_width_dots", 384)
    if isinstance(width, bool) or width not in (384, 576):
        c.bad(
            "printer.paper_width_dots",
            f"384（58mm）か 576（80mm）にしてください: {width!r}",
            f"must be 384 (58 mm) or 576 (80 mm), got {width!r}",
        )
        width = 384
    return kind, int(width)


def _wifi(t: dict[str, Any], c: _Checker) -> Wifi | None:
    country = c.text(t, "wifi", "country", required=True) or ""
    ssid = c.text(t, "wifi", "ssid", required=True) or ""
    psk = c.text(t, "wifi", "psk", required=True) or ""
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        c.bad(
            "wifi.country",
            f"国コードは大文字2文字です（日本は JP）: {country!r}",
            f"must be a 2-letter country code (JP for Japan), got {country!r}",
        )
    if "wifi.ssid" not in {p.where for p in c.problems} and not 1 <= len(ssid.encode()) <= 32:
        c.bad("wifi.ssid", "SSID は1〜32バイトです", "SSID must be 1 to 32 bytes")
    hexkey = len(psk) == 64 and all(ch in "0123456789abcdefABCDEF" for ch in psk)
    printable = psk.isascii() and psk.isprintable() and 8 <= len(psk) <= 63
    if "wifi.psk" not in {p.where for p in c.problems} and not (hexkey or printable):
        c.bad(
            "wifi.psk",
            "パスワードは英数字記号8〜63文字（または16進64文字）です",
            "passphrase must be 8 to 63 printable ASCII characters (or 64 hex digits)",
        )
    hidden = t.get("hidden", False)
    if not isinstance(hidden, bool):
        c.bad(
            "wifi.hidden", "true か false にしてください", f"must be true or false, got {hidden!r}"
        )
        hidden = False
    if any(p.where.startswith("wifi") for p in c.problems):
        return None
    return Wifi(country=country, ssid=ssid, psk=psk, hidden=hidden)


def validate(doc: dict[str, Any], ca_file_text: str | None = None) -> Provisioning:
    """The checked :class:`Provisioning`, or ``ProvisioningError`` listing every problem.

    ``doc`` is the parsed TOML; ``ca_file_text`` the content of ``platform.ca_file`` if the file
    names one and it exists (see :func:`ca_file_name`).
    """
    c = _Checker()
    tables = _tables(doc, c)
    terminal = tables.get("terminal", {})
    terminal_id = c.digits(terminal, "terminal", "id", 8) if "terminal" in tables else ""
    password = c.text(terminal, "terminal", "password", required=True) if terminal else None
    if password is not None:
        if password in PLACEHOLDER_PASSWORDS:
            c.bad(
                "terminal.password",
                "見本のままです。発行された端末パスワードを書いてください",
                "still the sample value: write the terminal password you were issued",
            )
        elif not (password.isascii() and password.isprintable() and len(password) <= 64):
            c.bad(
                "terminal.password",
                "半角の英数字記号64文字以内にしてください",
                "must be at most 64 printable ASCII characters",
            )
    url, pem = _platform(tables["platform"], ca_file_text, c) if "platform" in tables else ("", "")
    issuer = c.digits(tables["library"], "library", "issuer", 6) if "library" in tables else ""
    kind, width = _printer(tables.get("printer", {}), c)
    wifi = _wifi(tables["wifi"], c) if "wifi" in tables else None
    if c.problems:
        raise ProvisioningError([str(p) for p in c.problems])
    return Provisioning(
        terminal_id=terminal_id,
        terminal_password=password or "",
        platform_url=url,
        platform_ca_pem=pem,
        issuer=issuer,
        printer=kind,
        paper_width_dots=width,
        wifi=wifi,
    )

"""The kiosk's one typed configuration schema, validated all at once.

Values come from a TOML file (on the image: the SD card's FAT partition) and ``KIOSK_*``
environment variables, merged by the caller; this module only checks them, so it stays pure. Every
problem is reported together, with "did you mean" for misspelt keys (STYLE.md 6-7).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from typing import Any

from appliance.errors import ConfigError

READERS = ("virtual", "vpcd", "pcsc")
PRINTERS = ("virtual",)


@dataclass(frozen=True)
class KioskConfig:
    """Every field says its unit. ``platform_url = ""`` means the embedded reference platform."""

    data_dir: str  # folder for the SQLite store, logs and the virtual printer's labels
    platform_url: str = ""  # e.g. https://platform.example/ ; "" = start the local reference one
    terminal_id: str = "00052459"  # 8 digits, from the ministry's list (form II)
    terminal_password: str = field(default="a912lkfja", repr=False)  # the sample list's
    card_reader: str = "virtual"  # virtual (in-process) | vpcd (virtual card via pcscd) | pcsc
    reader_name: str = ""  # substring of the PC/SC reader name; "" = first reader
    read_chunk_bytes: int = 256  # READ BINARY size; some NFC readers need 223 (0xDF)
    accept_phone_certificates: bool = False
    printer: str = "virtual"
    paper_width_dots: int = 384  # 384 = 58 mm, 576 = 80 mm at 203 dpi
    pin_required: bool = True  # issuer policy; a PIN-less lookup proves less
    card_timeout_s: float = 5.0  # seconds to wait for a card after a tap is announced
    idle_timeout_s: float = 60.0  # seconds before a patron's screen and data are wiped
    result_screen_s: float = 8.0  # seconds the "take your label" / error screen stays
    staff_pin: str = field(default="9999", repr=False)  # 4-8 digits; change it on site
    require_clock_sync: bool = False  # refuse dated labels until NTP synced (the image: true)

    def __str__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["terminal_password"] = "********"  # noqa: S105 - the mask, not a password
        shown["staff_pin"] = "****"
        return "KioskConfig(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    __repr__ = __str__


def _coerce(name: str, raw: Any, kind: type) -> tuple[Any, str | None]:
    if kind is bool:
        if isinstance(raw, bool):
            return raw, None
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True, None
        if text in ("0", "false", "no", "off"):
            return False, None
        return None, f"{name}: expected true/false, got {raw!r}"
    if kind in (int, float):
        try:
            return kind(raw), None
        except (TypeError, ValueError):
            return None, f"{name}: expected a number, got {raw!r}"
    return str(raw), None


def load_config(values: dict[str, Any]) -> KioskConfig:
    """A :class:`KioskConfig` from merged values, or ``ConfigError`` with every problem."""
    known = {f.name: f for f in fields(KioskConfig)}
    types = {"bool": bool, "int": int, "float": float, "str": str}
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in known:
            guess = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {guess[0]!r}?)" if guess else ""
            problems.append(f"unknown setting {key!r}{hint}")
            continue
        value, problem = _coerce(key, raw, types[str(known[key].type)])
        if problem:
            problems.append(problem)
        else:
            clean[key] = value
    if "data_dir" not in clean and "data_dir" in known and "data_dir" not in values:
        problems.append("data_dir: required")
    tid = clean.get("terminal_id", "00052459")
    if not (isinstance(tid, str) and len(tid) == 8 and tid.isdigit()):
        problems.append(f"terminal_id: must be 8 digits, got {tid!r}")
    if clean.get("card_reader", "virtual") not in READERS:
        problems.append(f"card_reader: one of {READERS}, got {clean.get('card_reader')!r}")
    if clean.get("printer", "virtual") not in PRINTERS:
        problems.append(f"printer: one of {PRINTERS}, got {clean.get('printer')!r}")
    if not 1 <= clean.get("read_chunk_bytes", 256) <= 256:
        problems.append("read_chunk_bytes: 1..256")
    if clean.get("paper_width_dots", 384) not in (384, 576):
        problems.append("paper_width_dots: 384 (58 mm) or 576 (80 mm)")
    staff_pin = clean.get("staff_pin", "9999")
    if not (4 <= len(staff_pin) <= 8 and staff_pin.isascii() and staff_pin.isdigit()):
        problems.append("staff_pin: 4 to 8 digits")
    url = clean.get("platform_url", "")
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"platform_url: must start with http:// or https://, got {url!r}")
    for key in ("card_timeout_s", "idle_timeout_s", "result_screen_s"):
        if key in clean and clean[key] <= 0:
            problems.append(f"{key}: must be more than 0 seconds")
    if problems:
        raise ConfigError(problems)
    return KioskConfig(**clean)

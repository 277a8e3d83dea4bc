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
from appliance.printer_models import MODELS

READERS = ("virtual", "vpcd", "pcsc")
PRINTERS = ("virtual", "usb", "serial", "network", "file")
PAPER_MM = (58, 80)
PRINTER_DPIS = (180, 203, 300)
SERIAL_BAUDS = (9600, 19200, 38400, 57600, 115200)


@dataclass(frozen=True)
class KioskConfig:
    """Every field says its unit. ``platform_url = ""`` means the embedded reference platform."""

    data_dir: str  # folder for the SQLite store, logs and the virtual printer's labels
    platform_url: str = ""  # e.g. https://platform.example/ ; "" = start the local reference one
    terminal_id: str = "00052459"  # 8 digits, from the ministry's list (form II)
    # "" = use the enrolled one; none enrolled either: the setup wizard (Kiosk.needs_setup).
    # The embedded demo (platform_url = "") signs in as the demo terminal without it.
    terminal_password: str = field(default="", repr=False)
    # PEM file of the CA that issued the platform's TLS certificate; relative = in data_dir;
    # "" = the system trust store. Provisioning installs platform-ca.pem (sync/tls.py).
    platform_ca: str = ""
    card_reader: str = "virtual"  # virtual (in-process) | vpcd (virtual card via pcscd) | pcsc
    reader_name: str = ""  # substring of the PC/SC reader name; "" = first reader
    read_chunk_bytes: int = 256  # READ BINARY size; some NFC readers need 223 (0xDF)
    accept_phone_certificates: bool = False
    # The label printer (issue 4). virtual = .bin + .png files in data_dir/labels (make run).
    printer: str = "virtual"  # virtual | usb | serial | network | file
    paper_mm: int = 58  # paper roll width in mm: 58 or 80
    printer_dpi: int = 203  # dots per inch of the print head: 180, 203 or 300
    paper_width_dots: int = 0  # printable width in dots; 0 = from paper_mm and printer_dpi
    printer_usb_vendor: str = ""  # usb: vendor ID in hex, e.g. 04b8 (see lsusb)
    printer_usb_product: str = ""  # usb: product ID in hex, e.g. 0202
    printer_serial_device: str = "/dev/ttyUSB0"  # serial: the port
    printer_serial_baud: int = 115200  # serial: bits per second
    printer_host: str = ""  # network: host name or IP address
    printer_port: int = 9100  # network: TCP port
    printer_file: str = "/dev/usb/lp0"  # file: the device written to (no status readable)
    printer_timeout_s: float = 10.0  # seconds to connect and send one label
    printer_status_timeout_s: float = 0.5  # seconds to wait for a real-time status answer
    # the printer model, where its geometry is known (appliance/printer_models.py: TM-T88II..V);
    # "" = a generic ESC/POS printer
    printer_model: str = ""
    printer_feed_units_per_dot: int = (
        0  # ESC J units per dot row; 0 = the model's (TM-T88: 2), else 1
    )
    printer_retry_s: float = 3.0  # seconds between tries to print a held label
    label_notice: str = "自動貸出機でお使いください / For the self-checkout"  # "" = none
    pin_required: bool = True  # issuer policy; a PIN-less lookup proves less
    card_timeout_s: float = 5.0  # seconds to wait for a card after a tap is announced
    idle_timeout_s: float = 60.0  # seconds before a patron's screen and data are wiped
    result_screen_s: float = 8.0  # seconds the "take your label" / error screen stays
    staff_pin: str = field(default="9999", repr=False)  # 4-8 digits; change it on site
    # Token labels for the SIP2 gateway (``kioskctl sip2-gateway``): the issuer ID whose labels
    # carry a day token instead of the card number ("" = plain card-number labels), the range of
    # whole card numbers (check digit included) that library reserves for tokens, its hours.
    token_issuer: str = ""
    token_low: str = ""
    token_high: str = ""
    token_hours: str = "09:00-20:00"  # noqa: S105 - HH:MM-HH:MM local; a token ends at closing
    # path of the owner-only random device secret (created on first start); "" = in data_dir.
    # On the image it is root-only in /var/lib/kiosk/system, handed to the unprivileged kiosk
    # on a descriptor (sync/devicesecret.py); a SIP2 gateway on the same box points here too.
    device_secret: str = ""
    # First boot without a provisioning file (the image's /etc/kiosk/setup.toml): the settings
    # file the setup wizard writes once it has registered (the terminal ID and platform address
    # it was given), which the next start reads; "" = the wizard saves no settings (the
    # configuration already names the terminal and the platform).
    setup_saves_to: str = ""
    sip2_store: str = ""  # the token store shared with the gateway; "" = data_dir's
    sip2_status: str = ""  # the gateway's counts-only status file, for doctor; "" = data_dir's
    # UI (issue 6): hand-over method C and per-issuer method overrides
    handoff: str = "none"  # method C device: none | hid (USB keyboard gadget) | serial (wedge)
    handoff_device: str = "/dev/hidg0"  # the gadget's file, or the wedge's serial port / URL
    handoff_baud: int = 9600  # serial wedge speed, bits per second
    handoff_enter: bool = True  # press Enter after the number (most card fields expect it)
    handover: str = ""  # "000001=B,000002=A": method per issuer; "" = what the platform says
    scanner: str = "none"  # the counter's barcode reader for registrations: none | serial
    scanner_device: str = "/dev/ttyACM0"  # its serial port, or any pyserial URL
    scanner_baud: int = 9600  # its speed, bits per second
    # bookmobile (offline) lending, issue 9 (appliance/offline.py)
    offline_stop: str = ""  # stop name printed on provisional labels, e.g. 「宮前公民館前」
    offline_token_low: str = ""  # reserved range of provisional tokens: whole card numbers,
    offline_token_high: str = ""  # check digit included; "" = no offline lending
    offline_crl_max_age_h: float = 48.0  # hours; an older revocation list refuses offline taps
    offline_keep_days: int = 14  # days; assertions and mappings are deleted after this at most
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
    problems.extend(_printer_problems(clean))
    staff_pin = clean.get("staff_pin", "9999")
    if not (4 <= len(staff_pin) <= 8 and staff_pin.isascii() and staff_pin.isdigit()):
        problems.append("staff_pin: 4 to 8 digits")
    url = clean.get("platform_url", "")
    if url and not url.startswith(("http://", "https://")):
        problems.append(f"platform_url: must start with http:// or https://, got {url!r}")
    for key in ("card_timeout_s", "idle_timeout_s", "result_screen_s"):
        if key in clean and clean[key] <= 0:
            problems.append(f"{key}: must be more than 0 seconds")
    problems.extend(_token_problems(clean))
    problems.extend(_handoff_problems(clean))
    problems.extend(_offline_problems(clean))
    if problems:
        raise ConfigError(problems)
    return KioskConfig(**clean)


def parse_hours(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """``"09:00-20:00"`` as ((9, 0), (20, 0)); ``ValueError`` if it is not that shape."""
    opens, sep, closes = text.partition("-")
    if not sep:
        raise ValueError(text)
    times = []
    for part in (opens, closes):
        hh, colon, mm = part.strip().partition(":")
        if not (colon and hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ValueError(text)
        times.append((int(hh), int(mm)))
    return times[0], times[1]


def _token_problems(clean: dict[str, Any]) -> list[str]:
    """Token settings are all or nothing; the range's own rules are checked at the first label."""
    if not clean.get("token_issuer"):
        return []
    found = []
    for key in ("token_low", "token_high"):
        value = clean.get(key, "")
        if not (value.isascii() and value.isdigit()):
            found.append(f"{key}: the reserved range's whole card numbers, digits only")
    try:
        opens, closes = parse_hours(clean.get("token_hours", "09:00-20:00"))
        if opens >= closes:
            found.append("token_hours: opening must be before closing")
    except ValueError:
        found.append("token_hours: HH:MM-HH:MM, e.g. 09:00-20:00")
    return found


HANDOFFS = ("none", "hid", "serial")


def handover_overrides(spec: str) -> dict[str, str]:
    """``"000001=B, 000002=A"`` -> ``{"000001": "B", "000002": "A"}`` (unchecked)."""
    pairs = (item.split("=", 1) for item in spec.split(",") if item.strip())
    return {k.strip(): (v[0] if v else "").strip().upper() for k, *v in pairs}


def _handoff_problems(clean: dict[str, Any]) -> list[str]:
    found = []
    if clean.get("handoff", "none") not in HANDOFFS:
        found.append(f"handoff: one of {HANDOFFS}, got {clean.get('handoff')!r}")
    if clean.get("handoff_baud", 9600) <= 0:
        found.append("handoff_baud: must be more than 0 bits per second")
    if clean.get("scanner", "none") not in ("none", "serial"):
        found.append(f"scanner: one of ('none', 'serial'), got {clean.get('scanner')!r}")
    if clean.get("scanner_baud", 9600) <= 0:
        found.append("scanner_baud: must be more than 0 bits per second")
    for issuer_id, method in handover_overrides(clean.get("handover", "")).items():
        if method not in ("A", "B", "C", "D"):
            found.append(f"handover: issuer {issuer_id!r} needs A, B, C or D, got {method!r}")
    return found


def _printer_problems(clean: dict[str, Any]) -> list[str]:
    """Every problem with the printer settings (issue 4), at once."""
    found: list[str] = []
    kind = clean.get("printer", "virtual")
    if clean.get("paper_mm", 58) not in PAPER_MM:
        found.append(f"paper_mm: one of {PAPER_MM} (mm)")
    if clean.get("printer_dpi", 203) not in PRINTER_DPIS:
        found.append(f"printer_dpi: one of {PRINTER_DPIS} (dots per inch)")
    width = clean.get("paper_width_dots", 0)
    if width and (width % 8 or not 128 <= width <= 2048):
        found.append(
            "paper_width_dots: 0 (from paper_mm and printer_dpi) or 128..2048, whole bytes"
        )
    if kind == "usb":
        for key in ("printer_usb_vendor", "printer_usb_product"):
            value = clean.get(key, "")
            if not (1 <= len(value) <= 4 and all(c in "0123456789abcdefABCDEF" for c in value)):
                found.append(f"{key}: the USB ID in hex, e.g. 04b8 (printer = usb)")
    if kind == "network" and not clean.get("printer_host"):
        found.append("printer_host: required when printer = network")
    if not 1 <= clean.get("printer_port", 9100) <= 65535:
        found.append("printer_port: 1..65535")
    if clean.get("printer_serial_baud", 115200) not in SERIAL_BAUDS:
        found.append(f"printer_serial_baud: one of {SERIAL_BAUDS} (bits per second)")
    for key in ("printer_timeout_s", "printer_status_timeout_s", "printer_retry_s"):
        if key in clean and clean[key] <= 0:
            found.append(f"{key}: must be more than 0 seconds")
    if clean.get("printer_feed_units_per_dot", 0) not in (0, 1, 2, 3, 4):
        found.append("printer_feed_units_per_dot: 0 (from printer_model) or 1..4")
    model = clean.get("printer_model", "")
    if model and model not in MODELS:
        found.append(f"printer_model: one of {sorted(MODELS)} or \"\" (any other printer), "
                     f"got {model!r}")  # fmt: skip
    elif model and clean.get("printer_dpi", 203) != MODELS[model].dpi:
        found.append(f"printer_dpi: a {model} head is {MODELS[model].dpi} dpi")
    return found


def _offline_problems(clean: dict[str, Any]) -> list[str]:
    """The bookmobile settings' problems (issue 9); the range itself is checked against the
    issuer's rules once the issuer is known (``appliance.daytokens.TokenPolicy.problems``)."""
    found = []
    low, high = clean.get("offline_token_low", ""), clean.get("offline_token_high", "")
    if bool(low) != bool(high):
        found.append("offline_token_low / offline_token_high: set both or neither")
    for key in ("offline_token_low", "offline_token_high"):
        value = clean.get(key, "")
        if value and not (value.isascii() and value.isdigit()):
            found.append(f"{key}: digits only")
    if clean.get("offline_crl_max_age_h", 48.0) <= 0:
        found.append("offline_crl_max_age_h: must be more than 0 hours")
    if not 1 <= clean.get("offline_keep_days", 14) <= 90:
        found.append("offline_keep_days: 1 to 90 days")
    return found

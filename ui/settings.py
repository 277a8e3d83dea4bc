"""Where configuration comes from: a TOML file, then ``KIOSK_*`` environment variables.

The file is the technician-editable one (on the image it lives on the SD card's FAT partition);
the environment wins so ``make run`` and tests can point the kiosk somewhere else without editing
files. Validation itself is :func:`appliance.config.load_config`.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from appliance.config import KioskConfig, load_config
from appliance.errors import ConfigError
from appliance.messages import Message

ENV_PREFIX = "KIOSK_"


def default_data_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "mykey-kiosk")


def _read_file(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from exc


def read_settings(path: str | None = None, env: dict[str, str] | None = None) -> KioskConfig:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {"data_dir": default_data_dir()}
    values.update(_read_file(path or env.get(f"{ENV_PREFIX}CONFIG")))
    values.pop(LIBRARY_TABLE, None)  # read by read_library_texts
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != f"{ENV_PREFIX}CONFIG":
            values[key[len(ENV_PREFIX) :].lower()] = value
    return load_config(values)


LIBRARY_TABLE = "library"


def read_library_texts(
    path: str | None = None, env: dict[str, str] | None = None
) -> dict[str, Message]:
    """Each library's own "take your label" instructions, from ``[library."<issuer ID>"]``::

        [library."000001"]
        instructions_ja = "2階の自動貸出機でラベルを読ませてください。"
        instructions_en = "Scan the label at the self-checkout on the 1st floor."

    A library that gives only one language gets it on both lines rather than nothing.
    """
    env = dict(os.environ if env is None else env)
    table = _read_file(path or env.get(f"{ENV_PREFIX}CONFIG")).get(LIBRARY_TABLE, {})
    problems: list[str] = []
    texts: dict[str, Message] = {}
    for issuer_id, entry in table.items() if isinstance(table, dict) else []:
        ja, en = (entry.get(f"instructions_{lang}", "") for lang in ("ja", "en"))
        if not isinstance(ja, str) or not isinstance(en, str) or not (ja or en):
            problems.append(f"library.{issuer_id}: instructions_ja / instructions_en as text")
            continue
        texts[str(issuer_id)] = Message(ja or en, en or ja)
    if problems:
        raise ConfigError(problems)
    return texts


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Write-then-rename with fsync, so a power cut leaves the old file or the new one."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def toml_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def save_setup(saves_to: str, updates: dict[str, str], env: dict[str, str] | None = None) -> Path:
    """What the first-boot wizard learnt, saved for the next start: the settings file the kiosk
    started from (``KIOSK_CONFIG``, the image's first-boot file) with ``updates`` in, written to
    ``saves_to`` (the data partition's ``kiosk.toml``, which ``kiosk-session`` prefers from then
    on). Raises ``OSError`` or ``ConfigError`` (the result would not load: nothing is written).

    The password is never among them: the wizard sealed it in the store, so the file says
    ``terminal_password = ""`` (the enrolled one). ``setup_saves_to`` is left out: the saved
    file is the kiosk's own settings from then on, not another first boot.
    """
    env = dict(os.environ if env is None else env)
    values = _read_file(env.get(f"{ENV_PREFIX}CONFIG"))
    values.pop("setup_saves_to", None)
    values.update(updates, terminal_password="")
    target = Path(saves_to)
    flat = {k: v for k, v in values.items() if k != LIBRARY_TABLE}
    load_config({"data_dir": default_data_dir(), **flat})  # a ConfigError before any write
    text = settings_text("the kiosk's setup wizard at first boot (no kiosk-provision.toml)",
                         flat, values.get(LIBRARY_TABLE, {}))  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, text)
    return target


def settings_text(
    written_by: str,
    values: Mapping[str, Any],
    libraries: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """A ``kiosk.toml`` as the kiosk writes one (provisioning, the first-boot wizard): flat
    settings, then each library's ``[library."<issuer ID>"]`` texts."""
    lines = [
        f"# written by {written_by}",
        "# the terminal password is sealed in kiosk.sqlite (kioskctl enrol to change it)",
    ]
    lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    for issuer_id, entry in (libraries or {}).items():
        lines.append(f"\n[{LIBRARY_TABLE}.{json.dumps(str(issuer_id))}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"

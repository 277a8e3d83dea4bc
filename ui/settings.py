"""Where configuration comes from: a TOML file, then ``KIOSK_*`` environment variables.

The file is the technician-editable one (on the image it lives on the SD card's FAT partition);
the environment wins so ``make run`` and tests can point the kiosk somewhere else without editing
files. Validation itself is :func:`appliance.config.load_config`.
"""

from __future__ import annotations

import os
import tomllib
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

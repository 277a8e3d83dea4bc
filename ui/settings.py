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

ENV_PREFIX = "KIOSK_"


def default_data_dir() -> str:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "mykey-kiosk")


def read_settings(path: str | None = None, env: dict[str, str] | None = None) -> KioskConfig:
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {"data_dir": default_data_dir()}
    path = path or env.get(f"{ENV_PREFIX}CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                values.update(tomllib.load(fh))
        except OSError as exc:
            raise ConfigError([f"{path}: cannot be read ({exc.strerror})"]) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: not valid TOML ({exc})"]) from exc
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and key != f"{ENV_PREFIX}CONFIG":
            values[key[len(ENV_PREFIX) :].lower()] = value
    return load_config(values)

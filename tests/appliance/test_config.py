"""Configuration: every problem at once, with "did you mean", secrets masked."""

from __future__ import annotations

import pytest

from appliance.config import load_config
from appliance.errors import ConfigError


def test_defaults_need_only_a_data_folder() -> None:
    config = load_config({"data_dir": "/tmp/k"})
    assert config.card_reader == "virtual" and config.platform_url == ""


def test_every_problem_is_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            {"data_dir": "/x", "terminal_idd": "1", "card_reader": "usb", "idle_timeout_s": "abc"}
        )
    problems = caught.value.problems
    assert any("did you mean 'terminal_id'" in p for p in problems)
    assert any(p.startswith("card_reader") for p in problems)
    assert any(p.startswith("idle_timeout_s") for p in problems)


def test_the_password_is_masked_when_shown() -> None:
    config = load_config({"data_dir": "/x", "terminal_password": "s3cret-pw"})
    assert "s3cret-pw" not in repr(config) and "s3cret-pw" not in str(config)


def test_strings_from_the_environment_are_typed() -> None:
    config = load_config({"data_dir": "/x", "pin_required": "false", "paper_width_dots": "576"})
    assert config.pin_required is False and config.paper_width_dots == 576

"""Method C: hand a looked-up card number to the library system as if typed by a person.

Two real adapters behind :class:`appliance.ports.Handoff`, chosen by the ``handoff`` setting:
``hid`` writes USB HID boot-keyboard reports to a Linux gadget (``/dev/hidg0``: the kiosk shows
up on the library PC as a keyboard, no driver needed there), ``serial`` writes the text to a
serial "keyboard wedge". :mod:`drivers.handoff.memory` is the shipped fake.
"""

from __future__ import annotations

from appliance.config import KioskConfig
from appliance.ports import Handoff


def open_handoff(config: KioskConfig) -> Handoff | None:
    """The configured method C device, or ``None`` when this kiosk has none."""
    if config.handoff == "hid":
        from drivers.handoff.hid import HidKeyboard

        return HidKeyboard(config.handoff_device, enter=config.handoff_enter)
    if config.handoff == "serial":
        from drivers.handoff.serial_wedge import SerialWedge

        return SerialWedge(config.handoff_device, config.handoff_baud, enter=config.handoff_enter)
    return None

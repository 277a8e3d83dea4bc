"""The demo citizens whose virtual cards ``make run`` and the tests tap.

Only what sits on the *card* lives here (number, PIN); which library card each is linked to is
the platform's business and lives in ``server/demo.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drivers.card.virtual.pki import CitizenCredentials, citizen


@dataclass(frozen=True)
class DemoCitizen:
    number: int
    pin: str = field(repr=False)
    note: str

    def credentials(self) -> CitizenCredentials:
        return citizen(self.number, self.pin)


DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(1, "1234", "linked to 川崎市立図書館"),
    DemoCitizen(2, "2580", "linked to 川崎市立図書館"),
    DemoCitizen(3, "0000", "linked to 川崎市立図書館"),
    DemoCitizen(4, "4321", "not linked to any library (unregistered card)"),
)


def demo_citizen(number: int) -> DemoCitizen:
    for c in DEMO_CITIZENS:
        if c.number == number:
            return c
    raise KeyError(f"no demo citizen {number}; there are {[c.number for c in DEMO_CITIZENS]}")

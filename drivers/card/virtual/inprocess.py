"""The in-process virtual reader: a slot a test (or ``make run``'s demo key) puts cards into.

For unit tests and for ``make run`` on machines without pcscd. Integration tests use the same
:class:`~drivers.card.virtual.card.VirtualJpkiCard` through the real PC/SC stack instead
(:mod:`drivers.card.virtual.vpcd`).
"""

from __future__ import annotations

import threading

from appliance.errors import CardRemoved, NoCard
from appliance.ports import DeviceState, DeviceStatus
from drivers.card.jpki import JpkiSession
from drivers.card.virtual.card import CardKind, PinCounter, VirtualJpkiCard
from drivers.card.virtual.demo import demo_citizen


class VirtualSlot:
    """Where a virtual card lies. ``remove_after`` pulls the card away after N more APDUs."""

    def __init__(self) -> None:
        self._card: VirtualJpkiCard | None = None
        self._present = threading.Event()
        self._lock = threading.Lock()
        self.remove_after: int | None = None

    @property
    def card(self) -> VirtualJpkiCard | None:
        return self._card

    def insert(self, card: VirtualJpkiCard) -> None:
        with self._lock:
            card.power_on()
            self._card = card
            self._present.set()

    def remove(self) -> None:
        with self._lock:
            self._card = None
            self._present.clear()

    def wait(self, timeout: float) -> VirtualJpkiCard | None:
        self._present.wait(timeout)
        return self._card


class _SlotTransport:
    def __init__(self, slot: VirtualSlot, card: VirtualJpkiCard) -> None:
        self._slot = slot
        self._card = card

    def transmit(self, apdu: bytes) -> bytes:
        if self._slot.remove_after is not None:
            if self._slot.remove_after <= 0:
                self._slot.remove_after = None
                self._slot.remove()
            else:
                self._slot.remove_after -= 1
        if self._slot.card is not self._card:
            raise CardRemoved("virtual card removed")
        return self._card.process(apdu)


class VirtualReader:
    """:class:`appliance.ports.CardReader` over a :class:`VirtualSlot`."""

    def __init__(
        self, slot: VirtualSlot | None = None, *, chunk: int = 256, accept_phone: bool = False
    ) -> None:
        self.slot = slot or VirtualSlot()
        self._chunk = chunk
        self._accept_phone = accept_phone
        self.last_session: JpkiSession | None = None

    def connect(self, timeout: float = 5.0) -> JpkiSession:
        card = self.slot.wait(timeout)
        if card is None:
            raise NoCard("no card on the virtual reader")
        session = JpkiSession(
            _SlotTransport(self.slot, card),
            chunk=self._chunk,
            accept_phone=self._accept_phone,
            on_close=lambda: self._keep_chunk(session),
        )
        self.last_session = session
        return session.open()

    def _keep_chunk(self, session: JpkiSession) -> None:
        """As :class:`~drivers.card.pcsc.PcscReader`: a fallback chunk size sticks to the reader."""
        self._chunk = min(self._chunk, session.chunk)

    def status(self) -> DeviceStatus:
        present = "a card is present" if self.slot.card else "no card"
        return DeviceStatus(
            "card reader", DeviceState.OK, f"virtual reader (in-process), {present}"
        )


class CardDeck:
    """One virtual card per demo citizen, kept so PIN counters persist across taps."""

    def __init__(self) -> None:
        self._cards: dict[tuple[int, CardKind], VirtualJpkiCard] = {}

    def card(self, citizen: int, kind: CardKind = CardKind.MY_NUMBER) -> VirtualJpkiCard:
        key = (citizen, kind)
        if key not in self._cards:
            demo = demo_citizen(citizen)
            self._cards[key] = VirtualJpkiCard(demo.credentials(), kind, PinCounter())
        return self._cards[key]

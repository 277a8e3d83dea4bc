"""Offline taps through the real PC/SC stack (pcscd + vpcd + pyscard), platform unplugged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from appliance.errors import WrongPin
from appliance.values import Pin
from sync.offline import State
from tests.offline.conftest import Plug, make_kit
from tests.support.barcodes import decode_both
from ui.offline_wiring import OfflineKit

pytestmark = pytest.mark.pcsc


@pytest.fixture
def pcsc_bookmobile(tmp_path: Path, pcscd: None, plug: Plug) -> Iterator[OfflineKit]:
    kit = make_kit(tmp_path / "kiosk", plug, card_reader="vpcd")
    kit.prepare()
    plug.down()
    yield kit
    plug.up()
    kit.close()
    kit.kiosk.close()


def _verifies(kit: OfflineKit) -> int:
    assert kit.kiosk.demo is not None and kit.kiosk.demo.bridge is not None
    log = kit.kiosk.demo.bridge.card.log
    return sum(1 for apdu in log if apdu[:4] == b"\x00\x20\x00\x80" and len(apdu) > 4)


def test_an_offline_tap_over_pcscd_prints_a_provisional_label(
    pcsc_bookmobile: OfflineKit,
) -> None:
    kit = pcsc_bookmobile
    assert kit.kiosk.demo is not None
    kit.kiosk.demo.tap(2)
    flow = kit.flow()
    with pytest.raises(WrongPin):
        flow.finish(flow.begin(5), Pin("1111"))
    assert _verifies(kit) == 1
    kit.kiosk.demo.tap(2)
    flow = kit.flow()
    outcome = flow.finish(flow.begin(5), Pin("2580"))
    assert _verifies(kit) == 2  # one VERIFY per patron action, never a retry
    png = next(p for p in outcome.printed.artifacts if p.endswith(".png"))
    assert decode_both(Image.open(png)) == ([f"A{outcome.job.number.value}A"],) * 2
    kit.kiosk.demo.remove()
    assert kit.store.counts()[State.PENDING] == 1  # resolved later, as test_offline_day shows

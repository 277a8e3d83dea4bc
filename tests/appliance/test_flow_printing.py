"""The tap flow's label goes through the spool: a paper-out keeps it, the reload prints it once."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.errors import PaperOut
from appliance.flow import TapFlow
from appliance.ports import JobState
from appliance.spool import MemoryJobs
from appliance.values import Pin
from drivers.card.virtual.inprocess import CardDeck, VirtualReader
from drivers.printer.virtual import VirtualPrinter
from tests.appliance.test_flow import Clock, FakePlatform, Outbox


def test_paper_out_keeps_the_patrons_label_and_the_reload_prints_it_once(tmp_path: Path):
    reader, printer, jobs, outbox = (
        VirtualReader(),
        VirtualPrinter(tmp_path),
        MemoryJobs(),
        Outbox(),
    )
    flow = TapFlow(reader=reader, platform=FakePlatform(), printer=printer, outbox=outbox,
                   clock=Clock(), jobs=jobs)  # fmt: skip
    reader.slot.insert(CardDeck().card(1))
    printer.fault = PaperOut("no paper")
    with pytest.raises(PaperOut) as caught:
        flow.finish(flow.begin(1), Pin("1234"))
    assert caught.value.key == "error.printer.paper"  # "your label is kept; tell a staff member"
    (held,) = jobs.pending()
    assert ("label_printed", {"issuer_id": "000001"}) not in outbox.events
    printer.fault = None  # staff reloaded the paper
    assert [p.job_id for p in flow.spool.resume()] == [held.job_id]
    assert flow.spool.resume() == []
    assert jobs.state(held.job_id) is JobState.PRINTED
    assert len(list(tmp_path.glob("*.bin"))) == 1

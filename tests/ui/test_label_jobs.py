"""``kioskctl label-jobs``: staff see held and uncertain jobs (masked) and reprint or cancel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from appliance.ports import JobState
from appliance.values import CardNumber, Issuer, LabelJob
from sync.jobs import JobStore
from ui.cli import main

ISSUER = Issuer("000001", "川崎市立図書館")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path))
    today = dt.date.today().isoformat()
    with JobStore(tmp_path / "kiosk.sqlite") as jobs:
        jobs.add(LabelJob("held1", CardNumber(ISSUER, "1800000001"), today))
        jobs.add(LabelJob("cut1", CardNumber(ISSUER, "1800000002"), today))
        jobs.claim("cut1")  # the link broke mid-label: uncertain
    return tmp_path


def state(data_dir: Path, job_id: str) -> JobState | None:
    with JobStore(data_dir / "kiosk.sqlite") as jobs:
        return jobs.state(job_id)


def test_the_list_shows_held_and_uncertain_jobs_with_masked_numbers(data_dir, capsys):
    assert main(["label-jobs"]) == 0
    out = capsys.readouterr().out
    assert "held1\theld" in out and "*******001" in out
    assert "cut1\tuncertain" in out and "*******002" in out
    assert "1800000001" not in out


def test_reprint_sends_an_uncertain_job_once(data_dir, capsys):
    assert main(["label-jobs", "--reprint", "cut1"]) == 0
    assert state(data_dir, "cut1") is JobState.PRINTED
    assert len(list((data_dir / "labels").glob("*cut1.bin"))) == 1
    assert main(["label-jobs", "--reprint", "cut1"]) == 2  # not a second time


def test_a_held_job_cannot_be_reprinted_it_resumes(data_dir, capsys):
    assert main(["label-jobs", "--reprint", "held1"]) == 2
    assert main(["label-jobs", "--resume"]) == 0
    assert "held1\tprinted" in capsys.readouterr().out
    assert state(data_dir, "held1") is JobState.PRINTED
    assert state(data_dir, "cut1") is JobState.SENDING  # resume never touches an uncertain job


def test_cancel_gives_up_a_job_and_wipes_its_number(data_dir, capsys):
    assert main(["label-jobs", "--cancel", "held1"]) == 0
    assert state(data_dir, "held1") is JobState.CANCELLED
    with JobStore(data_dir / "kiosk.sqlite") as jobs:
        assert jobs.card_numbers_stored() == 1  # only cut1's is left
    assert main(["label-jobs", "--cancel", "nope"]) == 2


def test_the_configured_device_secret_unseals_the_jobs(tmp_path: Path, monkeypatch, capsys):
    """A kiosk whose device secret lives elsewhere (the image keeps it root-only): staff
    commands must use that secret, not make a second one beside the database."""
    secret = tmp_path / "system" / "device-secret"
    secret.parent.mkdir()
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KIOSK_DEVICE_SECRET", str(secret))
    today = dt.date.today().isoformat()
    with JobStore(tmp_path / "kiosk.sqlite", secret) as jobs:
        jobs.add(LabelJob("held2", CardNumber(ISSUER, "1800000003"), today))
    assert main(["label-jobs"]) == 0
    assert "held2\theld" in capsys.readouterr().out
    assert not (tmp_path / "device-secret").exists()

"""The .koc rewrite, line by line, against Koha's format (offline_circ/process_koc.pl, v1.0)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from appliance.daytokens import TokenPolicy
from appliance.errors import KocError
from appliance.koc import rewrite_koc
from appliance.values import CheckScheme, Issuer
from sync.offline import Mapping
from sync.offline_export import CSV_HEADER, export

ISSUER = Issuer("000001", "川崎市立図書館", check=CheckScheme.MOD10_W21, lengths=(10,))
POLICY = TokenPolicy(ISSUER, "8000000000", "8999999999")
TOKEN_A, TOKEN_B = POLICY.make(800000001), POLICY.make(800000002)
CARD_A, CARD_B = "1800000000", "1800000018"
OTHER_PATRON = "1800000026"  # a real card number of someone who brought their library card
HEADER = "Version=1.0\tGenerator=koct-firefox\tGeneratorVersion=0.1"


def _rewrite(text: str, mapping: dict[str, str] | None = None) -> str:
    mapping = {TOKEN_A: CARD_A, TOKEN_B: CARD_B} if mapping is None else mapping
    return rewrite_koc(text, mapping, bare=POLICY.bare, is_token=POLICY.claims).text


def test_issue_and_payment_lines_get_the_card_number_and_nothing_else_changes() -> None:
    lines = [
        HEADER,
        f"2026-12-01 10:15:30 123\tissue\t{TOKEN_A}\t31000000123456",
        f"2026-12-01 10:16:00 124\tissue\t{OTHER_PATRON}\t31000000123457",
        "2026-12-01 10:17:00 125\treturn\t31000000123458",
        f"2026-12-01 10:18:00 126\tpayment\t{TOKEN_B}\t5.00",
        f"2026-12-01 10:19:00\tissue\t{TOKEN_B}\t31000000123459",
    ]
    out = _rewrite("\n".join(lines) + "\n").split("\n")
    assert out[0] == HEADER
    assert out[1] == f"2026-12-01 10:15:30 123\tissue\t{CARD_A}\t31000000123456"
    assert out[2] == lines[2]  # not a token: untouched
    assert out[3] == lines[3]  # a return names no patron
    assert out[4] == f"2026-12-01 10:18:00 126\tpayment\t{CARD_B}\t5.00"
    assert out[5] == f"2026-12-01 10:19:00\tissue\t{CARD_B}\t31000000123459"
    assert out[6] == ""
    assert len(out) == 7


def test_line_endings_trailing_tabs_and_codabar_frames_are_kept() -> None:
    text = (
        HEADER + "\r\n"
        f"2026-12-01 10-15-30 000\tissue\tA{TOKEN_A}A\t31000000123456\t\r\n"
        "2026-12-01 10-16-00 000\treturn\t31000000123456\t\r\n"
    )
    out = _rewrite(text)
    assert out == (
        HEADER + "\r\n"
        f"2026-12-01 10-15-30 000\tissue\tA{CARD_A}A\t31000000123456\t\r\n"
        "2026-12-01 10-16-00 000\treturn\t31000000123456\t\r\n"
    )


def test_every_malformed_line_is_reported_by_number_without_its_numbers() -> None:
    text = "\n".join(
        [
            "Version=2.0\tGenerator=x\tGeneratorVersion=1",
            f"2026-12-01 10:15:30\tissue\t{TOKEN_A}",  # barcode missing
            f"01/12/2026 10:15\tissue\t{TOKEN_A}\t310",  # not Koha's timestamp
            f"2026-02-30 10:15:30\tissue\t{TOKEN_A}\t310",  # no such day
            "2026-12-01 10:15:30\trenew\t310",  # unknown command
            f"2026-12-01 10:15:30\tpayment\t{TOKEN_A}\tfive",
            "just text",
            f"2026-12-01 10:15:30\tissue\t{TOKEN_A}\t310\t999",  # one field too many
        ]
    )
    with pytest.raises(KocError) as caught:
        _rewrite(text)
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == [f"line {n}" for n in range(1, 9)]
    assert "version must be 1.0" in problems[0]
    assert "issue takes cardnumber, barcode" in problems[1]
    assert "timestamp is not YYYY-MM-DD HH:MM:SS" in problems[2]
    assert "not a real date" in problems[3]
    assert "command must be issue, return or payment" in problems[4]
    assert "amount is not a number" in problems[5]
    assert all(TOKEN_A not in p and CARD_A not in p for p in problems)


def test_a_token_without_a_resolution_is_a_problem_not_a_loan_to_nobody() -> None:
    text = f"{HEADER}\n2026-12-01 10:15:30\tissue\t{TOKEN_B}\t310\n"
    with pytest.raises(KocError) as caught:
        _rewrite(text, {TOKEN_A: CARD_A})
    assert caught.value.problems == ["line 2: provisional token not resolved yet"]


def test_an_empty_file_and_a_header_that_is_not_key_value_pairs_are_refused() -> None:
    with pytest.raises(KocError):
        _rewrite("")
    with pytest.raises(KocError) as caught:
        _rewrite("Koha offline file\n")
    assert caught.value.problems[0].startswith("line 1:")


def _mappings() -> list[Mapping]:
    at = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    return [Mapping(TOKEN_A, CARD_A, "000001", at, "宮前"), Mapping(TOKEN_B, CARD_B, "000001", at)]


def test_export_writes_csv_and_koc_owner_only(tmp_path: Path) -> None:
    koc = tmp_path / "bookmobile.koc"
    koc.write_text(f"{HEADER}\n2026-12-01 10:15:30\tissue\t{TOKEN_A}\t310\n", encoding="utf-8")
    result = export(_mappings(), tmp_path / "out", stem="day", koc=koc, policy=POLICY)
    csv_path, koc_path = result.paths
    assert csv_path.read_text(encoding="utf-8").splitlines() == [
        ",".join(CSV_HEADER),
        f"{TOKEN_A},{CARD_A},000001,2026-12-01T01:00:00+00:00,宮前",
        f"{TOKEN_B},{CARD_B},000001,2026-12-01T01:00:00+00:00,",
    ]
    assert koc_path.name == "bookmobile.resolved.koc"
    assert koc_path.read_text(encoding="utf-8").splitlines()[1].split("\t")[2] == CARD_A
    assert result.koc_replaced == 1
    for path in result.paths:
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_malformed_koc_leaves_nothing_written_not_even_the_csv(tmp_path: Path) -> None:
    koc = tmp_path / "bookmobile.koc"
    koc.write_text(f"{HEADER}\n2026-12-01 10:15:30\tissue\t{TOKEN_A}\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(KocError):
        export(_mappings(), out, stem="day", koc=koc, policy=POLICY)
    assert not out.exists() or list(out.iterdir()) == []


def test_a_koc_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    koc = tmp_path / "bookmobile.koc"
    koc.write_bytes(HEADER.encode() + b"\n\xff\xfe\n")
    with pytest.raises(KocError) as caught:
        export(_mappings(), tmp_path / "out", stem="day", koc=koc, policy=POLICY)
    assert "not UTF-8" in caught.value.problems[0]

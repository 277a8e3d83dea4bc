"""Importing the ministry's form II list: both encodings, every bad row at once, all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.cli import main
from server.db import connect, migrate, verify_password
from server.formii import FormError, decode, import_terminals, parse

DATA = Path(__file__).parent / "data"
HEADER = "区分,項番,ID付与事業者名,設置場所,端末名,端末ID,端末パスワード,削除要否\n"
GOOD = "ア,1,川崎市立図書館,高津図書館,高津図書館1台目,00052459,a912lkfja,\n"


def _db(tmp_path: Path) -> Path:
    path = tmp_path / "platform.sqlite"
    migrate(path)
    return path


def _terminals(db: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT terminal_id, kind, row_no, issuer_name, place, name, deleted_at IS NOT NULL"
            " FROM terminals ORDER BY terminal_id"
        ).fetchall()
    finally:
        conn.close()


def _import(db: Path, text: str | bytes) -> None:
    conn = connect(db)
    try:
        import_terminals(conn, text.encode() if isinstance(text, str) else text)
    finally:
        conn.close()


def _problems(db: Path, text: str | bytes) -> list[str]:
    with pytest.raises(FormError) as caught:
        _import(db, text)
    return caught.value.problems


def test_both_sample_files_hold_the_same_sixteen_terminals() -> None:
    utf8 = (DATA / "form2-sample.csv").read_bytes()
    sjis = (DATA / "form2-sample-sjis.csv").read_bytes()
    assert decode(utf8)[1] == "utf-8" and decode(sjis)[1] == "shift_jis"
    rows = parse(decode(utf8)[0])
    assert rows == parse(decode(sjis)[0])
    assert len(rows) == 16
    assert {r.kind for r in rows} == {"ア", "イ", "ウ", "エ"}
    first = rows[0]
    assert (first.terminal_id, first.password, first.issuer_name, first.name) == (
        "00052459", "a912lkfja", "川崎市立図書館", "高津図書館1台目",
    )  # fmt: skip


def test_the_cli_imports_either_sample_once_with_hashed_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "platform.sqlite"
    assert main(["import-terminals", "--db", str(db), str(DATA / "form2-sample-sjis.csv")]) == 0
    out = capsys.readouterr().out
    assert "(shift_jis): 16 added, 0 updated, 0 deleted, 0 unchanged" in out
    assert "ブレーメン商店街" in out  # named in the list, not an issuer on this platform yet
    rows = _terminals(db)
    assert len(rows) == 16
    assert ("00052559", "イ", 1, None, "川崎市藤子・F・不二雄ミュージアム",
            "川崎市藤子・F・不二雄ミュージアム", 0) in rows  # fmt: skip
    conn = connect(db)
    try:
        stored = conn.execute(
            "SELECT password_hash FROM terminals WHERE terminal_id = '00052459'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert "a912lkfja" not in stored and verify_password("a912lkfja", stored)
    # The UTF-8 file is the same list: importing it changes nothing.
    assert main(["import-terminals", "--db", str(db), str(DATA / "form2-sample.csv")]) == 0
    assert "(utf-8): 0 added, 0 updated, 0 deleted, 16 unchanged" in capsys.readouterr().out


def test_a_changed_row_updates_and_a_deletion_flag_retires_the_terminal(tmp_path: Path) -> None:
    db = _db(tmp_path)
    _import(db, HEADER + GOOD + "ア,2,川崎市立図書館,高津図書館,2台目,00052460,83kaf908f,\n")
    _import(
        db,
        HEADER
        + "ア,1,川崎市立図書館,高津図書館,高津図書館1台目,00052459,new-password,\n"
        + "ア,2,川崎市立図書館,高津図書館,2台目,00052460,83kaf908f,要\n",
    )
    conn = connect(db)
    try:
        stored = conn.execute(
            "SELECT password_hash FROM terminals WHERE terminal_id = '00052459'"
        ).fetchone()[0]
    finally:
        conn.close()
    assert verify_password("new-password", stored)
    assert [r[6] for r in _terminals(db)] == [0, 1]


def test_every_bad_row_is_reported_at_once_and_nothing_is_imported(tmp_path: Path) -> None:
    db = _db(tmp_path)
    text = (
        HEADER
        + GOOD
        + "ア,2,川崎市立図書館,高津図書館,2台目,0005246,pw2,\n"  # 7 digits
        + "イ,3,,館,端末,０００５２４６２,pw3,\n"  # full-width digits
        + "オ,4,,館,端末,00052463,pw4,\n"  # no such kind
        + "ア,x,,,端末,00052464,,たぶん\n"  # row no, issuer, place, password, flag
        + "イ,6,,館,端末,00052459,pw6,\n"  # duplicate terminal ID
        + "ア,1,川崎市立図書館,館,端末,00052466,pw7,\n"  # duplicate 項番 within ア/川崎
        + "ウ,8,\n"  # short row
    )
    problems = _problems(db, text)
    joined = "\n".join(problems)
    for expected in (
        "line 3 (項番 2): 端末ID (terminal ID) must be 8 digits 0-9, not '0005246'",
        "line 4 (項番 3): 端末ID (terminal ID) must be 8 digits 0-9, not full-width digits",
        "line 5 (項番 4): 区分 (kind) 'オ' is not one of ア/イ/ウ/エ",
        "line 6 (項番 x): 項番 (row number) 'x' is not a positive number",
        "line 6 (項番 x): ID付与事業者名 (ID-issuer) is required for kind ア",
        "line 6 (項番 x): 設置場所 (place) is empty",
        "line 6 (項番 x): 端末パスワード (password) is empty",
        "line 6 (項番 x): 削除要否 (deletion flag) 'たぶん'",
        "line 7: 端末ID 00052459 repeats line 2",
        "line 8: 項番 1 of ア 川崎市立図書館 repeats line 2",
        "line 9: 3 fields, the header has 8",
    ):
        assert expected in joined, expected
    assert _terminals(db) == []  # the good row was not imported either


def test_one_bad_row_keeps_an_existing_list_untouched(tmp_path: Path) -> None:
    db = _db(tmp_path)
    _import(db, HEADER + GOOD)
    before = _terminals(db)
    _problems(db, HEADER + GOOD.replace("高津図書館1台目", "renamed") + "ア,2,x,y,z,123,pw,\n")
    assert _terminals(db) == before


def test_missing_columns_are_named(tmp_path: Path) -> None:
    db = _db(tmp_path)
    header = "区分,項番,設置場所,端末名,端末ID\n"
    (problem,) = _problems(db, header + "ア,1,館,端末,00052459\n")
    assert problem == "missing column(s): ID付与事業者名, 端末パスワード, 削除要否"


def test_a_file_in_another_encoding_is_refused_by_name(tmp_path: Path) -> None:
    db = _db(tmp_path)
    (problem,) = _problems(db, (HEADER + GOOD).encode("utf-16"))
    assert "neither UTF-8 nor Shift_JIS (cp932)" in problem
    (problem,) = _problems(db, (HEADER + GOOD).encode("euc_jp"))
    assert "neither UTF-8 nor Shift_JIS (cp932)" in problem
    # Bytes that decode but into nonsense (here: a translated header) get a hint.
    (problem,) = _problems(db, "kind,no,issuer,place,name,id,password,delete\n" + GOOD)
    assert "is the file really form II, in UTF-8 or Shift_JIS?" in problem
    assert _terminals(db) == []


def test_a_header_without_rows_and_an_empty_file_are_refused(tmp_path: Path) -> None:
    db = _db(tmp_path)
    assert _problems(db, HEADER) == ["the file has a header but no terminal rows"]
    assert _problems(db, b"") == ["the file is empty"]


def test_the_cli_prints_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER + GOOD + "ア,2,川崎市立図書館,館,端末,1234567a,pw,\n").encode("cp932"))
    db = tmp_path / "platform.sqlite"
    assert main(["import-terminals", "--db", str(db), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "not imported, 1 problem(s)" in err and "line 3 (項番 2)" in err
    assert _terminals(db) == []

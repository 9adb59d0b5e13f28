"""``mfgctl stock receive | count | adjust | move``: what a storeman types, what he sees,
and that every refusal leaves the database exactly as it was."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, refused


@pytest.fixture
def shop(cli: Cli, initdb: Path) -> Path:
    """A small shop: a microphone on reels, solder by the kg, a capacitor that needs
    incoming inspection, a lot-tracked PCB, a serial-tracked module, and a QC area."""
    buy = ("--make-or-buy", "buy")
    for args in [
        ("MIC-100", "--name", "Microphone", "--type", "component", "--unit", "pcs",
         "--units", "reel=5000", *buy),
        ("SOLDER", "--name", "Solder wire", "--type", "raw", "--unit", "kg", *buy),
        ("CAP-10", "--name", "Capacitor", "--type", "component", "--unit", "pcs",
         "--inspect-on-receipt", *buy),
        ("PCB-1", "--name", "Board", "--type", "component", "--unit", "pcs",
         "--tracking", "lot", *buy),
        ("BT-7", "--name", "Bluetooth module", "--type", "component", "--unit", "pcs",
         "--tracking", "serial", *buy),
    ]:  # fmt: skip
        r = cli("item", "add", *args)
        assert r.exit_code == 0, r.stderr
    assert cli("location", "add", "QC", "--name", "Quality area").exit_code == 0
    return initdb


def report(cli: Cli, *args: str) -> dict[str, dict]:
    """The stock report as JSON, keyed by item (or item/lot with --by-lot)."""
    r = cli("stock", "-f", "json", *args)
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout, parse_float=Decimal)
    return {row["item"] + (f"/{row['lot']}" if row.get("lot") else ""): row for row in rows}


def moves(path: Path) -> int:
    with sqlite3.connect(path) as c:
        return c.execute("SELECT count(*) FROM move").fetchone()[0]


# -- receive ----------------------------------------------------------------------------


def test_point_one_plus_point_two_kg_is_exactly_point_three(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "0.1")
    cli("stock", "receive", "SOLDER", "0.2")
    r = cli("stock", "-f", "json", "--item", "SOLDER")
    assert '"physical":0.3,' in r.stdout and '"available":0.3,' in r.stdout
    assert report(cli)["SOLDER"]["physical"] == Decimal("0.3")
    plain = cli("stock", "-f", "plain").stdout.splitlines()
    assert plain[1].split("\t")[:6] == ["SOLDER", "Solder wire", "raw", "kg", "0.3", "0.3"]


def test_two_reels_are_ten_thousand_pieces(cli: Cli, shop: Path) -> None:
    r = cli("stock", "receive", "MIC-100", "2", "--unit", "reel", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["qty"] == 10000
    assert report(cli)["MIC-100"]["available"] == 10000


def test_grams_of_a_kg_item_are_stored_in_kg(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "250", "--unit", "g")
    assert report(cli)["SOLDER"]["physical"] == Decimal("0.25")


def test_a_receipt_that_needs_inspection_is_not_available(cli: Cli, shop: Path) -> None:
    r = cli("stock", "receive", "CAP-10", "500", "-f", "json")
    assert json.loads(r.stdout)[0]["to"] == "STORES/pending_inspection"
    row = report(cli)["CAP-10"]
    assert (row["physical"], row["pending_inspection"], row["available"], row["free"]) == (
        500,
        500,
        0,
        0,
    )


def test_a_receipt_records_who_why_and_from_where(cli: Cli, shop: Path) -> None:
    r = cli("stock", "receive", "PCB-1", "40", "--lot", "L-7", "--ref", "PO-12", "-f", "json")
    move = json.loads(r.stdout)[0]
    assert {k: move[k] for k in ("item", "lot", "qty", "from", "to", "kind", "user", "ref")} == {
        "item": "PCB-1",
        "lot": "L-7",
        "qty": 40,
        "from": "SUPPLIER",
        "to": "STORES/available",
        "kind": "receipt",
        "user": "tester",
        "ref": "PO-12",
    }


def test_serials_are_one_move_each(cli: Cli, shop: Path) -> None:
    r = cli("stock", "receive", "BT-7", "2", "--serial", "S1", "--serial", "S2", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert [(m["lot"], m["qty"]) for m in json.loads(r.stdout)] == [("S1", 1), ("S2", 1)]
    assert report(cli, "--by-lot").keys() == {"BT-7/S1", "BT-7/S2"}


def test_a_lot_code_with_brackets_is_text_not_markup(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "PCB-1", "5", "--lot", "[A1]")
    r = cli("stock", "--by-lot", "--item", "PCB-1")
    assert "[A1]" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "5"), "unknown item 'NOPE'"),
        (("SOLDER", "0"), "quantity must be greater than zero"),
        (("SOLDER", "--", "-1"), "quantity must not be negative, got -1"),
        (("SOLDER", "NaN"), "quantity 'NaN' is not a plain decimal number"),
        (("SOLDER", "Infinity"), "quantity 'Infinity' is not a plain decimal number"),
        (("SOLDER", "1e3"), "quantity '1e3' is not a plain decimal number"),
        (("SOLDER", "0.0000001"), "quantity 0.0000001 has more than 6 decimal places"),
        (("SOLDER", "1", "--unit", "pcs"), "unit 'pcs' cannot convert to SOLDER's base unit 'kg'"),
        (("MIC-100", "1", "--unit", "box"), "unit 'box' cannot convert to MIC-100's base unit"),
        (("MIC-100", "999999999999", "--unit", "reel"), "is too large"),
        (("SOLDER", "1", "--unit", "mg"), None),  # valid: 0.001 kg, so not refused
        (("PCB-1", "5"), "PCB-1 is lot-tracked: give --lot"),
        (("PCB-1", "5", "--lot", "  "), "lot must not be empty"),
        (("PCB-1", "5", "--lot", "L 1"), "lot 'L 1' may only contain"),
        (("SOLDER", "1", "--lot", "L1"), "SOLDER is not lot- or serial-tracked"),
        (("BT-7", "2", "--serial", "S1"), "quantity 2 must equal the number of serials (1)"),
        (("BT-7", "2", "--serial", "S1", "--serial", "s1"), "serial s1 is given twice"),
        (("BT-7", "1"), "BT-7 is serial-tracked: give --serial for each unit"),
        (("SOLDER", "1", "--location", "NOWHERE"), "unknown location 'NOWHERE'"),
        (("SOLDER", "1", "--location", "CUSTOMER"), "CUSTOMER is a virtual place"),
        (("SOLDER", "1", "--date", day(3)), f"--date {day(3)} is in the future"),
        (("SOLDER", "1", "--date", "2026-02-30"), "--date '2026-02-30' is not a date"),
        (("SOLDER", "1", "--expires", "soon"), "--expires 'soon' is not a date"),
    ],
)
def test_bad_receipts_are_refused_and_change_nothing(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str | None
) -> None:
    if message is None:
        assert cli("stock", "receive", *args).exit_code == 0
        return
    assert message in refused(cli, shop, "stock", "receive", *args)


def test_a_serial_already_received_is_refused(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "BT-7", "1", "--serial", "S1")
    err = refused(cli, shop, "stock", "receive", "BT-7", "2", "--serial", "S9", "--serial", "s1")
    assert "serial s1 of BT-7 already exists" in err


def test_sql_in_a_reference_is_stored_as_text(cli: Cli, shop: Path) -> None:
    ref = "PO-1'); DROP TABLE move; --"
    r = cli("stock", "receive", "SOLDER", "1", "--ref", ref, "-f", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout)[0]["ref"] == ref
    assert moves(shop) == 1


def test_non_ascii_text_is_fine_in_reasons(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "2")
    r = cli("stock", "adjust", "SOLDER", "--remove", "0.5", "--reason", "Prüfung: Lötzinn nass")
    assert r.exit_code == 0
    assert "Lötzinn" in cli("stock", "history", "SOLDER", "-f", "json").stdout


# -- count --------------------------------------------------------------------------------


def test_a_count_posts_only_the_difference(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "MIC-100", "100")
    r = cli("stock", "count", "MIC-100", "97", "-f", "json")
    assert r.exit_code == 0, r.stderr
    [result] = json.loads(r.stdout)
    assert (result["counted"], result["expected"], result["difference"]) == (97, 100, -3)
    history = json.loads(cli("stock", "history", "MIC-100", "-f", "json").stdout)
    assert [(h["kind"], h["from"], h["to"], h["qty"]) for h in history] == [
        ("receipt", "SUPPLIER", "STORES/available", 100),
        ("count", "STORES/available", "ADJUSTMENT", 3),
    ]
    assert report(cli)["MIC-100"]["available"] == 97


def test_a_count_above_the_books_adds_stock(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "1")
    r = cli("stock", "count", "SOLDER", "1.25", "-f", "json")
    [result] = json.loads(r.stdout, parse_float=Decimal)
    assert result["difference"] == Decimal("0.25")
    assert report(cli)["SOLDER"]["physical"] == Decimal("1.25")


def test_a_matching_count_is_recorded_but_posts_no_move(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "MIC-100", "100")
    r = cli("stock", "count", "MIC-100", "100", "--note", "shelf 3", "-f", "json")
    [result] = json.loads(r.stdout)
    assert (result["difference"], result["move"]) == (0, None)
    assert moves(shop) == 1
    with sqlite3.connect(shop) as c:
        counts = c.execute("SELECT counted, expected, move_seq, note FROM stock_count").fetchall()
    assert counts == [(100_000_000, 100_000_000, None, "shelf 3")]


def test_counting_zero_of_a_lot_empties_it(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "PCB-1", "10", "--lot", "L1")
    cli("stock", "receive", "PCB-1", "5", "--lot", "L2")
    cli("stock", "count", "PCB-1", "0", "--lot", "L1")
    assert report(cli, "--by-lot").keys() == {"PCB-1/L2"}


def test_a_back_dated_count_compares_with_the_books_of_that_day(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "MIC-100", "100", "--date", day(-10))
    cli("stock", "adjust", "MIC-100", "--remove", "30", "--reason", "issued", "--date", day(-5))
    # Counted 98 ten days ago (the books then said 100): two were missing then.
    r = cli("stock", "count", "MIC-100", "98", "--date", f"{day(-10)} 18:00", "-f", "json")
    [result] = json.loads(r.stdout)
    assert (result["expected"], result["difference"]) == (100, -2)
    assert report(cli)["MIC-100"]["available"] == 68


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "1"), "unknown item 'NOPE'"),
        (("MIC-100", "--", "-1"), "counted quantity must not be negative, got -1"),
        (("MIC-100", "abc"), "counted quantity 'abc' is not a plain decimal number"),
        (("MIC-100", "1", "--location", "SUPPLIER"), "SUPPLIER is a virtual place"),
        (("MIC-100", "1", "--status", "lost"), "status must be one of"),
        (("PCB-1", "1"), "PCB-1 is lot-tracked: give --lot"),
        (("PCB-1", "0", "--lot", "NEW"), "PCB-1 has no lot 'NEW'"),
        (("BT-7", "2", "--lot", "S1"), "a serial counts 0 or 1"),
        (("MIC-100", "1", "--date", day(2)), "is in the future"),
    ],
)
def test_bad_counts_are_refused_and_change_nothing(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    cli("stock", "receive", "MIC-100", "10")
    assert message in refused(cli, shop, "stock", "count", *args)


# -- adjust -------------------------------------------------------------------------------


def test_adjust_adds_and_removes_with_a_reason(cli: Cli, shop: Path) -> None:
    cli("stock", "adjust", "SOLDER", "--add", "2", "--reason", "found a spool")
    r = cli("stock", "adjust", "SOLDER", "--remove", "0.5", "--reason", "spilled", "-f", "json")
    [move] = json.loads(r.stdout)
    assert (move["from"], move["to"], move["kind"], move["reason"]) == (
        "STORES/available",
        "ADJUSTMENT",
        "adjust",
        "spilled",
    )
    assert report(cli)["SOLDER"]["physical"] == Decimal("1.5")


def test_adjust_without_a_reason_is_a_usage_error(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "stock", "adjust", "SOLDER", "--add", "1", code=2)
    assert "a reason is required" in err
    err = refused(cli, shop, "stock", "adjust", "SOLDER", "--add", "1", "--reason", "  ", code=2)
    assert "a reason is required" in err


def test_adjust_needs_exactly_one_direction(cli: Cli, shop: Path) -> None:
    args = ("stock", "adjust", "SOLDER", "--reason", "x")
    assert "exactly one of --add" in refused(cli, shop, *args, code=2)
    assert "exactly one of --add" in refused(
        cli, shop, *args, "--add", "1", "--remove", "1", code=2
    )


def test_removing_more_than_there_is_refused(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "1.5")
    err = refused(cli, shop, "stock", "adjust", "SOLDER", "--remove", "2", "--reason", "x")
    assert err == "Error: not enough SOLDER at STORES/available: need 2 kg, have 1.5\n"


def test_a_back_dated_removal_cannot_take_stock_that_was_not_there(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "5", "--date", day(-3))
    err = refused(
        cli, shop, "stock", "adjust", "SOLDER", "--remove", "1", "--reason", "x", "--date", day(-6)
    )
    assert "not enough SOLDER at STORES/available on" in err
    assert "need 1 kg, but the balance from then on falls to 0" in err


def test_a_back_dated_removal_cannot_make_a_later_balance_negative(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "SOLDER", "5", "--date", day(-10))
    cli("stock", "adjust", "SOLDER", "--remove", "4", "--reason", "used", "--date", day(-2))
    cli("stock", "receive", "SOLDER", "10")
    # Today there are 11 kg, but between day -2 and today there was only 1.
    err = refused(
        cli, shop, "stock", "adjust", "SOLDER", "--remove", "3", "--reason", "x", "--date", day(-5)
    )
    assert "need 3 kg, but the balance from then on falls to 1" in err
    ok = cli("stock", "adjust", "SOLDER", "--remove", "1", "--reason", "x", "--date", day(-5))
    assert ok.exit_code == 0, ok.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("NOPE", "--add", "1"), "unknown item 'NOPE'"),
        (("SOLDER", "--add", "0"), "quantity must be greater than zero"),
        (("SOLDER", "--add", "Infinity"), "quantity 'Infinity' is not a plain decimal number"),
        (("SOLDER", "--add", "1", "--location", "SCRAP"), "SCRAP is a virtual place"),
        (("SOLDER", "--add", "1", "--unit", "m"), "unit 'm' cannot convert"),
        (("PCB-1", "--add", "1"), "PCB-1 is lot-tracked: give --lot"),
        (("BT-7", "--add", "2", "--lot", "S5"), "adjust one serial at a time"),
        (("BT-7", "--add", "1", "--lot", "S1"), "serial S1 of BT-7 is already in stock"),
        (("PCB-1", "--remove", "1", "--lot", "NOPE"), "PCB-1 has no lot 'NOPE'"),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(
    cli: Cli, shop: Path, args: tuple[str, ...], message: str
) -> None:
    cli("stock", "receive", "BT-7", "1", "--serial", "S1")
    assert message in refused(cli, shop, "stock", "adjust", *args, "--reason", "test")


# -- move ---------------------------------------------------------------------------------


def test_a_move_keeps_the_total_and_the_status(cli: Cli, shop: Path) -> None:
    cli("stock", "receive", "CAP-10", "100")
    r = cli(
        "stock", "move", "CAP-10", "40", "--from", "STORES", "--to", "qc",
        "--status", "pending_inspection", "-f", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    [move] = json.loads(r.stdout)
    assert (move["from"], move["to"]) == ("STORES/pending_inspection", "QC/pending_inspection")
    assert report(cli, "--location", "QC")["CAP-10"]["pending_inspection"] == 40
    assert report(cli, "--location", "STORES")["CAP-10"]["pending_inspection"] == 60
    assert report(cli)["CAP-10"]["physical"] == 100


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            "MIC-100 11 --from STORES --to QC",
            "not enough MIC-100 at STORES/available: need 11 pcs, have 10",
        ),
        ("MIC-100 1 --from QC --to STORES", "not enough MIC-100 at QC/available: need 1 pcs"),
        ("MIC-100 1 --from STORES --to stores", "--from and --to are both STORES"),
        ("MIC-100 1 --from STORES --to CUSTOMER", "between real locations"),
        ("MIC-100 1 --from SUPPLIER --to QC", "between real locations"),
        ("MIC-100 1 --from STORES --to LINE-9", "unknown location 'LINE-9'"),
        ("MIC-100 0.5 --from STORES --to QC --unit g", "unit 'g' cannot convert to MIC-100's"),
        ("MIC-100 1.0000001 --from STORES --to QC", "more than 6 decimal places"),
        (
            "MIC-100 1 --from STORES --to QC --status blocked",
            "not enough MIC-100 at STORES/blocked",
        ),
        ("PCB-1 1 --from STORES --to QC", "PCB-1 is lot-tracked: give --lot"),
        ("NOPE 1 --from STORES --to QC", "unknown item 'NOPE'"),
    ],
)
def test_bad_moves_are_refused_and_change_nothing(
    cli: Cli, shop: Path, command: str, message: str
) -> None:
    cli("stock", "receive", "MIC-100", "10")
    assert message in refused(cli, shop, "stock", "move", *command.split())


def test_a_move_without_from_is_a_usage_error(cli: Cli, shop: Path) -> None:
    err = refused(cli, shop, "stock", "move", "MIC-100", "1", "--to", "QC", code=2)
    assert "--from" in err


def test_a_total_beyond_what_the_database_can_hold_is_refused_readably(cli: Cli, shop: Path):
    # One place holds less than 10^12 (tests/test_balance_limit.py); nine places full
    # take 9 x 10^18 micro-units from SUPPLIER, whose balance a tenth would overflow.
    for n in range(10):
        assert cli("location", "add", f"BIN-{n}", "--name", f"Bin {n}").exit_code == 0
    for n in range(9):
        r = cli("stock", "receive", "MIC-100", "999999999999", "--location", f"BIN-{n}")
        assert r.exit_code == 0, r.stderr
    err = refused(cli, shop, "stock", "receive", "MIC-100", "999999999999", "--location", "BIN-9")
    assert "would exceed the largest quantity" in err


def test_a_cost_per_reel_that_is_not_exact_per_piece_is_refused(cli: Cli, shop: Path):
    err = refused(
        cli, shop, "stock", "receive", "MIC-100", "1", "--unit", "reel", "--cost", "0.001"
    )
    assert "cost 0.001 per reel" in err and "give the cost per pcs" in err
    r = cli("stock", "receive", "MIC-100", "1", "--unit", "reel", "--cost", "4250")
    assert r.exit_code == 0, r.stderr
    with sqlite3.connect(shop) as c:
        assert c.execute("SELECT unit_cost FROM move").fetchone()[0] == 850000  # 0.85 exactly

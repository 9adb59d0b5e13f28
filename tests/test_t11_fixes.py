"""Fixes from exploratory test t11: a serial is never counted into a second place or back
from the customer, and ``check`` reports one with two units in house (#6); ``mrp diff``
names the order a planned order was firmed into even once it was received in full or
completed (#4); ``status``'s Reserved leaves out reservations of expired lots (#7); and
three messages: the import's default location, a typed ``STORES`` after its rename, and
``stock expiry`` to today (#9)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, dump, import_yaml, ok, refused

from mfgctl import db as dbmod
from mfgctl.domain import items, ledger, mrp_runs

SENSORS = """
items:
  - {code: SEN, name: Sensor, type: component, unit: pcs, make_or_buy: buy,
     tracking: serial, cost: 1}
  - {code: KIT, name: Kit, type: finished, unit: pcs, make_or_buy: make}
boms:
  - {item: KIT, lines: [{item: SEN, qty: 1}]}
locations:
  - {code: QC}
"""


@pytest.fixture
def sensors(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    """SEN serials S1 and S2 in STORES/available; a QC location; KIT takes one SEN."""
    import_yaml(cli, tmp_path, SENSORS)
    ok(cli, "stock", "receive", "SEN", "2", "--serials", "S1,S2")
    return initdb


def in_house(cli: Cli) -> dict[str, Decimal]:
    doc = json.loads(ok(cli, "stock", "lots", "SEN", "--all", "-f", "json").stdout)
    return {r["lot"]: Decimal(str(r["in_house"])) for r in doc["lots"]}


def problems(cli: Cli, check: str) -> tuple[int, list[tuple[str, str, str]]]:
    r = cli("check", "-f", "json")
    rows = json.loads(r.stdout)
    return r.exit_code, [
        (p["severity"], p["subject"], p["message"]) for p in rows if p["check"] == check
    ]


# -- #6: a serial is one unit -------------------------------------------------------------


def in_stock(serial: str, where: str) -> str:
    location, _slash, status = where.partition("/")
    return (
        f"Error: serial {serial} of SEN is already in stock at {where}: a serial is one unit "
        f"(if it is not there, count 0 there first: mfgctl stock count SEN 0 --lot {serial} "
        f"--location {location} --status {status})\n"
    )


def test_a_count_never_puts_a_serial_in_a_second_place_or_status(cli: Cli, sensors: Path) -> None:
    # Before: accepted, and S1 had 2 units in house (STORES and QC), S2 too.
    assert refused(
        cli, sensors, "stock", "count", "SEN", "1", "--lot", "S1", "--location", "QC"
    ) == (in_stock("S1", "STORES/available"))
    assert refused(
        cli, sensors, "stock", "count", "SEN", "1", "--lot", "S2", "--status", "blocked"
    ) == in_stock("S2", "STORES/available")
    # stock adjust --add says the same.
    assert refused(
        cli, sensors, "stock", "adjust", "SEN", "--add", "1", "--lot", "S2", "--location", "QC",
        "--reason", "x",
    ) == in_stock("S2", "STORES/available")  # fmt: skip
    assert in_house(cli) == {"S1": 1, "S2": 1}
    # Counting it where it is changes nothing; counted 0 where it was booked (lost), it
    # may be counted 1 where it turned up.
    r = ok(cli, "stock", "count", "SEN", "1", "--lot", "S1", "-f", "json")
    assert json.loads(r.stdout)[0]["difference"] == 0
    ok(cli, "stock", "count", "SEN", "0", "--lot", "S1")
    assert in_house(cli) == {"S1": 0, "S2": 1}
    r = ok(cli, "stock", "count", "SEN", "1", "--lot", "S1", "--location", "QC", "-f", "json")
    assert json.loads(r.stdout)[0]["difference"] == 1
    assert in_house(cli) == {"S1": 1, "S2": 1}
    assert problems(cli, "serial_duplicate") == (0, [])


def test_a_shipped_serial_is_not_counted_back_into_stock(cli: Cli, sensors: Path) -> None:
    ok(cli, "ship", "SEN", "1", "--serial", "S2", "--to", "ACME")
    shipped = (
        "Error: serial S2 of SEN was shipped (SHIP-1) and is at the customer: a serial is one "
        "unit; if it came back, take it back with mfgctl return SHIP-1 1 --serial S2 "
        "--reason ...\n"
    )
    # Before: accepted, and trace showed S2 both at the customer and in stock.
    assert refused(cli, sensors, "stock", "count", "SEN", "1", "--lot", "S2") == shipped
    assert (
        refused(
            cli, sensors, "stock", "adjust", "SEN", "--add", "1", "--lot", "S2", "--reason", "x"
        )
        == shipped
    )
    ok(cli, "return", "SHIP-1", "1", "--serial", "S2", "--reason", "faulty")
    assert in_house(cli) == {"S1": 1, "S2": 1}


def test_a_serial_in_an_orders_wip_is_not_counted_into_stock(cli: Cli, sensors: Path) -> None:
    ok(cli, "order", "create", "KIT", "1", "--due", day(20))
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1", "--item", "SEN", "--qty", "1", "--lot", "S1")
    assert refused(cli, sensors, "stock", "count", "SEN", "1", "--lot", "S1") == (
        "Error: serial S1 of SEN is in the WIP of ORDER-1 (consumed): a serial is one unit; "
        "what the order does not use comes back with mfgctl order close 1 --return-unconsumed\n"
    )


def test_check_reports_a_serial_with_two_units_in_house(cli: Cli, sensors: Path) -> None:
    # What stock count booked before it refused a second unit: S1 at QC too.
    conn = dbmod.connect(sensors)
    try:
        with dbmod.transaction(conn):
            it = items.get(conn, "SEN")
            lot = ledger.get_lot(conn, it, "S1")
            ledger.post(
                conn, item=it, qty=Decimal(1), source=ledger.virtual(conn, "ADJUSTMENT"),
                target=ledger.real_place(conn, "QC", "available"), lot=lot, kind="count",
                user="tester",
            )  # fmt: skip
    finally:
        conn.close()
    before = dump(sensors)
    assert problems(cli, "serial_duplicate") == (
        4,
        [
            (
                "error",
                "SEN serial S1",
                "2 pcs in house (QC/available 1, STORES/available 1), but a serial is one "
                "unit: count 0 at each place where it is not (the last it came to: mfgctl "
                "stock count SEN 0 --lot S1 --location QC --status available)",
            )
        ],
    )
    assert dump(sensors) == before
    # The correction it names clears it.
    ok(cli, "stock", "count", "SEN", "0", "--lot", "S1", "--location", "QC")
    assert problems(cli, "serial_duplicate") == (0, [])


# -- #4: mrp diff of a planned order firmed and then received or completed ----------------

BUYS = """
items:
  - {code: B, name: B, type: component, unit: pcs, make_or_buy: buy,
     purchase_lead_time_days: 3, cost: 1}
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy,
     purchase_lead_time_days: 3, cost: 1}
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, mfg_lead_time_days: 2}
  - {code: R, name: R, type: raw, unit: pcs, make_or_buy: buy, purchase_lead_time_days: 3,
     cost: 1}
boms:
  - {item: P, lines: [{item: R, qty: 1}]}
"""


def diff(cli: Cli, *runs: object) -> list[tuple]:
    rows = json.loads(ok(cli, "mrp", "diff", *runs, "-f", "json").stdout, parse_float=Decimal)
    return [(x["change"], x["item"], x["kind"], x["qty_before"], x["qty_after"],
             x["due_before"], x["due_after"], x["order"]) for x in rows]  # fmt: skip


def plan(cli: Cli, *args: object) -> None:
    ok(cli, "mrp", "--start", day(0), "--horizon", "40", *args)


def test_a_planned_order_firmed_and_received_in_full_is_firmed(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, BUYS)
    ok(cli, "demand", "add", "B", "20", "--due", day(19), "--kind", "sales", "--ref", "SO-2")
    plan(cli, "--save")
    ok(cli, "mrp", "firm", "--all", "--start", day(0), "--horizon", "40")  # PO-1
    firmed = ("firmed", "B", "buy", 20, 20, day(19), day(19), "PO-1")
    assert diff(cli, "1") == [firmed]
    ok(cli, "purchase", "receive", "1")
    # Before: ("removed", "B", "buy", 20, None, day(19), None, None).
    assert diff(cli, "1") == [("firmed", "B", "buy", 20, 0, day(19), day(19), "PO-1")]
    plan(cli, "--save")  # run 2, after the receipt
    assert diff(cli, "1", "2") == [("firmed", "B", "buy", 20, 0, day(19), day(19), "PO-1")]
    # An order cancelled since is no firmed one: C's planned order, no longer needed.
    ok(cli, "demand", "add", "C", "5", "--due", day(19), "--kind", "sales", "--ref", "SO-3")
    plan(cli, "--save")  # run 3
    ok(cli, "mrp", "firm", "--all", "--start", day(0), "--horizon", "40")  # PO-2
    ok(cli, "purchase", "cancel", "2")
    ok(cli, "demand", "cancel", "2")
    assert diff(cli, "3") == [("removed", "C", "buy", 5, None, day(19), None, None)]


def test_a_planned_production_order_firmed_and_completed_is_firmed(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, BUYS)
    ok(cli, "stock", "receive", "R", "10")
    ok(cli, "demand", "add", "P", "4", "--due", day(10), "--kind", "sales", "--ref", "SO-1")
    plan(cli, "--save")
    ok(cli, "mrp", "firm", "--all", "--start", day(0), "--horizon", "40")  # ORDER-1
    ok(cli, "order", "release", "1")
    ok(cli, "consume", "1")
    ok(cli, "order", "complete", "1", "--qty", "4")
    assert diff(cli, "1") == [("firmed", "P", "make", 4, 0, day(10), day(10), "ORDER-1")]


def test_orders_created_after_the_second_run_do_not_count(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, BUYS)
    ok(cli, "demand", "add", "B", "20", "--due", day(19), "--kind", "sales", "--ref", "SO-2")
    plan(cli, "--save")
    ok(cli, "demand", "cancel", "1")
    plan(cli, "--save")  # run 2: B's planned order is gone
    ok(cli, "purchase", "add", "B", "20", "--due", day(19))  # placed after run 2
    ok(cli, "purchase", "receive", "1")
    assert diff(cli, "1", "2") == [("removed", "B", "buy", 20, None, day(19), None, None)]
    # Against a plan computed now, it is the order that stands for the planned one.
    assert diff(cli, "1") == [("firmed", "B", "buy", 20, 0, day(19), day(19), "PO-1")]


def test_diff_ignores_orders_given_that_are_still_receipts() -> None:
    """The pure part: an order of ``since`` that ``after`` still has as a receipt is
    matched as a receipt (what is still to come), not twice."""
    before = {"planned_orders": [{"item": "B", "kind": "buy", "qty": 20, "due_date": "2027-01-10"}],
              "shortages": [], "receipts": []}  # fmt: skip
    receipt = {"source": "purchase", "id": 1, "item": "B", "qty": 15, "due": "2027-01-10"}
    after = {"planned_orders": [], "shortages": [], "receipts": [receipt]}
    since = [{"source": "purchase", "id": 1, "item": "B", "kind": "buy", "qty": Decimal(20),
              "due": "2027-01-10", "state": "open"}]  # fmt: skip
    firmed = {"change": "firmed", "item": "B", "kind": "buy", "qty_before": 20, "qty_after": 15,
              "due_before": "2027-01-10", "due_after": "2027-01-10", "order": "PO-1"}  # fmt: skip
    assert mrp_runs.diff(before, after, since=since) == [firmed]
    assert mrp_runs.diff(before, after) == [firmed]


# -- #7: status's Reserved leaves out reservations of expired lots -------------------------


def test_status_reserved_leaves_out_a_reservation_of_an_expired_lot(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "GLUE", "--name", "Glue", "--type", "raw", "--unit", "kg",
       "--make-or-buy", "buy", "--tracking", "lot", "--cost", "2")  # fmt: skip
    ok(cli, "stock", "receive", "GLUE", "10", "--lot", "A", "--expires", day(35))
    ok(cli, "demand", "add", "GLUE", "4", "--due", day(9), "--kind", "sales", "--ref", "SO-1")
    ok(cli, "reserve", "GLUE", "4", "--for", "SO-1", "--lot", "A")

    def status() -> tuple[list[dict], dict[str, dict]]:
        doc = json.loads(ok(cli, "status", "--no-mrp", "-f", "json").stdout)
        return doc["reserved"], {s["status"]: s for s in doc["stock"]}

    reserved, stock = status()
    assert reserved == [{"ref": "SO-1", "lines": 1, "items": 1, "value": 8}]
    assert stock["reserved"]["items"] == 1
    ok(cli, "stock", "expiry", "GLUE", "A", "--expires", day(-6), "--reason", "typo")
    # Before: Reserved still listed SO-1 (8) while the stock row said reserved 0.
    reserved, stock = status()
    assert reserved == []
    assert (stock["reserved"]["items"], stock["expired"]["items"]) == (0, 1)
    # Good again: held again.
    ok(cli, "stock", "expiry", "GLUE", "A", "--expires", day(0), "--reason", "re-test")
    reserved, stock = status()
    assert reserved == [{"ref": "SO-1", "lines": 1, "items": 1, "value": 8}]


# -- #9: messages ---------------------------------------------------------------------------


def test_an_import_without_location_after_the_rename_says_so_without_missing(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    ok(cli, "item", "add", "W", "--name", "W", "--type", "raw", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "location", "rename", "STORES", "MAIN")
    f = tmp_path / "st.yaml"
    f.write_text("stock:\n  - {item: W, qty: 1}\n", encoding="utf-8")
    err = refused(cli, initdb, "import", f, one_line=False)
    # Before: "stock[0]: missing: the default location ...".
    assert err.startswith(
        f"Error: {f}:2: stock[0]: the default location STORES no longer exists (renamed?); "
        "give the location\n"
    )


def test_stores_typed_after_the_rename_is_an_unknown_location(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "W", "--name", "W", "--type", "raw", "--unit", "pcs",
       "--make-or-buy", "buy")  # fmt: skip
    ok(cli, "location", "add", "QC")
    ok(cli, "location", "rename", "STORES", "MAIN")
    ok(cli, "stock", "receive", "W", "5", "--location", "MAIN")
    typed = "Error: unknown location 'STORES' (renamed to MAIN? locations: MAIN, QC)\n"
    # Before: "the default location STORES no longer exists (renamed?); give --location".
    assert refused(cli, initdb, "stock", "--location", "STORES") == typed
    assert refused(cli, initdb, "stock", "history", "W", "--location", "STORES") == typed
    assert refused(cli, initdb, "stock", "move", "W", "1", "--from", "STORES", "--to", "QC") == (
        typed
    )
    assert refused(cli, initdb, "stock", "--location", "NOPE") == (
        "Error: unknown location 'NOPE' (locations: MAIN, QC)\n"
    )
    # Left out, the default is named as before.
    assert refused(cli, initdb, "stock", "receive", "W", "1") == (
        "Error: the default location STORES no longer exists (renamed?); give --location "
        "(locations: MAIN, QC)\n"
    )


def test_stock_expiry_to_today_says_the_lot_is_usable_through_today(cli: Cli, initdb: Path) -> None:
    ok(cli, "item", "add", "GLUE", "--name", "Glue", "--type", "raw", "--unit", "kg",
       "--make-or-buy", "buy", "--tracking", "lot")  # fmt: skip
    ok(cli, "stock", "receive", "GLUE", "10", "--lot", "X", "--expires", day(36))
    r = ok(cli, "stock", "expiry", "GLUE", "X", "--expires", day(0), "--reason", "r")
    # Before: no note at all.
    assert r.stderr == (
        f"GLUE lot X: expiry {day(36)} -> {day(0)} (usable through today only, expired from "
        "tomorrow)\n"
    )
    ok(cli, "stock", "expiry", "GLUE", "X", "--expires", day(-1), "--reason", "r")
    r = ok(cli, "stock", "expiry", "GLUE", "X", "--expires", day(0), "--reason", "r")
    assert r.stderr == (
        f"GLUE lot X: expiry {day(-1)} -> {day(0)} (usable again through today only, expired "
        "from tomorrow)\n"
    )
    r = ok(cli, "stock", "expiry", "GLUE", "X", "--expires", day(1), "--reason", "r")
    assert r.stderr == f"GLUE lot X: expiry {day(0)} -> {day(1)}\n"

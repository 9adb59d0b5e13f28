"""``mfgctl demand`` and ``mfgctl purchase``: demand records, purchase orders, receipts
against them (exactly as ``stock receive``), and what stays on order."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from bom_builders import item
from conftest import Cli, day, ok, refused

from mfgctl import db as dbmod


@pytest.fixture
def shop(initdb: Path) -> Path:
    conn = dbmod.connect(initdb)
    try:
        with dbmod.transaction(conn):
            item(conn, "SCREW")
            item(conn, "MIC", inspect_on_receipt=True, tracking="lot")
            item(conn, "CAP", tracking="serial")
            item(conn, "HD", make=True, type="finished")
            item(conn, "OLD", active=False)
    finally:
        conn.close()
    return initdb


def as_json(cli: Cli, *args: object) -> list[dict]:
    return json.loads(ok(cli, *args, "-f", "json").stdout, parse_float=Decimal)


def stock_row(cli: Cli, code: str) -> dict:
    rows = as_json(cli, "stock", "--item", code)
    return rows[0] if rows else {}


# -- demand ------------------------------------------------------------------------------


def test_demand_add_list_cancel(cli: Cli, shop: Path) -> None:
    msg = ok(
        cli, "demand", "add", "HD", "5", "--due", day(10), "--kind", "sales", "--ref", "SO-7"
    ).stderr
    assert f"Added demand 1 (sales): 5 pcs HD due {day(10)}" in msg
    ok(cli, "demand", "add", "HD", "2.5", "--due", day(3), "--kind", "Forecast")
    ok(cli, "demand", "add", "SCREW", "100", "--due", day(1), "--kind", "forecast")
    rows = as_json(cli, "demand", "list")
    assert [(r["demand"], r["item"], r["qty"], r["kind"]) for r in rows] == [
        (3, "SCREW", 100, "forecast"),
        (2, "HD", Decimal("2.5"), "forecast"),
        (1, "HD", 5, "sales"),
    ]
    assert rows[2]["ref"] == "SO-7" and rows[2]["state"] == "open" and rows[2]["user"] == "tester"
    assert [r["demand"] for r in as_json(cli, "demand", "list", "--item", "HD")] == [2, 1]
    assert [r["demand"] for r in as_json(cli, "demand", "list", "--kind", "sales")] == [1]
    assert "Cancelled demand 2: 2.5 pcs HD" in ok(cli, "demand", "cancel", "2").stderr
    assert [r["demand"] for r in as_json(cli, "demand", "list")] == [3, 1]
    every = as_json(cli, "demand", "list", "--all")
    assert [(r["demand"], r["state"]) for r in every] == [
        (3, "open"),
        (2, "cancelled"),
        (1, "open"),
    ]
    assert "HD" in cli("demand", "list").stdout  # the table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "NOPE", "1", "--due", day(1), "--kind", "sales"), "unknown item 'NOPE'"),
        (("add", "OLD", "1", "--due", day(1), "--kind", "sales"), "OLD"),
        (("add", "HD", "0", "--due", day(1), "--kind", "sales"), "greater than zero"),
        (("add", "HD", "1", "--due", "soon", "--kind", "sales"), "not a date"),
        (("add", "HD", "1", "--due", day(1), "--kind", "wish"), "--kind must be one of sales"),
        (("list", "--kind", "wish"), "--kind must be one of sales, forecast"),
        (("cancel", "9"), "no demand 9"),
        (("cancel", "x"), "not a demand number"),
    ],
)
def test_demand_refusals(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    assert message in refused(cli, shop, "demand", *args)


def test_demand_cancelled_twice_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "demand", "add", "HD", "5", "--due", day(10), "--kind", "sales")
    ok(cli, "demand", "cancel", "1")
    assert "demand 1 is cancelled: only open demand is cancelled" in refused(
        cli, shop, "demand", "cancel", "1"
    )


def test_demand_add_without_kind_is_a_usage_error(cli: Cli, shop: Path) -> None:
    refused(cli, shop, "demand", "add", "HD", "5", "--due", day(1), code=2)


# -- purchase orders ---------------------------------------------------------------------


def test_purchase_add_list_cancel(cli: Cli, shop: Path) -> None:
    msg = ok(cli, "purchase", "add", "SCREW", "500", "--due", day(14), "--supplier", "Würth",
             "--ref", "Q-1", "--cost", "0.02").stderr  # fmt: skip
    assert f"Added purchase order 1: 500 pcs SCREW due {day(14)}" in msg
    ok(cli, "purchase", "add", "MIC", "10", "--due", day(5))
    rows = as_json(cli, "purchase", "list")
    assert [(r["po"], r["item"], r["qty"], r["open"], r["state"]) for r in rows] == [
        (2, "MIC", 10, 10, "open"),
        (1, "SCREW", 500, 500, "open"),
    ]
    assert (rows[1]["supplier"], rows[1]["ref"], rows[1]["unit_cost"]) == (
        "Würth",
        "Q-1",
        Decimal("0.02"),
    )
    assert rows[0]["unit_cost"] is None
    assert [r["po"] for r in as_json(cli, "purchase", "list", "--item", "SCREW")] == [1]
    assert (
        "Cancelled purchase order 2: 0 of 10 pcs MIC received"
        in ok(cli, "purchase", "cancel", "PO-2").stderr
    )
    assert [r["po"] for r in as_json(cli, "purchase", "list")] == [1]
    every = as_json(cli, "purchase", "list", "--all")
    assert [(r["po"], r["state"], r["open"]) for r in every] == [
        (2, "cancelled", 0),
        (1, "open", 500),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("add", "HD", "1", "--due", day(1)),
            "HD is a make item: purchase orders are for buy items",
        ),
        (("add", "NOPE", "1", "--due", day(1)), "unknown item 'NOPE'"),
        (("add", "OLD", "1", "--due", day(1)), "OLD"),
        (("add", "SCREW", "0", "--due", day(1)), "greater than zero"),
        (("add", "SCREW", "1", "--due", "later"), "not a date"),
        (("add", "SCREW", "1", "--due", day(1), "--cost", "-1"), "must not be negative"),
        (("add", "SCREW", "0.0000001", "--due", day(1)), "decimal places"),
        (("cancel", "7"), "no purchase order 7"),
        (("receive", "7"), "no purchase order 7"),
        (("receive", "PO-x"), "not a purchase order number"),
    ],
)
def test_purchase_refusals(cli: Cli, shop: Path, args: tuple[str, ...], message: str) -> None:
    assert message in refused(cli, shop, "purchase", *args)


def test_a_partial_then_full_receipt_moves_stock_as_stock_receive(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "SCREW", "500", "--due", day(14), "--cost", "0.02")
    assert stock_row(cli, "SCREW")["on_order"] == 500
    msg = ok(cli, "purchase", "receive", "1", "--qty", "200").stderr
    assert "Received 200 pcs SCREW against purchase order 1: 200 of 500 received, open" in msg
    row = stock_row(cli, "SCREW")
    assert (row["available"], row["on_order"]) == (200, 300)
    assert as_json(cli, "purchase", "list")[0]["open"] == 300
    msg = ok(cli, "purchase", "receive", "1").stderr  # the rest
    assert "Received 300 pcs SCREW against purchase order 1: 500 of 500 received, received" in msg
    row = stock_row(cli, "SCREW")
    assert (row["available"], row["on_order"]) == (500, 0)
    assert as_json(cli, "purchase", "list") == []
    assert as_json(cli, "purchase", "list", "--all")[0]["state"] == "received"
    conn = sqlite3.connect(shop)
    try:
        moves = conn.execute(
            "SELECT m.qty, m.kind, m.ref, m.unit_cost, m.to_status, f.code FROM move AS m "
            "JOIN location AS f ON f.id = m.from_location_id ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()
    assert moves == [
        (200_000_000, "receipt", "PO-1", 20_000, "available", "SUPPLIER"),
        (300_000_000, "receipt", "PO-1", 20_000, "available", "SUPPLIER"),
    ]
    assert "only an open one can be received" in refused(cli, shop, "purchase", "receive", "1")
    assert "only an open one can be cancelled" in refused(cli, shop, "purchase", "cancel", "1")


def test_an_inspected_lot_item_is_received_into_pending_inspection(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "MIC", "10", "--due", day(5))
    r = ok(
        cli,
        "purchase",
        "receive",
        "1",
        "--qty",
        "4",
        "--lot",
        "L1",
        "--location",
        "stores",
        "-f",
        "json",
    )
    [move] = json.loads(r.stdout)
    assert (move["lot"], move["qty"], move["to"], move["ref"]) == (
        "L1",
        4,
        "STORES/pending_inspection",
        "PO-1",
    )
    row = stock_row(cli, "MIC")
    assert (row["pending_inspection"], row["available"], row["on_order"]) == (4, 0, 6)
    assert "MIC is lot-tracked" in refused(cli, shop, "purchase", "receive", "1")  # no lot


def test_serials_default_the_quantity_to_their_number(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "CAP", "3", "--due", day(5))
    ok(cli, "purchase", "receive", "1", "--serial", "C1", "--serial", "C2")
    assert as_json(cli, "purchase", "list")[0]["open"] == 1
    assert stock_row(cli, "CAP")["available"] == 2
    assert "must equal the number of serials" in refused(
        cli, shop, "purchase", "receive", "1", "--qty", "1", "--serial", "C3", "--serial", "C4"
    )
    assert "already" in refused(cli, shop, "purchase", "receive", "1", "--serial", "C1")
    ok(cli, "purchase", "receive", "1", "--serial", "C3")
    assert as_json(cli, "purchase", "list", "--all")[0]["state"] == "received"


def test_over_receipt_is_refused(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "SCREW", "10", "--due", day(5))
    ok(cli, "purchase", "receive", "1", "--qty", "4")
    msg = refused(cli, shop, "purchase", "receive", "1", "--qty", "7")
    assert "purchase order 1 has 6 pcs SCREW open (ordered 10, received 4): cannot receive 7" in msg
    assert "greater than zero" in refused(cli, shop, "purchase", "receive", "1", "--qty", "0")
    assert (
        "unknown location"
        in refused(cli, shop, "purchase", "receive", "1", "--location", "NOWHERE").lower()
    )


def test_cancelling_a_partly_received_order_keeps_its_stock(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "SCREW", "10", "--due", day(5))
    ok(cli, "purchase", "receive", "1", "--qty", "4")
    assert (
        "Cancelled purchase order 1: 4 of 10 pcs SCREW received"
        in ok(cli, "purchase", "cancel", "1").stderr
    )
    row = stock_row(cli, "SCREW")
    assert (row["available"], row["on_order"]) == (4, 0)


def test_on_order_adds_open_purchase_orders_to_production_orders(cli: Cli, shop: Path) -> None:
    ok(cli, "purchase", "add", "SCREW", "100", "--due", day(5))
    ok(cli, "purchase", "add", "SCREW", "50", "--due", day(9))
    ok(cli, "purchase", "add", "SCREW", "7", "--due", day(9))
    ok(cli, "purchase", "cancel", "3")
    ok(cli, "purchase", "receive", "2", "--qty", "20")
    assert stock_row(cli, "SCREW")["on_order"] == 130
    # Not per lot, not for one location, not as of a past date.
    rows = as_json(cli, "stock", "--item", "SCREW", "--location", "STORES")
    assert {r["on_order"] for r in rows} == {0}


# -- quantities in another unit (--unit) ---------------------------------------------------


@pytest.fixture
def reels(shop: Path) -> Path:
    """WIRE is bought by the metre, on reels of 500 m; a box of TAPE holds 3 rolls."""
    conn = dbmod.connect(shop)
    try:
        with dbmod.transaction(conn):
            item(conn, "WIRE", unit="m", units={"reel": 500, "cm": Decimal("0.01")})
            item(conn, "TAPE", unit="roll", units={"box": 3})
    finally:
        conn.close()
    return shop


def test_purchase_add_unit_converts_qty_and_cost_exactly(cli: Cli, reels: Path) -> None:
    msg = ok(cli, "purchase", "add", "WIRE", "2.5", "--unit", "reel", "--cost", "60",
             "--due", day(7)).stderr  # fmt: skip
    assert f"Added purchase order 1: 1250 m WIRE due {day(7)}" in msg
    ok(cli, "purchase", "add", "WIRE", "30", "-u", "cm", "--due", day(8))
    ok(cli, "purchase", "add", "TAPE", "2", "--unit", "box", "--cost", "1.5", "--due", day(9))
    rows = as_json(cli, "purchase", "list")
    assert [(r["item"], r["qty"], r["unit"], r["unit_cost"]) for r in rows] == [
        ("WIRE", 1250, "m", Decimal("0.12")),  # 60 per reel of 500 m
        ("WIRE", Decimal("0.3"), "m", None),
        ("TAPE", 6, "roll", Decimal("0.5")),
    ]
    assert stock_row(cli, "WIRE")["on_order"] == Decimal("1250.3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("WIRE", "1", "--unit", "box"),
            "unit 'box' cannot convert to WIRE's base unit 'm' (known: m, cm, reel)",
        ),
        (("SCREW", "1", "--unit", "reel"), "unit 'reel' cannot convert to SCREW's base unit"),
        (("WIRE", "0.00001", "--unit", "cm"), "quantity in m 0.0000001 has more than 6 decimal"),
        (
            ("TAPE", "1", "--unit", "box", "--cost", "1"),
            "cost 1 per box is 0.333333333... per roll, more than 6 decimal places: give the "
            "cost per roll instead",
        ),
        (("WIRE", "1", "--unit", "reel", "--cost", "-1"), "must not be negative"),
    ],
)
def test_purchase_add_unit_refusals(
    cli: Cli, reels: Path, args: tuple[str, ...], message: str
) -> None:
    assert message in refused(cli, reels, "purchase", "add", *args, "--due", day(3))


def test_purchase_receive_unit_converts_the_quantity(cli: Cli, reels: Path) -> None:
    ok(cli, "purchase", "add", "WIRE", "2", "--unit", "reel", "--cost", "50", "--due", day(7))
    msg = ok(cli, "purchase", "receive", "PO-1", "--qty", "1.5", "--unit", "reel").stderr
    assert "Received 750 m WIRE against purchase order 1: 750 of 1000 received, open" in msg
    row = stock_row(cli, "WIRE")
    assert (row["available"], row["on_order"]) == (750, 250)
    msg = ok(cli, "purchase", "receive", "1", "--qty", "25000", "--unit", "cm").stderr
    assert "Received 250 m WIRE against purchase order 1: 1000 of 1000 received, received" in msg
    conn = sqlite3.connect(reels)
    try:
        moves = conn.execute("SELECT qty, ref, unit_cost FROM move ORDER BY seq").fetchall()
    finally:
        conn.close()
    # The order's cost per base unit (50 per reel of 500 m), whatever unit was received in.
    assert moves == [(750_000_000, "PO-1", 100_000), (250_000_000, "PO-1", 100_000)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--qty", "1", "--unit", "box"), "unit 'box' cannot convert to WIRE's base unit 'm'"),
        (("--unit", "reel"), "--unit reel is the unit of --qty: give --qty too"),
        (
            ("--qty", "3", "--unit", "reel"),
            "purchase order 1 has 1000 m WIRE open (ordered 1000, received 0): cannot "
            "receive 1500 (3 reel) against it",
        ),
        (("--qty", "0.00001", "--unit", "cm"), "has more than 6 decimal places"),
        (("--qty", "0", "--unit", "reel"), "greater than zero"),
    ],
)
def test_purchase_receive_unit_refusals(
    cli: Cli, reels: Path, args: tuple[str, ...], message: str
) -> None:
    ok(cli, "purchase", "add", "WIRE", "2", "--unit", "reel", "--due", day(7))
    assert message in refused(cli, reels, "purchase", "receive", "1", *args)
    assert as_json(cli, "purchase", "list")[0]["received"] == 0


def test_demand_add_unit_converts_the_quantity(cli: Cli, reels: Path) -> None:
    msg = ok(cli, "demand", "add", "WIRE", "0.5", "--unit", "reel", "--due", day(4),
             "--kind", "sales").stderr  # fmt: skip
    assert f"Added demand 1 (sales): 250 m WIRE due {day(4)}" in msg
    assert "unit 'box' cannot convert to WIRE's base unit 'm'" in refused(
        cli, reels, "demand", "add", "WIRE", "1", "--unit", "box", "--due", day(4),
        "--kind", "sales",
    )  # fmt: skip
    assert [r["qty"] for r in as_json(cli, "demand", "list")] == [250]

"""``mfgctl report slow-moving``, ``report late`` and ``report suppliers``: small
hand-worked stories with dates relative to today."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import Cli, day, import_yaml, ok, refused

from mfgctl import db as dbmod
from mfgctl.domain import items, ledger

SHOP = """\
items:
  - {code: OLD, name: Old bracket, type: component, unit: pcs, make_or_buy: buy, cost: 0.5}
  - {code: USED, name: Used clip, type: component, unit: pcs, make_or_buy: buy, cost: 0.2}
  - {code: NEW, name: New gasket, type: component, unit: pcs, make_or_buy: buy}
  - {code: SOLD, name: Spare part, type: component, unit: pcs, make_or_buy: buy, cost: 3}
  - {code: BOX, name: Box, type: packaging, unit: pcs, make_or_buy: buy,
     purchase_lead_time_days: 7}
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make}
boms:
  - item: P
    lines:
      - {item: USED, qty: 1}
      - {item: BOX, qty: 1}
"""


@pytest.fixture
def shop(cli: Cli, initdb: Path, tmp_path: Path) -> Path:
    import_yaml(cli, tmp_path, SHOP)
    return initdb


def report(cli: Cli, *args: object) -> dict | list:
    return json.loads(ok(cli, "report", *args, "-f", "json").stdout)


def ship(path: Path, item: str, qty: str, when: str) -> None:
    """A back-dated shipment to the customer (an issue), posted through the ledger."""
    conn = dbmod.connect(path)
    try:
        with dbmod.transaction(conn):
            ledger.post(
                conn,
                item=items.get(conn, item),
                qty=Decimal(qty),
                source=ledger.real_place(conn, "STORES", "available"),
                target=ledger.virtual(conn, "CUSTOMER"),
                kind="ship",
                user="t",
                effective_at=ledger.effective(when),
            )
    finally:
        conn.close()


# -- slow-moving --------------------------------------------------------------------------


def test_slow_moving_stock_vs_recently_consumed(cli: Cli, shop: Path) -> None:
    # OLD: 40 in 200 days ago, never issued -> idle 200 days, 40 x 0.5 = 20.
    ok(cli, "stock", "receive", "OLD", "40", "--date", day(-200))
    # USED: 30 in 200 days ago, 5 consumed into an order today -> idle 0.
    ok(cli, "stock", "receive", "USED", "30", "--date", day(-200))
    ok(cli, "stock", "receive", "BOX", "30", "--date", day(-200))
    ok(cli, "order", "create", "P", "5", "--due", day(10))
    ok(cli, "order", "release", 1)
    ok(cli, "consume", 1, "--item", "USED", "--qty", "5")
    # NEW: 12 in 10 days ago, never issued -> idle 10 days, no cost.
    ok(cli, "stock", "receive", "NEW", "12", "--date", day(-10))
    # SOLD: 10 in 300 days ago, 4 shipped 120 days ago -> idle 120 days, 6 x 3 = 18.
    ok(cli, "stock", "receive", "SOLD", "10", "--date", day(-300))
    ship(shop, "SOLD", "4", day(-120))
    rows = report(cli, "slow-moving")
    assert rows == [
        {"item": "BOX", "name": "Box", "unit": "pcs", "on_hand": 30, "last_issue": None,
         "last_move": day(-200), "idle_since": day(-200), "days_idle": 200, "cost": None,
         "value": None},
        {"item": "OLD", "name": "Old bracket", "unit": "pcs", "on_hand": 40, "last_issue": None,
         "last_move": day(-200), "idle_since": day(-200), "days_idle": 200, "cost": 0.5,
         "value": 20},
        {"item": "SOLD", "name": "Spare part", "unit": "pcs", "on_hand": 6,
         "last_issue": day(-120), "last_move": day(-120), "idle_since": day(-120),
         "days_idle": 120, "cost": 3, "value": 18},
    ]  # fmt: skip
    # 150 days: SOLD (idle 120) is no longer slow; 5 days: NEW (idle 10) is; USED never.
    assert [r["item"] for r in report(cli, "slow-moving", "--days", 150)] == ["BOX", "OLD"]
    assert [r["item"] for r in report(cli, "slow-moving", "--days", 5)] == [
        "BOX", "OLD", "SOLD", "NEW",
    ]  # fmt: skip
    assert "USED" not in ok(cli, "report", "slow-moving", "--days", 0).stdout


# -- late orders -----------------------------------------------------------------------------


def test_late_production_and_purchase_orders(cli: Cli, shop: Path) -> None:
    ok(cli, "stock", "receive", "USED", "30")
    ok(cli, "stock", "receive", "BOX", "2")
    # Order 1 due 5 days ago, released, 2 of 3 BOX consumed; order 2 due in 3 days.
    ok(cli, "order", "create", "P", "3", "--due", day(-5), "--ref", "SO-7")
    ok(cli, "order", "release", 1, "--partial")
    ok(cli, "consume", 1, "--item", "BOX", "--qty", "2")
    ok(cli, "order", "create", "P", "3", "--due", day(3))
    # A sales order for BOX as a spare.
    ok(cli, "demand", "add", "BOX", "1", "--due", day(20), "--kind", "sales", "--ref", "SO-9")
    # PO 1: 10 BOX due 12 days ago, 4 received; PO 2 due tomorrow; PO 3 due 2 days ago
    # but received in full (not open, so not late).
    ok(cli, "purchase", "add", "BOX", "10", "--due", day(-12), "--supplier", "Acme")
    ok(cli, "purchase", "receive", 1, "--qty", "4")
    ok(cli, "purchase", "add", "BOX", "10", "--due", day(1), "--supplier", "Acme")
    ok(cli, "purchase", "add", "OLD", "5", "--due", day(-2), "--supplier", "Bolt")
    ok(cli, "purchase", "receive", 3)
    body = report(cli, "late")
    assert body["production_orders"] == [
        {"order": 1, "item": "P", "name": "Product", "qty": 3, "good": 0, "remaining": 3,
         "unit": "pcs", "state": "in_progress", "due": day(-5), "days_late": 5, "ref": "SO-7"},
    ]  # fmt: skip
    # BOX waits for order 1 (needs 3, consumed 2) and for sales order SO-9.
    assert body["purchase_orders"] == [
        {"po": 1, "item": "BOX", "name": "Box", "supplier": "Acme", "qty": 10, "received": 4,
         "open": 6, "unit": "pcs", "due": day(-12), "days_late": 12, "ref": None,
         "needed_by": ["ORDER-1", "SO-9"]},
    ]  # fmt: skip
    lines = ok(cli, "report", "late", "-f", "plain").stdout.splitlines()
    assert lines[0] == "Production orders"
    assert lines[2].split("\t")[-2:] == ["5", "SO-7"]
    assert lines[-1].split("\t")[-3:] == ["12", "", "ORDER-1, SO-9"]


# -- suppliers -------------------------------------------------------------------------------


def placed(path: Path, po: int, when: str) -> None:
    """Say the purchase order was placed on ``when`` (``purchase add`` takes no date)."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(
                "UPDATE purchase_order SET created_at = ? WHERE id = ?",
                (f"{when}T12:00:00.000000Z", po),
            )
    finally:
        conn.close()


def test_supplier_promised_vs_actual(cli: Cli, shop: Path) -> None:
    # Acme: PO 1 BOX promised 4 days ago, received today (4 late), placed 10 days ago;
    # PO 2 BOX promised in 2 days, received today (2 early), placed 6 days ago;
    # PO 3 OLD promised today, received today (on time), placed 3 days ago.
    # Bolt: PO 4 OLD promised 1 day ago, received today (1 late). PO 5 is still open.
    ok(cli, "purchase", "add", "BOX", "10", "--due", day(-4), "--supplier", "Acme")
    ok(cli, "purchase", "add", "BOX", "10", "--due", day(2), "--supplier", "Acme")
    ok(cli, "purchase", "add", "OLD", "10", "--due", day(0), "--supplier", "Acme")
    ok(cli, "purchase", "add", "OLD", "10", "--due", day(-1), "--supplier", "Bolt")
    ok(cli, "purchase", "add", "OLD", "10", "--due", day(-30), "--supplier", "Bolt")
    for po, ago in ((1, -10), (2, -6), (3, -3), (4, -1)):
        placed(shop, po, day(ago))
        ok(cli, "purchase", "receive", po)
    ok(cli, "purchase", "receive", 5, "--qty", "3")  # partly received: not counted
    body = report(cli, "suppliers")
    # Acme delays 4, -2, 0: on time 2 of 3 = 66.67 %, average 2/3 = 0.7, worst 4.
    assert body["suppliers"] == [
        {"supplier": "Acme", "pos": 3, "on_time": 2, "on_time_pct": 66.67,
         "avg_delay_days": 0.7, "worst_delay_days": 4},
        {"supplier": "Bolt", "pos": 1, "on_time": 0, "on_time_pct": 0, "avg_delay_days": 1,
         "worst_delay_days": 1},
    ]  # fmt: skip
    # Acme BOX: lead times 10 and 6 days, average 8 vs the item's 7 -> +1.
    assert body["items"] == [
        {"supplier": "Acme", "item": "BOX", "pos": 2, "lead_time_days": 7,
         "observed_avg_days": 8, "observed_max_days": 10, "difference_days": 1},
        {"supplier": "Acme", "item": "OLD", "pos": 1, "lead_time_days": 0,
         "observed_avg_days": 3, "observed_max_days": 3, "difference_days": 3},
        {"supplier": "Bolt", "item": "OLD", "pos": 1, "lead_time_days": 0,
         "observed_avg_days": 1, "observed_max_days": 1, "difference_days": 1},
    ]  # fmt: skip
    assert body["deliveries"][0] == {
        "po": 1, "supplier": "Acme", "item": "BOX", "qty": 10, "unit": "pcs",
        "ordered_on": day(-10), "due": day(-4), "received_on": day(0), "delay_days": 4,
        "lead_days": 10,
    }  # fmt: skip
    assert [d["po"] for d in body["deliveries"]] == [1, 2, 3, 4]
    assert report(cli, "suppliers", "--since", day(1)) == {
        "suppliers": [], "items": [], "deliveries": [],
    }  # fmt: skip


# -- empty database and refusals --------------------------------------------------------------


def test_supply_reports_on_an_empty_database(cli: Cli, initdb: Path) -> None:
    assert report(cli, "slow-moving") == []
    assert report(cli, "late") == {"production_orders": [], "purchase_orders": []}
    assert report(cli, "suppliers") == {"suppliers": [], "items": [], "deliveries": []}
    for args, first in (
        (("slow-moving", "-f", "plain"), "item\tname\tunit\ton_hand"),
        (("late",), "Production orders"),
        (("suppliers",), "Suppliers"),
    ):
        r = ok(cli, "report", *args)
        assert r.stdout.startswith(first), r.stdout
    # CSV: each table's header line, a blank line between tables.
    r = ok(cli, "report", "late", "-f", "csv")
    production, purchase = r.stdout.split("\n\n")
    assert production.startswith("order,item,name,qty,good,remaining,")
    assert purchase.startswith("po,item,name,supplier,")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("slow-moving", "--days", "-1"), "--days must be 0 or more, got -1"),
        (("slow-moving", "--days", "many"), "--days 'many' is not a whole number"),
        (("suppliers", "--since", "2026-02-30"), "--since '2026-02-30' is not a date"),
    ],
)
def test_bad_options_are_refused(cli: Cli, shop: Path, args: tuple, message: str) -> None:
    ok(cli, "stock", "receive", "OLD", "40", "--date", day(-200))
    assert message in refused(cli, shop, "report", *args)

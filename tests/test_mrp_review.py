"""Cases a planner checked by hand against textbook MRP (a review of the engine): each
YAML is the reviewer's, each expected number worked out by hand."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import Cli, import_yaml, ok

START = "2027-01-04"  # a Monday


def plan(cli: Cli, tmp_path: Path, text: str, *args: str) -> dict:
    import_yaml(cli, tmp_path, text)
    r = cli("mrp", "--start", START, *args, "-f", "json")
    assert r.exit_code in (0, 3), r.stderr
    return json.loads(r.stdout)


def messages(doc: dict, *codes: str) -> set[tuple[str, str]]:
    return {(e["code"], e["ref"]) for e in doc["exceptions"] if e["code"] in codes}


def orders(doc: dict) -> list[tuple[str, object]]:
    return sorted((o["item"], o["qty"]) for o in doc["planned_orders"])


RECEIPTS = """
items:
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
purchase_orders:
  - {item: C, qty: 10, due: 2027-01-20, ref: PA}
  - {item: C, qty: 10, due: 2027-01-25, ref: PB}
demand:
"""


def test_two_receipts_for_one_later_need_one_is_delayed_the_other_cancelled(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = RECEIPTS + "  - {item: C, qty: 10, due: 2027-02-10, kind: sales, ref: D2}\n"
    doc = plan(cli, tmp_path, text, "--bucket", "day")
    assert messages(doc, "expedite", "delay", "cancel") == {("delay", "PO-1"), ("cancel", "PO-2")}
    (delay,) = [e for e in doc["exceptions"] if e["code"] == "delay"]
    assert delay["message"] == "PO-1 due 2027-01-20 is not needed before 2027-02-10: delay it"


def test_two_receipts_for_one_early_gap_only_the_first_is_expedited(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = RECEIPTS + "  - {item: C, qty: 10, due: 2027-01-13, kind: sales, ref: D1}\n"
    doc = plan(cli, tmp_path, text)
    assert messages(doc, "expedite", "delay", "cancel") == {
        ("expedite", "PO-1"),
        ("cancel", "PO-2"),
    }


def test_orders_just_firmed_are_not_told_to_cancel(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    text = """
items:
  - {code: X, name: X, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2}
demand:
  - {item: X, qty: 10, due: 2027-01-13, kind: sales, ref: S1}
  - {item: X, qty: 15, due: 2027-01-27, kind: sales, ref: S2}
"""
    doc = plan(cli, tmp_path, text)
    assert orders(doc) == [("X", 10), ("X", 15)]
    ok(cli, "mrp", "firm", "--all", "--start", START)
    again = json.loads(ok(cli, "mrp", "--start", START, "-f", "json").stdout)
    assert again["planned_orders"] == []
    assert messages(again, "expedite", "delay", "cancel", "overdue_receipt") == set()


def test_a_substitutes_stock_serves_its_own_demand_first(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = """
items:
  - {code: A, name: A, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: L, name: L, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
  - {code: S, name: S, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
boms:
  - item: A
    lines: [{item: L, qty: 1, substitutes: [S]}]
stock:
  - {item: S, qty: 4}
demand:
  - {item: A, qty: 10, due: 2027-01-13, kind: sales, ref: SO1}
  - {item: S, qty: 3, due: 2027-01-05, kind: sales, ref: SS1}
"""
    doc = plan(cli, tmp_path, text)
    # S's own sale takes 3 of its 4: one S stands in for L, 9 L are bought, no S.
    assert orders(doc) == [("A", 10), ("L", 9)]
    (sub,) = [e for e in doc["exceptions"] if e["code"] == "substitute"]
    assert "use 1 S" in sub["message"]


def test_a_period_of_14_days_from_a_wednesday_covers_two_weekly_needs(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    dues = ["2027-01-06", "2027-01-13", "2027-01-20", "2027-01-27", "2027-02-03", "2027-02-10"]
    text = (
        "items:\n"
        "  - {code: XP, name: p, type: component, unit: pcs, make_or_buy: buy,"
        " lead_time_days: 0, lot_sizing: period, period_days: 14}\n"
        "demand:\n" + "".join(f"  - {{item: XP, qty: 10, due: {d}, kind: sales}}\n" for d in dues)
    )
    doc = plan(cli, tmp_path, text)
    # From each order's due date, 14 days: that Wednesday and the next, not a third.
    assert sorted((o["due_date"], o["qty"]) for o in doc["planned_orders"]) == [
        ("2027-01-06", 20),
        ("2027-01-20", 20),
        ("2027-02-03", 20),
    ]


def test_make_to_order_orders_follow_minimum_multiple_and_maximum(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = """
items:
  - {code: PM, name: PM, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2,
     method: make_to_order, moq: 5, order_multiple: 2, max_order_qty: 6}
  - {code: KM, name: KM, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
boms:
  - item: PM
    lines: [{item: KM, qty: 1}]
demand:
  - {item: PM, qty: 4, due: 2027-01-13, kind: sales, ref: M1}
  - {item: PM, qty: 13, due: 2027-01-14, kind: sales, ref: M2}
  - {item: PM, qty: 3, due: 2027-01-20, kind: sales, ref: M3}
"""
    doc = plan(cli, tmp_path, text)
    pm = sorted((o["due_date"], o["qty"]) for o in doc["planned_orders"] if o["item"] == "PM")
    # M1 4 -> 5 (minimum) -> 6 (multiple), 2 over; M2 13 - 2 = 11 -> 12 -> 6 + 6 (maximum
    # 6), 1 over; the week after, M3 3 - 1 = 2 -> 6. Weekly and daily buckets agree.
    expected = [("2027-01-13", 6), ("2027-01-14", 6), ("2027-01-14", 6), ("2027-01-20", 6)]
    assert pm == expected
    daily = json.loads(ok(cli, "mrp", "--start", START, "--bucket", "day", "-f", "json").stdout)[
        "planned_orders"
    ]
    assert sorted((o["due_date"], o["qty"]) for o in daily if o["item"] == "PM") == expected


def test_assemble_to_order_stock_covers_the_forecast_before_its_components(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = """
items:
  - {code: PA, name: PA, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2,
     method: assemble_to_order}
  - {code: KA, name: KA, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
boms:
  - item: PA
    lines: [{item: KA, qty: 2}]
stock:
  - {item: PA, qty: 50}
demand:
  - {item: PA, qty: 10, due: 2027-01-13, kind: sales, ref: A1}
  - {item: PA, qty: 30, due: 2027-01-15, kind: forecast}
"""
    # 50 in stock: 10 for A1, 40 spare cover the 20 of forecast A1 did not consume.
    assert plan(cli, tmp_path, text)["planned_orders"] == []


def test_a_fixed_lot_raised_to_the_minimum_is_one_order_for_a_smaller_need(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = """
items:
  - {code: XFQ, name: q, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2,
     lot_sizing: fixed, fixed_order_qty: 20, moq: 50}
demand:
  - {item: XFQ, qty: 30, due: 2027-01-13, kind: sales, ref: FQ1}
"""
    assert orders(plan(cli, tmp_path, text)) == [("XFQ", 50)]


def test_a_substitute_keeps_its_safety_stock(cli: Cli, initdb: Path, tmp_path: Path) -> None:
    text = """
items:
  - {code: A, name: A, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: L, name: L, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
  - {code: S, name: S, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1,
     safety_stock: 4}
boms:
  - item: A
    lines: [{item: L, qty: 1, substitutes: [S]}]
stock:
  - {item: S, qty: 4}
demand:
  - {item: A, qty: 10, due: 2027-01-13, kind: sales, ref: SO1}
"""
    # S has nothing above its safety stock: L is bought in full, no S to refill.
    doc = plan(cli, tmp_path, text)
    assert orders(doc) == [("A", 10), ("L", 10)]
    assert messages(doc, "substitute") == set()


SHARED_SUBSTITUTE = """
items:
  - {code: A, name: A, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: USER, name: U, type: subassembly, unit: pcs, make_or_buy: make, lead_time_days: 3}
  - {code: L, name: L, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
  - {code: S, name: S, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
boms:
  - item: A
    lines: [{item: L, qty: 1, substitutes: [S]}, {item: USER, qty: 1}]
  - item: USER
    lines: [{item: S, qty: 1}]
stock:
  - {item: S, qty: 4}
demand:
  - {item: A, qty: 10, due: 2027-01-13, kind: sales, ref: SO1}
"""


@pytest.mark.parametrize("user", ["USER", "B"])
def test_a_substitute_needed_by_another_item_is_not_offered_whatever_the_codes(
    cli: Cli, initdb: Path, tmp_path: Path, user: str
) -> None:
    # The other user of S needs 10 (its order is released before L's need): S has
    # nothing spare, so L is bought in full and 6 S for that user. Whether its code sorts
    # after L's (USER) or before (B), the plan is the same.
    doc = plan(cli, tmp_path, SHARED_SUBSTITUTE.replace("USER", user))
    assert orders(doc) == sorted([("A", 10), ("L", 10), ("S", 6), (user, 10)])
    assert messages(doc, "substitute") == set()


def test_asked_about_one_item_the_report_names_the_shortage_that_endangers_it(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        """
items:
  - {code: A, name: A, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: C, name: C, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 10}
  - {code: E, name: E, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 1}
boms:
  - item: A
    lines: [{item: C, qty: 2}]
demand:
  - {item: A, qty: 5, due: 2027-01-07, kind: sales, ref: SA1}
""",
    )
    args = ("mrp", "--start", START, "--fail-on-shortage", "-f", "plain")
    r = cli(*args, "--item", "A")
    assert r.exit_code == 3
    assert r.stdout.splitlines()[2].split("\t")[:3] == ["C", "C", "10"]  # under Shortages
    assert "1 item short" in r.stderr
    r = cli(*args, "--item", "E")  # nothing of E's is short or endangered
    assert r.exit_code == 0 and "0 items short" in r.stderr


def test_check_warns_of_a_fixed_lot_above_the_maximum(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Entry refuses it now (test_t10_lot_rules_paths.py); stored before that rule:
    import_yaml(
        cli,
        tmp_path,
        """
items:
  - {code: XFM, name: m, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 2,
     lot_sizing: fixed, fixed_order_qty: 50}
""",
    )
    conn = sqlite3.connect(initdb)
    with conn:
        conn.execute("UPDATE item SET max_order_qty = 30000000 WHERE code = 'XFM'")
    conn.close()
    rows = json.loads(cli("check", "-f", "json").stdout)
    assert [r["subject"] for r in rows if r["check"] == "lot_rules"] == ["XFM"]

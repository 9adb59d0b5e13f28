"""Cases a planner checked by hand against textbook MRP (a review of the engine): each
YAML is the reviewer's, each expected number worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

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
    # 4 -> 5 (minimum) -> 6 (multiple); 13 -> 14 -> 6 + 6 + 2 -> 6 + 6 + 6 (maximum 6);
    # the week after, 7 are left over for M3's 3: no order.
    assert pm == [("2027-01-13", 6), ("2027-01-14", 6), ("2027-01-14", 6), ("2027-01-14", 6)]


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


def test_a_phantoms_stock_is_used_before_its_components(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    text = """
items:
  - {code: A,  name: A,  type: finished,    unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: PH, name: PH, type: subassembly, unit: pcs, make_or_buy: make, lead_time_days: 4}
  - {code: K,  name: K,  type: component,   unit: pcs, make_or_buy: buy,  lead_time_days: 1}
boms:
  - item: A
    lines: [{item: PH, qty: 2, phantom: true}]
  - item: PH
    lines: [{item: K, qty: 3}]
stock:
  - {item: PH, qty: 3}
demand:
  - {item: A, qty: 10, due: 2027-01-13, kind: sales, ref: SO1}
"""
    # 20 PH needed: 3 from its stock, 17 pass through: 51 K.
    assert orders(plan(cli, tmp_path, text)) == [("A", 10), ("K", 51)]

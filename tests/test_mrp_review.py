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

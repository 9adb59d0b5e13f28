"""A substitute stands in only for what an item's own stock cannot give, as order release
and backflush use it: MRP does not spend a substitute on the item's safety stock, it plans
the item's own replenishment (in time), and the release takes what the plan said."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

START = "2027-03-01"
SHOP = """
items:
  - {code: P, name: P, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 1}
  - {code: A, name: A, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7,
     safety_stock: 20}
  - {code: B, name: B sub, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7}
boms:
  - {item: P, lines: [{item: A, qty: 1, substitutes: [B]}]}
stock:
  - {item: A, qty: 100}
  - {item: B, qty: 40}
demand:
  - {item: P, qty: 110, due: 2027-03-10, kind: sales, ref: SO-1}
"""


def plan(cli: Cli) -> tuple[list[tuple[str, object, str]], list[str]]:
    doc = json.loads(ok(cli, "mrp", "--start", START, "-f", "json").stdout)
    orders = sorted((o["item"], o["qty"], o["release_date"]) for o in doc["planned_orders"])
    return orders, [e["message"] for e in doc["exceptions"] if e["code"] == "substitute"]


def test_safety_stock_is_rebuilt_with_the_item_not_its_substitute(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, SHOP)
    orders, substitutes = plan(cli)
    # 110 P need 110 A: A's 100 and 10 B. A falls to 0, below its safety stock of 20: 20 A
    # are bought, released 2027-03-02 (due 2027-03-09, 7 days' lead time), in time.
    assert orders == [("A", 20, "2027-03-02"), ("P", 110, "2027-03-09")]
    assert len(substitutes) == 1 and "use 10 B" in substitutes[0]
    # Firmed and released, the order takes what the plan said: 100 A and 10 B for A.
    ok(cli, "mrp", "firm", "--all", "--start", START)
    ok(cli, "order", "release", "1")
    shown = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)
    (a,) = shown["materials"]
    assert (a["item"], a["reserved"], a["substituted"]) == ("A", 100, 10)

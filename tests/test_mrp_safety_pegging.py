"""Safety stock in pegging: it is a requirement from the first bucket whose stock falls
below it, pegged after that bucket's other requirements. A planned order that only
rebuilds safety stock serves no customer, so when it is late it is an exception, never
a shortage naming a sales order that will be met on time."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: FG, name: Finished, type: finished, unit: pcs, make_or_buy: make,
     lead_time_days: 5, safety_stock: 20}
  - {code: C, name: Component, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 7}
boms:
  - item: FG
    lines:
      - {item: C, qty: 1}
demand:
  - {item: FG, qty: 25, due: 2030-01-23, kind: sales, ref: SO-9}
"""


def plan(cli: Cli, tmp_path: Path, *args: str) -> dict:
    import_yaml(cli, tmp_path, PLANT, "plant.yaml")
    r = cli("mrp", "--start", "2030-01-07", "--fail-on-shortage", *args, "-f", "json")
    assert r.exit_code == 0, r.stderr  # 3 would mean a shortage
    return json.loads(r.stdout)


def test_a_late_safety_stock_rebuild_endangers_no_sales_order(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    doc = plan(cli, tmp_path)
    labels = [d["label"] for d in doc["demands"]]
    served = {(o["item"], o["qty"]): sorted(labels[n] for n in o["demands"])
              for o in doc["planned_orders"]}  # fmt: skip
    # FG starts at 0, below its safety stock of 20: the first orders rebuild it; SO-9's
    # 25 is met on time by orders released after the start.
    assert served == {
        ("FG", 20): ["safety stock of FG"],
        ("C", 20): ["safety stock of FG"],
        ("FG", 25): ["sales 1 SO-9 (FG due 2030-01-23)"],
        ("C", 25): ["sales 1 SO-9 (FG due 2030-01-23)"],
    }
    assert doc["shortages"] == []
    assert sorted((e["code"], e["item"]) for e in doc["exceptions"]) == [
        ("inside_lead_time", "FG"),
        ("past_due", "C"),
    ]


def test_stock_that_covers_a_demand_is_pegged_to_it_before_safety_stock(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # 30 FG in stock: SO-9 (25) takes 25 of it; safety stock takes the other 5 and a
    # planned order of 15, which serves safety stock alone.
    ok(cli, "item", "add", "FG", "--name", "Finished", "--type", "finished", "--unit", "pcs",
       "--make-or-buy", "make")  # fmt: skip
    ok(cli, "stock", "receive", "FG", "30")
    doc = plan(cli, tmp_path)
    (fg,) = [o for o in doc["planned_orders"] if o["item"] == "FG"]
    assert fg["qty"] == 15 and fg["due_date"] == "2030-01-23"
    assert [doc["demands"][n]["kind"] for n in fg["demands"]] == ["safety_stock"]

"""MRP and ``mrp can-build`` require of a material what an order of the parent requires
(tester t16 #5): an item reached on a line and again through a phantom, or on two
lines, is summed exactly and rounded up to the micro-unit once, not once a path."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
- {code: FG, name: W, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
- {code: PH, name: Phantom kit, type: subassembly, unit: pcs, make_or_buy: make}
- {code: G, name: Glue, type: raw, unit: kg, make_or_buy: buy, cost: 10, lead_time_days: 3,
   moq: 1}
boms:
- item: FG
  output_qty: 3
  lines:
  - {item: PH, qty: 2, phantom: true}
  - {item: G, qty: 5, unit: g, fixed_qty: 100}
- item: PH
  output_qty: 2
  lines:
  - {item: G, qty: 1, unit: g}
stock:
- {item: G, qty: 0.12}
"""


def test_a_material_through_a_phantom_is_rounded_once(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    # 10 FG: 10/3 x 5 g + 100 g = 116.666...g, and 10/3 x 2 PH x 1/2 g = 3.333...g: 0.12 kg.
    # Before: "No", G short 0.000001.
    answer = json.loads(ok(cli, "mrp", "can-build", "FG", "10", "-f", "json").stdout)
    assert (answer["buildable"], answer["limiting"]) == (True, [])
    ok(cli, "order", "create", "FG", "10", "--due", "2027-01-29")
    [material] = json.loads(ok(cli, "order", "show", "1", "-f", "json").stdout)["materials"]
    assert (material["item"], material["required"]) == ("G", 0.12)
    doc = json.loads(
        ok(cli, "mrp", "--start", "2027-01-04", "--horizon", "60", "-f", "json").stdout
    )
    # Before: 0.116667 + 0.003334 = 0.120001 kg for ORDER-1, a purchase of 1 kg (the MOQ).
    assert doc["planned_orders"] == []
    assert doc["shortages"] == []
    ok(cli, "order", "release", "1")


def test_a_planned_parent_order_needs_its_material_rounded_once(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        PLANT + "demand:\n- {item: FG, qty: 10, due: 2027-02-26, kind: sales, ref: SO-1}\n",
    )
    doc = json.loads(
        ok(cli, "mrp", "--start", "2027-01-04", "--horizon", "60", "-f", "json").stdout
    )
    # FG 10 planned; its need of G is the order's 0.12 kg, in stock: nothing to buy.
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"]] == [("FG", 10)]
    grid = json.loads(
        ok(cli, "mrp", "grid", "G", "--start", "2027-01-04", "--horizon", "60", "-f", "json").stdout
    )
    assert [b["gross"] for b in grid["buckets"] if b["gross"]] == [0.12]

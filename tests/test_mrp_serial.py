"""A serial-tracked item is planned in whole units (each unit is its own serial): a
fractional need is rounded up, so every planned order can be firmed and received."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, import_yaml, ok

PLANT = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: S, name: Sensor, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5,
     tracking: serial, order_multiple: 0.5}
  - {code: M, name: Module, type: subassembly, unit: pcs, make_or_buy: make,
     method: make_to_order, lead_time_days: 1, tracking: serial}
  - {code: C, name: Chip, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 3}
boms:
  - item: P
    lines:
      - {item: S, qty: 0.5}
      - {item: M, qty: 0.25}
  - item: M
    lines:
      - {item: C, qty: 1}
demand:
  - {item: P, qty: 3, due: 2030-01-23, kind: sales, ref: SO-1}
"""


def test_fractional_needs_of_serial_items_are_planned_in_whole_units(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, PLANT)
    doc = json.loads(ok(cli, "mrp", "--start", "2030-01-07", "-f", "json").stdout)
    qty = {o["item"]: o["qty"] for o in doc["planned_orders"]}
    # 3 P need 1.5 S (order multiple 0.5, but a serial is whole: 2) and 0.75 M, made to
    # order, also rounded up to 1 (which needs 1 C).
    assert qty == {"P": 3, "S": 2, "M": 1, "C": 1}
    ok(cli, "mrp", "firm", "--all", "--start", "2030-01-07")
    received = ok(cli, "purchase", "receive", "1", "--serial", "S-1", "--serial", "S-2")
    assert "2 pcs S" in received.stderr


# One serial S makes three P (output 3): an order of 10 P needs 3 1/3 S, which no shop can
# take from stock - it takes 4 serials.
THIRDS = """
items:
  - {code: P, name: Product, type: finished, unit: pcs, make_or_buy: make, lead_time_days: 2}
  - {code: S, name: Panel, type: component, unit: pcs, make_or_buy: buy, lead_time_days: 5,
     tracking: serial}
boms:
  - item: P
    output_qty: 3
    lines:
      - {item: S, qty: 1}
"""


def _order_requirement(cli: Cli, order: str) -> str:
    shown = json.loads(ok(cli, "order", "show", order, "-f", "json").stdout)
    (material,) = shown["materials"]
    return str(material["required"])


def test_an_order_requires_whole_serials_of_a_serial_tracked_material(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(cli, tmp_path, THIRDS)
    ok(cli, "order", "create", "P", "10", "--due", "2030-01-20")
    assert _order_requirement(cli, "1") == "4"


def test_mrp_needs_whole_serials_per_order_not_a_unit_more_for_the_rounding(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    # Three orders of 10 P need 4 S each: 12 in all. Counted in millionths they were
    # 3.333334 each, 10.000002 together, which rounded up to 11: one order short.
    import_yaml(cli, tmp_path, THIRDS)
    for day in ("2030-01-20", "2030-01-21", "2030-01-22"):
        ok(cli, "order", "create", "P", "10", "--due", day)
    doc = json.loads(ok(cli, "mrp", "--start", "2030-01-07", "-f", "json").stdout)
    assert [(o["item"], o["qty"]) for o in doc["planned_orders"]] == [("S", 12)]


def test_a_planned_order_firmed_asks_for_what_mrp_planned_of_a_serial_material(
    cli: Cli, initdb: Path, tmp_path: Path
) -> None:
    import_yaml(
        cli,
        tmp_path,
        THIRDS + "demand:\n  - {item: P, qty: 10, due: 2030-01-23, kind: sales, ref: SO-1}\n",
    )
    doc = json.loads(ok(cli, "mrp", "--start", "2030-01-07", "-f", "json").stdout)
    assert {o["item"]: o["qty"] for o in doc["planned_orders"]} == {"P": 10, "S": 4}
    ok(cli, "mrp", "firm", "--all", "--start", "2030-01-07")
    assert _order_requirement(cli, "1") == "4"
    # Firmed: the order and the purchase order cover each other, nothing is planned again.
    again = json.loads(ok(cli, "mrp", "--start", "2030-01-07", "-f", "json").stdout)
    assert again["planned_orders"] == []
